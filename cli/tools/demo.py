"""`projectk demo`: ProjectK end to end on the embedded default, the local sandbox.

It brings up the sandbox (anvil at chain 137 + the CLOB V2-compatible server), a Temporal dev
server, a real worker process in sandbox mode and the dashboard; registers two demo pairs that
follow the sandbox's scripted source trader; runs the trader; and prints what the pairs do. The
source's fills are detected on chain and mirrored through the sandbox CLOB by the worker. When the
duration is up the trader stops, the pairs settle the fills already made (the drain,
`demo_summary`), and a summary says what each pair did and where to look.

Invariants:
- Everything lives in `<data_dir>/demo` (its own ledger, vault, Temporal DB, sandbox and logs),
  so a demo never touches an operator's real data.
- Every process the demo started is stopped when it ends: duration elapsed, Ctrl-C, SIGTERM or
  SIGHUP (`stop_signals`), or an error.
- The terminal shows the demo's own lines and the warnings and errors of its process; every log
  record goes to `demo.log` (`demo_log_options`).
- The demo wallets are anvil's well-known public test keys; they are not secrets.
- Each demo runs on a new sandbox chain, so it starts from a clean ledger, detection state and
  Temporal state: what an earlier demo recorded describes a chain that is gone. A demo dev server
  left running by a demo that was killed hard is stopped first. Its pairs are registered afresh.
- One demo at a time per data directory (a lock file): a second one is refused before it touches
  anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from adapters.chain import STATS_FILE, ChainUnavailable, head_block
from adapters.ledger import Ledger, open_ledger
from adapters.temporal import connect
from adapters.vault import Vault
from cli.tools import devserver
from cli.tools.demo_processes import DEMO_PASSPHRASE, cli_process, dev_server
from cli.tools.demo_summary import (
    READ_ERRORS,
    DemoSummary,
    amount,
    drain,
    summary_lines,
    where_to_look,
)
from cli.tools.demo_trader import DemoTrader
from cli.tools.stop_signals import cancel_on_stop_signals, raise_if_signalled
from control.pairs import PairError, PairService, build_pair_service
from projectk.contract import MIRROR_ORDER_WORKFLOW
from projectk.logs import LogOptions, options_from_settings
from projectk.models import MICRO, PairConfig, Sizing, SizingMode
from projectk.settings import ExecutorMode, Settings
from sandbox.runtime import Sandbox, SandboxOptions

log = logging.getLogger(__name__)

LOCK_FILE = "demo.lock"
MIRRORS_QUERY = f'WorkflowType="{MIRROR_ORDER_WORKFLOW}"'
LOG_FILE = "demo.log"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """How long the demo runs and how the sandbox chain ticks."""

    duration_s: float | None = None  # None: until Ctrl-C or a stop signal, without a summary
    report_every_s: float = 5.0
    block_time_s: float = 2.0  # like Polygon
    drain_timeout_s: float = 60.0  # how long the pairs get to settle the last fills


def demo_settings(settings: Settings) -> Settings:
    """Return settings pointing at the demo's own data directory, in sandbox mode."""
    data_dir = settings.data_dir / "demo"
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "vault_path": data_dir / "vault.json",
            "db_url": None,
            "executor_mode": ExecutorMode.SANDBOX,
        }
    )


def demo_log_options(settings: Settings, *, verbose: bool = False) -> LogOptions:
    """Return how a demo logs: every record to its `demo.log`, warnings also to the terminal."""
    options = options_from_settings(demo_settings(settings), verbose=verbose)
    log_file = demo_settings(settings).data_dir / LOG_FILE
    return dataclasses.replace(options, file=log_file, console_level="WARNING")


def with_sandbox(settings: Settings, info: dict[str, Any]) -> Settings:
    """Return settings that reach the running sandbox's chain, CLOB and Data API."""
    return settings.model_copy(
        update={
            "rpc_urls": [info["rpc_url"]],
            "data_api_url": info["data_api_url"],
            "sandbox_clob_url": info["clob_url"],
            "polymarket_chain_id": info["chain_id"],
        }
    )


