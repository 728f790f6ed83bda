"""`projectk` command line: the operator's tool on the server.

Each command group lives in its own module; this module only lists them.

Invariants:
- Importing this module, and `projectk --help`, load click and nothing heavy: each command's
  module is imported only when that command runs or shows its own help (`cli.lazy`), and the
  summaries below are the ones the commands give themselves (a test compares them).
- A command module imports at its top only what all of its commands need; what one command
  needs is imported inside that command.
- Settings and logging are set up in the root callback, which runs before any command but not
  for the root's own `--help`.
"""

from __future__ import annotations

import click

from cli.lazy import LazyCommand, LazyGroup

COMMANDS = (
    LazyCommand(
        "backup",
        "cli.ops:backup",
        "Write the ledger and the (still encrypted) vault into one archive.",
    ),
    LazyCommand("bench", "cli.bench:bench", "Benchmarks on the local sandbox."),
    LazyCommand(
        "bot",
        "cli.bot:bot",
        "Run the Telegram bot (the one poller of the configured token) until SIGTERM.",
    ),
    LazyCommand(
        "codec-key",
        "cli.ops:codec_key",
        "Print a new random payload key for PROJECTK_PAYLOAD_KEY (store it like a password).",
    ),
    LazyCommand(
        "codec-server",
        "cli.ops:codec_server",
        "Serve /encode and /decode for the Temporal UI (needs PROJECTK_PAYLOAD_KEY).",
    ),
    LazyCommand(
        "dashboard",
        "cli.dashboard:dashboard",
        "Serve the read-only dashboard (localhost only unless a password is set).",
    ),
    LazyCommand("db", "cli.db:db", "Manage the ledger database (SQLite file or PostgreSQL)."),
    LazyCommand(
        "demo",
        "cli.run:demo",
        "Run the demo on the local sandbox; every process it starts is stopped at the end.",
    ),
    LazyCommand(
        "dev",
        "cli.dev:dev",
        "Run a local Temporal dev server (state kept in the data directory; not for production).",
    ),
    LazyCommand(
        "doctor",
        "cli.ops:doctor",
        "Check settings, Temporal, ledger, vault, RPC, CLOB and every follower wallet.",
    ),
    LazyCommand("fills", "cli.fills:fills", "Inspect source fills."),
    LazyCommand("pair", "cli.pair:pair", "Register, inspect and steer pairs."),
    LazyCommand(
        "ping",
        "cli.ops:ping",
        "Exit 0 when Temporal answers and the ledger is readable (for health checks).",
    ),
    LazyCommand(
        "restore",
        "cli.ops:restore",
        "Restore the ledger and vault from an archive (stop the services first).",
    ),
    LazyCommand(
        "sandbox",
        "sandbox.cli:sandbox_cli",
        "Local Polymarket replica: anvil (chain 137) + a CLOB V2-compatible server.",
    ),
    LazyCommand(
        "setup",
        "cli.ops:setup",
        "Migrate the ledger and register Temporal search attributes (safe to repeat).",
    ),
    LazyCommand(
        "stop",
        "cli.pair:stop",
        "Emergency-stop every pair (cancels open orders; only resume restarts a pair).",
    ),
    LazyCommand(
        "wallet",
        "cli.wallet:wallet",
        "Keys in the encrypted vault; everything else names them vault://NAME.",
    ),
    LazyCommand(
        "worker", "cli.run:worker", "Run a worker: every workflow and activity, until SIGTERM."
    ),
)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """ProjectK: mirror chosen Polymarket wallets, durably, under budgets and guards."""
    from projectk.logs import LogOptions, options_from_settings, setup_logging
    from projectk.settings import SettingsError, load_settings

    ctx.ensure_object(dict)
    try:  # settings are loaded once here; a bad one is reported by the command that needs it
        settings = ctx.obj["settings"] = ctx.obj.get("settings") or load_settings()
        setup_logging(options_from_settings(settings, verbose=verbose))
    except SettingsError:
        setup_logging(LogOptions(level="DEBUG" if verbose else "INFO"))
