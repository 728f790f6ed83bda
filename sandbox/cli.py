"""``projectk sandbox ...``: run the local Polymarket replica; fund, resolve, inject faults.

Invariants: all state lives in ``$PROJECTK_DATA_DIR/sandbox`` (default ~/.projectk/sandbox);
``down`` signals only the pids recorded by ``up`` and only if they still run the sandbox's own
commands; ``status --json`` prints exactly one JSON object.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
import httpx

from sandbox import trader as scripted
from sandbox.runtime import STATE_FILE, Sandbox, SandboxOptions, default_data_dir

_PROCESS_MARKERS = {"anvil": "anvil", "server": "sandbox.server"}
# `faults` options whose FaultConfig field is named differently
_FAULT_FIELDS = {
    "retry_after": "retry_after_s",
    "lost_delay": "lost_delay_s",
    "trades_delay": "trades_delay_s",
}


def _state_dir(data_dir: str | None) -> Path:
    return (Path(data_dir) if data_dir else default_data_dir()) / "sandbox"


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _alive(pid: int | None, marker: str) -> bool:
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


def _healthy(state: dict[str, Any]) -> bool:
    try:
        return httpx.get(f"{state['clob_url']}/ok", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _admin(ctx: click.Context, path: str, body: dict[str, Any] | None = None) -> Any:
    state = _read_state(ctx.obj["state_dir"])
    if state is None or not _healthy(state):
        raise click.ClickException("the sandbox is not running (run `projectk sandbox up`)")
    with httpx.Client(timeout=120, trust_env=False) as http:
        url = f"{state['admin_url']}{path}"
        resp = http.post(url, json=body) if body is not None else http.get(url)
    if resp.status_code != 200:
        raise click.ClickException(resp.text)
    return resp.json()


@click.group("sandbox")
@click.option(
    "--data-dir",
    envvar="PROJECTK_DATA_DIR",
    default=None,
    help="State directory (default ~/.projectk; env PROJECTK_DATA_DIR).",
)
@click.pass_context
def sandbox_cli(ctx: click.Context, data_dir: str | None) -> None:
    """Local Polymarket replica: anvil (chain 137) + a CLOB V2-compatible server."""
    ctx.ensure_object(dict)
    ctx.obj["state_dir"] = _state_dir(data_dir)


@sandbox_cli.command()
@click.option(
    "--block-time",
    type=float,
    default=2.0,
    show_default=True,
    help="Seconds per block after setup; 0 mines every transaction at once.",
)
@click.option("--no-market-maker", is_flag=True, help="Do not quote the demo markets.")
@click.option("--faults", default="{}", help="Initial faults as JSON, e.g. '{\"latency_ms\": 50}'.")
@click.pass_context
def up(ctx: click.Context, block_time: float, no_market_maker: bool, faults: str) -> None:
    """Start anvil and the CLOB in the background, deploy and create demo markets."""
    state_dir: Path = ctx.obj["state_dir"]
    state = _read_state(state_dir)
    if state is not None and _healthy(state):
        click.echo(f"sandbox already running: {state['clob_url']}")
        return
    if state is not None:  # a previous sandbox died half-way: clear what is left of it
        _stop_recorded(state)
    started = time.monotonic()
    options = SandboxOptions(
        block_time_s=block_time,
        market_maker=not no_market_maker,
        faults=json.loads(faults),
        detached=True,
    )
    info = Sandbox(options, state_dir).start()
    click.echo(f"sandbox up in {time.monotonic() - started:.1f}s")
    click.echo(f"  rpc      {info['rpc_url']} (chain {info['chain_id']})")
    click.echo(f"  clob     {info['clob_url']}")
    click.echo(f"  data api {info['data_api_url']}")
    for m in info["markets"]:
        click.echo(f"  market   {m['slug']}: {m['condition_id']}")
    click.echo(f"  state    {state_dir / STATE_FILE}")


@sandbox_cli.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the background sandbox started by `up`."""
    state_dir: Path = ctx.obj["state_dir"]
    state = _read_state(state_dir)
    if state is None:
        click.echo("sandbox is not running")
        return
    _stop_recorded(state)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    click.echo("sandbox stopped")