def demo_pairs(source: str, followers: list[str]) -> list[PairConfig]:
    """Return the demo pairs: a fixed-size follower and a proportional one."""
    sizings = [
        # Small sizes, so the 50-pUSD demo budgets last a while into the scripted scenario.
        ("demo-fixed", Sizing(fixed_micro=3 * MICRO)),
        ("demo-proportional", Sizing(mode=SizingMode.PROPORTIONAL, ratio=Decimal("0.9"))),
    ]
    return [
        PairConfig(
            pair_id=name,
            source=source,
            follower=follower,
            key_ref=f"vault://{name}",
            budget_micro=50 * MICRO,
            sizing=sizing,
        )
        for (name, sizing), follower in zip(sizings, followers, strict=True)
    ]


class DemoError(RuntimeError):
    """The demo cannot start (the message says why); nothing was changed."""


@contextlib.contextmanager
def demo_lock(data_dir: Path) -> Iterator[None]:
    """Hold the demo's data directory for one demo; refuse if another demo holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(
                f"another demo is running with {data_dir} (it holds {path}); stop it first"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def forget_previous_chain(settings: Settings, echo: Echo) -> list[Path]:
    """Delete what an earlier demo recorded about its (now gone) chain; return what was deleted.

    `settings` are the demo's own (`demo_settings`), and the caller holds `demo_lock`: the
    ledger, the tail's figures and the Temporal DB go, after stopping a demo dev server that a
    demo killed hard left running. The vault and the logs stay.
    """
    if settings.data_dir.name != "demo":
        raise DemoError(f"refusing to clear {settings.data_dir}: not a demo data directory")
    config = devserver.DevServerConfig.from_settings(settings)
    left_running = devserver.stop(config)
    if left_running is not None:
        echo(f"stopped the dev server (pid {left_running}) that an earlier demo left running")
    stale = [settings.data_dir / "ledger.db", settings.data_dir / STATS_FILE, config.db_path]
    deleted = []
    for path in stale:
        for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if part.exists():
                part.unlink()
                deleted.append(part)
    return deleted


def _prepare_wallets(sb: Sandbox, vault: Vault, pairs: list[PairConfig], keys: list[str]) -> None:
    for config, key in zip(pairs, keys, strict=True):
        name = config.key_ref.removeprefix("vault://")
        if vault.address_of(config.key_ref) is None:
            vault.add(name, key, DEMO_PASSPHRASE)
        sb.fund(config.follower, pusd="100", pol="2", approve=True)


async def _register(service: PairService, pairs: list[PairConfig], echo: Echo) -> None:
    for config in pairs:
        try:
            await service.add(config, start_cursor=service.latest_cursor(config.source))
        except PairError as exc:
            echo(f"pair {config.pair_id} not registered: {exc}")
            continue
        echo(f"registered pair {config.pair_id}: {config.source} -> {config.follower}")


async def _report(
    service: PairService, pairs: list[PairConfig], client: Client, echo: Echo
) -> None:
    for config in pairs:
        try:
            state = await service.state(config.pair_id)
        except READ_ERRORS as exc:
            echo(f"  {config.pair_id}: {exc}")
            continue
        held = sum(p.shares_micro for p in state.positions.values())
        echo(
            f"  {config.pair_id:18} {state.status.value:7} fills {state.fills_seen:3}  mirrors "
            f"{state.mirrors_started:3}  in flight {len(state.in_flight)}  spent "
            f"{amount(state.spent_micro):>6} pUSD  holding {amount(held)} shares"
        )
    try:
        children = [w async for w in client.list_workflows(MIRRORS_QUERY)]
    except RPCError as exc:
        echo(f"  mirror child workflows: not listed ({exc})")
        return
    echo(f"  mirror child workflows so far: {len(children)}")


@dataclass(frozen=True)
class _Running:
    """What a running demo has brought up, for the steps after registration."""

    settings: Settings
    sandbox: dict[str, Any]
    pairs: list[PairConfig]
    client: Client
    ledger: Ledger
    service: PairService
    ui_url: str

    @property
    def source_key(self) -> str:
        """Return the scripted source trader's key (a public anvil test key)."""
        key: str = self.sandbox["accounts"]["demo"][0]["private_key"]
        return key

    @property
    def workflows_url(self) -> str:
        """Return the Temporal UI's list of the demo's workflows."""
        return f"{self.ui_url}/namespaces/{self.settings.temporal_namespace}/workflows"


