"""`projectk worker` and `projectk demo`: the long-running commands."""

from __future__ import annotations

import click

from cli.common import UserError, get_settings, run


@click.command("worker")
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Run a worker: every workflow and activity, until SIGTERM."""
    from adapters.polymarket import VenueConfigError
    from adapters.temporal import TemporalUnavailableError
    from workers.main import run_worker  # the composition root, loaded on use

    try:
        run(run_worker(get_settings(ctx)))
    except (VenueConfigError, TemporalUnavailableError) as exc:
        raise UserError(str(exc)) from None


@click.command("demo")
@click.option("--duration", type=float, default=None, help="Stop by itself after SECONDS.")
@click.option(
    "--block-time", type=float, default=2.0, show_default=True, help="Sandbox block time (s)."
)
@click.pass_context
def demo(ctx: click.Context, duration: float | None, block_time: float) -> None:
    """Run the demo on the local sandbox; every process it starts is stopped at the end."""
    from adapters.temporal import TemporalUnavailableError
    from cli.tools.demo import DemoError, DemoOptions, demo_log_options, run_demo
    from cli.tools.devserver import DevServerError
    from cli.tools.stop_signals import StopSignalled
    from control.pairs import PairError
    from projectk.logs import setup_logging

    settings = get_settings(ctx)
    verbose = bool(ctx.find_root().params.get("verbose"))
    # Library and module logs go to the demo's log file; the terminal keeps the demo's lines.
    setup_logging(demo_log_options(settings, verbose=verbose))
    options = DemoOptions(duration_s=duration, block_time_s=block_time)
    try:
        run(run_demo(settings, options, click.echo))
    except (KeyboardInterrupt, StopSignalled) as exc:
        why = f" ({exc})" if str(exc) else ""
        click.echo(f"demo interrupted{why}; everything it started has been stopped")
    except (DemoError, DevServerError, TemporalUnavailableError, PairError) as exc:
        raise UserError(str(exc)) from None
