"""`projectk dev up | down | status`: the local Temporal dev server, for local runs and tests.

Invariant: every failure is one `Error: …` line (plus the server's log tail when it would not
start) and a non-zero exit; `up` and `down` are safe to repeat.
"""

from __future__ import annotations

import click

from adapters.temporal import BinaryNotFoundError
from cli.common import UserError, get_settings, run
from cli.tools import devserver
from cli.tools.devserver import DevServerConfig, DevServerError, DevServerStatus


@click.group()
def dev() -> None:
    """Run a local Temporal dev server (state kept in the data directory; not for production)."""


def _config(ctx: click.Context) -> DevServerConfig:
    try:
        return DevServerConfig.from_settings(get_settings(ctx))
    except (DevServerError, BinaryNotFoundError) as exc:
        raise UserError(str(exc)) from None


def _echo_endpoints(config: DevServerConfig) -> None:
    click.echo(f"  address:  {config.address}  (namespace {config.namespace})")
    click.echo(f"  web UI:   {config.ui_url}")
    click.echo(f"  database: {config.db_path}")
    click.echo(f"  log:      {config.log_path}")


@dev.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=devserver.STARTUP_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait for the server to answer.",
)
@click.pass_context
def up(ctx: click.Context, timeout: float) -> None:
    """Start the dev server in the background, unless it already runs."""
    config = _config(ctx)
    try:
        result = run(devserver.start(config, timeout_s=timeout))
    except DevServerError as exc:
        raise UserError(str(exc)) from None
    if result.already_running:
        click.echo(f"Temporal dev server is already running (pid {result.pid}).")
    else:
        click.echo(f"Temporal dev server started (pid {result.pid}).")
    _echo_endpoints(config)


@dev.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=devserver.STOP_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait after SIGTERM before SIGKILL.",
)
@click.pass_context
def down(ctx: click.Context, timeout: float) -> None:
    """Stop the dev server; its state stays in the database file."""
    config = _config(ctx)
    try:
        pid = devserver.stop(config, timeout_s=timeout)
    except DevServerError as exc:
        raise UserError(str(exc)) from None
    if pid is None:
        click.echo("Temporal dev server is not running; nothing to stop.")
    else:
        click.echo(f"Temporal dev server (pid {pid}) stopped. State kept in {config.db_path}.")


@dev.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show whether the dev server runs, where, and whether its search attributes exist."""
    config = _config(ctx)
    found = run(devserver.status(config))
    click.echo(_describe(found))
    if found.running:
        _echo_endpoints(config)
        attributes = ", ".join(found.search_attributes) or "none"
        click.echo(f"  search attributes: {attributes}")
        if found.answering and found.missing_search_attributes:
            missing = ", ".join(found.missing_search_attributes)
            click.echo(f"  missing search attributes: {missing} (run `projectk dev up` to add)")


def _describe(found: DevServerStatus) -> str:
    if not found.running:
        return f"Temporal dev server: stopped (state in {found.db_path})."
    if not found.answering:
        return f"Temporal dev server: running (pid {found.pid}) but not answering yet."
    return f"Temporal dev server: running (pid {found.pid})."