async def run_demo(base: Settings, options: DemoOptions, echo: Echo) -> DemoSummary:
    """Run the sandbox demo for its duration; return the summary it printed.

    Ctrl-C, SIGTERM and SIGHUP stop it alike: what it started is stopped, then the task ends
    cancelled (Ctrl-C: `asyncio.run` raises `KeyboardInterrupt`) or with `StopSignalled`.
    """
    settings = demo_settings(base)
    with cancel_on_stop_signals() as stop, demo_lock(settings.data_dir):
        try:
            forget_previous_chain(settings, echo)
            return await _run_locked(settings, options, echo)
        except asyncio.CancelledError:
            raise_if_signalled(stop)
            raise


async def _run_locked(settings: Settings, options: DemoOptions, echo: Echo) -> DemoSummary:
    sandbox = Sandbox(
        SandboxOptions(block_time_s=options.block_time_s), state_dir=settings.data_dir / "sandbox"
    )
    echo("starting the sandbox (anvil at chain 137 + CLOB V2-compatible server)…")
    with sandbox as sb:
        settings = with_sandbox(settings, sb.info)
        pids = sb.info["pids"]
        echo(
            f"sandbox up: rpc {sb.info['rpc_url']}  clob {sb.info['clob_url']}  "
            f"(anvil pid {pids['anvil']}, server pid {pids['server']})"
        )
        demo = sb.info["accounts"]["demo"]
        pairs = demo_pairs(demo[0]["address"], [demo[1]["address"], demo[2]["address"]])
        ledger = open_ledger(settings)
        keys = [demo[1]["private_key"], demo[2]["private_key"]]
        _prepare_wallets(sb, Vault(settings.resolved_vault_path), pairs, keys)
        async with dev_server(settings, echo) as ui_url:
            with (
                cli_process("worker", ["worker"], settings, echo, signs=True),
                cli_process("dashboard", ["dashboard"], settings, echo),
            ):
                client = await connect(settings)
                service = build_pair_service(settings, client, ledger)
                run = _Running(settings, sb.info, pairs, client, ledger, service, ui_url)
                await _register(service, pairs, echo)
                echo(f"Temporal UI: {run.workflows_url}")
                echo(f"dashboard:   {settings.dashboard_url}")
                return await _trade(run, options, echo)


async def _trade(run: _Running, options: DemoOptions, echo: Echo) -> DemoSummary:
    trader = DemoTrader(run.sandbox, run.source_key, echo)
    thread = asyncio.create_task(asyncio.to_thread(trader.run))
    try:
        await _watch(run, options, echo)
    finally:
        trader.stop()
        await thread
    return await _finish(run, trader, options, echo)


async def _watch(run: _Running, options: DemoOptions, echo: Echo) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if options.duration_s is None else loop.time() + options.duration_s
    while deadline is None or loop.time() < deadline:
        left = options.report_every_s if deadline is None else deadline - loop.time()
        await asyncio.sleep(max(0.0, min(options.report_every_s, left)))
        await _report(run.service, run.pairs, run.client, echo)


async def _finish(
    run: _Running, trader: DemoTrader, options: DemoOptions, echo: Echo
) -> DemoSummary:
    echo("time is up: the source trader has stopped")
    await _cancel_resting(trader, echo)
    last_block: int | None = None  # without a head, the drain waits for the pairs alone
    try:
        # The trader's last trade settles in the next block at the latest.
        last_block = await asyncio.to_thread(head_block, run.settings.rpc_urls) + 1
    except ChainUnavailable as exc:
        log.warning("cannot read the chain head for the drain: %s", exc)
    echo(f"waiting up to {options.drain_timeout_s:g} s for the pairs to settle the last fills…")
    summary = await drain(
        run.service,
        run.ledger,
        run.pairs,
        last_block=last_block,
        stats_path=run.settings.data_dir / STATS_FILE,
        timeout_s=options.drain_timeout_s,
    )
    for line in summary_lines(summary) + where_to_look(
        run.workflows_url, run.settings.dashboard_url, run.settings.data_dir
    ):
        echo(line)
    return summary


async def _cancel_resting(trader: DemoTrader, echo: Echo) -> None:
    # Without its resting orders the source can fill no more, so the drain has an end.
    try:
        cancelled = await asyncio.to_thread(trader.cancel_open_orders)
    except Exception as exc:  # the CLOB client's errors have no common base; the drain is bounded
        log.info("could not cancel the source's resting orders", exc_info=True)
        echo(f"could not cancel the source's resting orders ({exc}); it may still fill")
        return
    if cancelled:
        echo(f"cancelled the source's {cancelled} resting order(s)")
