"""`projectk` command line: the operator's tool on the server.

Each command group lives in its own module; this module only assembles them.
"""

from __future__ import annotations

import click

from cli.bench import bench
from cli.bot import bot
from cli.dashboard import dashboard
from cli.db import db
from cli.dev import dev
from cli.fills import fills
from cli.ops import COMMANDS as OPS_COMMANDS
from cli.pair import pair, stop
from cli.run import demo, worker
from cli.wallet import wallet
from projectk.logs import LogOptions, options_from_settings, setup_logging
from projectk.settings import SettingsError, load_settings
from sandbox.cli import sandbox_cli


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """ProjectK: mirror chosen Polymarket wallets, durably, under budgets and guards."""
    ctx.ensure_object(dict)
    try:  # settings are loaded once here; a bad one is reported by the command that needs it
        settings = ctx.obj["settings"] = ctx.obj.get("settings") or load_settings()
        setup_logging(options_from_settings(settings, verbose=verbose))
    except SettingsError:
        setup_logging(LogOptions(level="DEBUG" if verbose else "INFO"))


for command in (db, dev, pair, stop, worker, demo, wallet, bot, dashboard, *OPS_COMMANDS):
    main.add_command(command)
main.add_command(fills)
main.add_command(bench)
main.add_command(sandbox_cli)
