"""`projectk pair …` and `projectk stop`: register and steer pairs from the server's shell.

Invariants:
- Bad input prints a clear message and exits non-zero with nothing written and no workflow
  started or changed (validation happens in `control.pair_input` and `PairService` before any
  write).
- `pair add` and `pair guards` take the same guard options, parsed by the same functions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

import click
from pydantic import ValidationError

from adapters.ledger import open_ledger
from cli.common import UserError, get_settings, run
from control.pair_input import config_from_options, guards_from_options
from projectk.models import Guards
from projectk.money import AmountError, format_micro, parse_micro
from projectk.settings import Settings

if TYPE_CHECKING:
    from temporalio.client import Client

    from control.pairs import PairService

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


@asynccontextmanager
async def pair_service(
    settings: Settings, client: Client | None = None
) -> AsyncIterator[PairService]:
    """Yield a PairService wired to the configured (or the given) Temporal, ledger and vault."""
    from adapters.temporal import TemporalUnavailableError, connect
    from control.pairs import build_pair_service

    if client is None:
        try:
            client = await connect(settings)
        except TemporalUnavailableError as exc:
            raise UserError(str(exc)) from None
    yield build_pair_service(settings, client, open_ledger(settings))


def _call(ctx: click.Context, action: Callable[[PairService], Awaitable[T]]) -> T:
    from control.pairs import PairError

    # Tests put a Temporal client into the context object (one whose signals can be made to
    # fail); otherwise the configured server is connected to.
    root = ctx.find_root()
    injected = root.obj.get("temporal_client") if isinstance(root.obj, dict) else None

    async def go() -> T:
        async with pair_service(get_settings(ctx), injected) as service:
            return await action(service)

    try:
        return run(go())
    except PairError as exc:
        raise UserError(str(exc)) from None


@click.group()
def pair() -> None:
    """Register, inspect and steer pairs."""


def _guard_options(for_change: bool) -> Callable[[F], F]:
    """Return the guard options `pair add` and `pair guards` share (same names, same checks)."""
    d = Guards()

    def default(text: str) -> str:
        # `pair add` starts from the defaults; `pair guards` changes only the options given.
        return " Unchanged if not given." if for_change else f" Default {text}."

    options = [
        click.option(
            "--slippage-bps",
            type=int,
            help="BUYs' price cap above the source's price, in basis points."
            + default(str(d.slippage_bps)),
        ),
        click.option(
            "--exit-slippage-bps",
            type=int,
            help="SELLs' own price cap below the source's price, in basis points (0-5000)."
            + default(str(d.exit_slippage_bps)),
        ),
        click.option(
            "--max-failures",
            type=int,
            help="Consecutive failures before the pair is blocked."
            + default(str(d.max_consecutive_failures)),
        ),
        click.option(
            "--max-order",
            metavar="PUSD",
            help="Largest single order, pUSD, or off." + default("off"),
        ),
        click.option(
            "--max-market-exposure",
            metavar="PUSD",
            help="Most pUSD the pair may commit per market: the cost of its Yes and No "
            "positions together, including BUY orders in flight; pUSD, or off." + default("off"),
        ),
        click.option(
            "--daily-loss-limit",
            metavar="PUSD",
            help="Pause after losing this much pUSD in a day, or off." + default("off"),
        ),
        click.option(
            "--max-buy-age",
            metavar="SECONDS",
            help="Skip a source BUY older than this when it is seen."
            + default(f"{d.max_fill_age_s} s"),
        ),
        click.option(
            "--max-sell-age",
            metavar="SECONDS",
            help="Skip a source SELL older than this, or off (exits are never dropped for age)."
            + default("off"),
        ),
        click.option(
            "--max-book-distance",
            metavar="PRICE",
            help="Skip a source fill whose price is further than this from the book's mid at "
            "quote time: a price between 0 and 1, or off." + default(str(d.max_book_distance)),
        ),
    ]
    if for_change:
        options.append(
            click.option(
                "--buys-only/--buys-and-sells",
                default=None,
                help="Mirror the source's buys only, or its sells too. Unchanged if not given.",
            )
        )
    else:
        options.append(click.option("--buys-only", is_flag=True, help="Do not mirror sells."))

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@pair.command("add")
@click.argument("name")
@click.option("--source", required=True, help="Wallet to follow (checksummed address).")
@click.option("--follower", required=True, help="Wallet that mirrors it (checksummed address).")
@click.option("--key-ref", required=True, help="The follower's key in the vault: vault://NAME.")
@click.option("--budget", required=True, help="Total pUSD the pair may commit, e.g. 250.")
@click.option("--funder", default=None, help="Address holding the funds, if not the follower.")
@click.option(
    "--shared-funder",
    is_flag=True,
    help="The funder (or follower) wallet is shared with other pairs; every pair at that "
    "wallet must be registered with this flag.",
)
@click.option("--signature-type", type=click.IntRange(0, 3), default=0, show_default=True)
@click.option(
    "--sizing",
    type=click.Choice(["fixed", "proportional", "percent_shares"]),
    default="fixed",
    show_default=True,
)
@click.option("--amount", default="5", show_default=True, help="pUSD, ratio or percent.")
@_guard_options(for_change=False)
@click.option(
    "--order-type",
    type=click.Choice(["FAK", "FOK", "GTC"]),
    default="FAK",
    show_default=True,
    help="FAK takes what the book has now, FOK all or nothing; GTC rests until the mirror's "
    "deadline and, like any resting order, needs the market's minimum size (usually 5 shares).",
)
@click.pass_context
def add(ctx: click.Context, /, name: str, **opts: object) -> None:
    """Register pair NAME and start mirroring."""
    try:
        config = config_from_options(name, opts)
    except (AmountError, ValidationError, ValueError) as exc:
        raise UserError(_readable(exc)) from None

    async def go(service: PairService) -> None:
        cursor = service.latest_cursor(config.source)
        await service.add(config, start_cursor=cursor)

    _call(ctx, go)
    click.echo(f"pair {name} registered and running: {config.source} -> {config.follower}")


@pair.command("guards")
@click.argument("name")
@_guard_options(for_change=True)
@click.pass_context
def guards(ctx: click.Context, /, name: str, **opts: object) -> None:
    """Change the guards of pair NAME while it runs (only the options given)."""
    if all(value is None for value in opts.values()):
        raise UserError("give at least one guard option to change (see --help)")

    async def go(service: PairService) -> None:
        # The whole guards travel in the update: the pair's current ones, with the changes.
        current = (await service.state(name)).config.guards
        try:
            changed = guards_from_options(opts, current)
        except (AmountError, ValidationError, ValueError) as exc:
            raise UserError(_readable(exc)) from None
        await service.set_guards(name, changed)

    _call(ctx, go)
    click.echo(f"pair {name} guards changed; `projectk pair show {name}` shows them")


@pair.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include removed pairs.")
@click.pass_context
def list_(ctx: click.Context, include_removed: bool) -> None:
    """List registered pairs."""
    records = open_ledger(get_settings(ctx)).list_pairs(include_removed=include_removed)
    if not records:
        click.echo("no pairs yet: register one with `projectk pair add`")
        return
    for record in records:
        config = record.config
        click.echo(
            f"{config.pair_id:20} {record.status.value:8} {config.source} -> {config.follower}"
            f"  budget {format_micro(config.budget_micro)} pUSD"
        )


@pair.command("show")
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """Show a pair's live state from its workflow."""
    state = _call(ctx, lambda service: service.state(name))
    click.echo(state.model_dump_json(indent=2))