def _stop_recorded(state: dict[str, Any]) -> None:
    # Only the recorded pids, and only while they still run the sandbox's own commands.
    for name in ("server", "anvil"):
        pid = state.get("pids", {}).get(name)
        if _alive(pid, _PROCESS_MARKERS[name]):
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, _PROCESS_MARKERS[name])


def _wait_gone(pid: int, marker: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid, marker):
        os.kill(pid, signal.SIGKILL)


@sandbox_cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show endpoints, contracts, markets and demo accounts of the running sandbox."""
    state = _read_state(ctx.obj["state_dir"])
    running = state is not None and _healthy(state)
    if state is not None and running:
        state = {**state, **_admin(ctx, "/info")}
    out = {"running": running, **(state or {})}
    if as_json:
        click.echo(json.dumps(out))
        return
    if not running or state is None:
        click.echo("sandbox is not running")
        sys.exit(1)
    click.echo(
        f"running: clob {state['clob_url']}  rpc {state['rpc_url']}  chain {state['chain_id']}"
    )
    for m in state["markets"]:
        tokens = ", ".join(f"{t['outcome']}={t['token_id']}" for t in m["tokens"])
        state_text = "closed" if m["closed"] else "open"
        click.echo(f"  {m['slug']} ({m['version']}, {state_text}): {tokens}")
    for a in state["accounts"]["demo"]:
        click.echo(f"  demo {a['index']}: {a['address']} {a['private_key']}")


@sandbox_cli.command()
@click.argument("address")
@click.option("--pusd", default="0", help="pUSD to mint (decimal).")
@click.option("--pol", default=None, help="Set the POL balance to this amount (decimal).")
@click.option("--approve", is_flag=True, help="Also approve both exchanges (by impersonation).")
@click.pass_context
def fund(ctx: click.Context, address: str, pusd: str, pol: str | None, approve: bool) -> None:
    """Mint pUSD to ADDRESS and/or set its POL balance."""
    _admin(ctx, "/fund", {"address": address, "pusd": pusd, "pol": pol, "approve": approve})
    click.echo(f"funded {address}: +{pusd} pUSD" + (f", POL = {pol}" if pol is not None else ""))


@sandbox_cli.command()
@click.argument("market")
@click.argument("outcome", type=click.Choice(["Yes", "No"], case_sensitive=False))
@click.pass_context
def resolve(ctx: click.Context, market: str, outcome: str) -> None:
    """Resolve MARKET (slug or condition id) to OUTCOME via the oracle's reportPayouts."""
    result = _admin(ctx, "/resolve", {"market": market, "outcome": outcome})
    click.echo(f"resolved {result['market']['slug']} -> {outcome} ({result['transaction_hash']})")


@sandbox_cli.command("create-market")
@click.argument("question")
@click.option("--slug", default=None)
@click.option("--tick-size", default="0.01")
@click.option("--fair-price", default="0.5")
@click.option(
    "--version",
    "version",
    type=click.Choice(["v1", "v2"]),
    default="v1",
    show_default=True,
    help="v1: ConditionalTokens ids, CTF Exchange V2; v2: PositionManager ids, ExchangeV3.",
)
@click.option("--fee-rate", default="0", help="Taker fee rate r (fee = shares*r*(p(1-p))^e).")
@click.option("--fee-exponent", type=int, default=1, show_default=True)
@click.option(
    "--event", "event_slug", default=None, help="Add as an outcome of this neg-risk event."
)
@click.option("--event-title", default=None, help="Title of the neg-risk event (first outcome).")
@click.option("--outcome-name", default=None, help="The outcome's name within its neg-risk event.")
@click.pass_context
def create_market(
    ctx: click.Context,
    question: str,
    slug: str | None,
    tick_size: str,
    fair_price: str,
    version: str,
    fee_rate: str,
    fee_exponent: int,
    event_slug: str | None,
    event_title: str | None,
    outcome_name: str | None,
) -> None:
    """Create a binary market quoted by the market maker (v1 or v2, with or without fees)."""
    m = _admin(
        ctx,
        "/markets",
        {
            "question": question,
            "slug": slug,
            "tick_size": tick_size,
            "fair_price": fair_price,
            "version": version,
            "fee_rate": fee_rate,
            "fee_exponent": fee_exponent,
            "event_slug": event_slug,
            "event_title": event_title,
            "group_item_title": outcome_name,
        },
    )
    click.echo(json.dumps(m))