@pair.command("pause")
@click.argument("name")
@click.pass_context
def pause(ctx: click.Context, name: str) -> None:
    """Pause a pair (no new mirror orders)."""
    _call(ctx, lambda service: service.pause(name))
    click.echo(f"pair {name} paused")


@pair.command("resume")
@click.argument("name")
@click.pass_context
def resume(ctx: click.Context, name: str) -> None:
    """Resume a paused, blocked or stopped pair."""
    _call(ctx, lambda service: service.resume(name))
    click.echo(f"pair {name} resumed")


@pair.command("budget")
@click.argument("name")
@click.argument("amount")
@click.pass_context
def budget(ctx: click.Context, name: str, amount: str) -> None:
    """Set a pair's total budget in pUSD."""
    try:
        micro = parse_micro(amount, what="budget")
    except AmountError as exc:
        raise UserError(str(exc)) from None
    _call(ctx, lambda service: service.set_budget(name, micro))
    click.echo(f"pair {name} budget set to {format_micro(micro)} pUSD")


@pair.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, name: str, yes: bool) -> None:
    """Remove a pair: cancel its in-flight orders and end its workflow."""
    if not yes:
        click.confirm(f"Remove pair {name}?", abort=True)
    _call(ctx, lambda service: service.remove(name))
    click.echo(f"pair {name} removed")


@click.command("stop")
@click.option("--all", "stop_all", is_flag=True, required=True, help="Stop every pair.")
@click.option("--reason", default="emergency stop from the CLI", show_default=True)
@click.pass_context
def stop(ctx: click.Context, stop_all: bool, reason: str) -> None:
    """Emergency-stop every pair (cancels open orders; only resume restarts a pair)."""
    del stop_all
    result = _call(ctx, lambda service: service.stop_all(reason))
    click.echo(f"emergency stop sent to {len(result.stopped)} pair(s){_listed(result.stopped)}")
    if result.complete:
        return
    lines = ["emergency stop incomplete; NOT stopped (these may still be trading):"]
    lines += [f"  {name}: {error}" for name, error in result.failed.items()]
    if result.listing_error:
        lines.append(
            f"  the list of running pairs broke off ({result.listing_error}): "
            "pairs after it were not reached"
        )
    lines.append("run `projectk stop --all` again, or stop them in the Temporal UI")
    raise UserError("\n".join(lines))


def _listed(names: list[str]) -> str:
    return f": {', '.join(names)}" if names else ""


def _readable(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "value"
            parts.append(f"{where}: {error['msg']}")
        return "invalid pair: " + "; ".join(parts)
    return str(exc)