@sandbox_cli.command()
@click.option("--latency-ms", type=int)
@click.option("--error-rate", type=float, help="Share of requests answered 500.")
@click.option("--rate-429", type=float, help="Share answered 429 with Retry-After.")
@click.option("--retry-after", type=int)
@click.option("--rate-425", type=float, help="Share answered 425 (engine restart).")
@click.option("--lost-rate", type=float, help="Share processed but answered too late.")
@click.option("--lost-delay", type=float)
@click.option("--cancel-only/--no-cancel-only", default=None)
@click.option(
    "--post-lost-rate", type=float, help="Share of accepted posts processed, then answered 502."
)
@click.option("--trades-delay", type=float, help="Seconds before a trade is listed.")
@click.option(
    "--hide-matched-taker/--no-hide-matched-taker",
    default=None,
    help="GET /data/order answers null for a FAK/FOK that matched.",
)
@click.option(
    "--hide-closed/--no-hide-closed",
    default=None,
    help="GET /data/order answers null for orders no longer live.",
)
@click.option("--rpc-lag-blocks", type=int, help="How far behind the head a lagging node is.")
@click.option("--rpc-lag-rate", type=float, help="Share of /rpc requests a lagging node answers.")
@click.option("--path", "paths", multiple=True, help="Only affect these path prefixes.")
@click.option("--reset", is_flag=True, help="Clear all faults first.")
@click.pass_context
def faults(ctx: click.Context, /, paths: tuple[str, ...], reset: bool, **settings: Any) -> None:
    """Show or change fault injection at run time."""
    changes: dict[str, Any] = {_FAULT_FIELDS.get(k, k): v for k, v in settings.items()}
    changes["paths"] = list(paths) or None
    body = {k: v for k, v in changes.items() if v is not None}
    if reset:
        body["reset"] = True
    click.echo(json.dumps(_admin(ctx, "/faults", body) if body else _admin(ctx, "/faults")))


@sandbox_cli.command()
@click.option("--depth", type=int, required=True, help="Blocks to roll back.")
@click.option("--drop", multiple=True, help="A transaction hash not to re-include (repeatable).")
@click.option("--shift", type=int, default=1, show_default=True, help="Empty blocks mined first.")
@click.pass_context
def reorg(ctx: click.Context, depth: int, drop: tuple[str, ...], shift: int) -> None:
    """Reorganise the chain: roll back DEPTH blocks, re-include their transactions but --drop."""
    body = {"depth": depth, "drop": list(drop), "shift": shift}
    click.echo(json.dumps(_admin(ctx, "/reorg", body)))


@sandbox_cli.command()
@click.option(
    "--wallet", required=True, help="A private key, or demo:N for the sandbox's N-th demo account."
)
@click.option(
    "--scenario", "scenario_path", required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option("--max-orders", type=int, default=None)
@click.pass_context
def trader(ctx: click.Context, wallet: str, scenario_path: Path, max_orders: int | None) -> None:
    """Place orders from a scenario file through py-clob-client-v2 (the demo's source wallet)."""
    state = _read_state(ctx.obj["state_dir"])
    if state is None:
        raise click.ClickException("the sandbox is not running (run `projectk sandbox up`)")
    key = wallet
    if wallet.startswith("demo:"):
        key = state["accounts"]["demo"][int(wallet.split(":", 1)[1])]["private_key"]

    def report(step: scripted.Step, result: dict[str, Any] | str) -> None:
        what = f"{step.side} {step.outcome} {step.amount or step.size} {step.order_type}"
        if isinstance(result, dict):
            click.echo(f"{what}: {result.get('status')} {result.get('orderID')}")
        else:
            click.echo(f"{what}: rejected: {result}")

    scripted.run(state, key, scripted.load_scenario(scenario_path), report, max_orders)


if __name__ == "__main__":
    sandbox_cli()
