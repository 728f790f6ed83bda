"""`projectk demo`: ProjectK end to end on the embedded default, the local sandbox.

It brings up the sandbox (anvil at chain 137 + the CLOB V2-compatible server), a Temporal dev
server, a real worker process in sandbox mode and the dashboard; registers two demo pairs that
follow the sandbox's scripted source trader; runs the trader; and prints what the pairs do. The
source's fills are detected on chain and mirrored through py-clob-client-v2 by the worker.

Invariants:
- Everything lives in `<data_dir>/demo` (its own ledger, vault, Temporal DB and sandbox), so a
  demo never touches an operator's real data.
- Every process the demo started is stopped when it ends (duration elapsed, Ctrl-C or error).
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
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import Client

from adapters.chain.detection import STATS_FILE
from adapters.ledger import open_ledger
from adapters.temporal import connect
from adapters.vault import Vault
from cli.tools import devserver
from control.pairs import PairError, PairService, build_pair_service
from projectk.models import MICRO, PairConfig, Sizing, SizingMode
from projectk.money import format_micro
from projectk.settings import ExecutorMode, Settings
from sandbox import trader as scripted
from sandbox.runtime import Sandbox, SandboxOptions

log = logging.getLogger(__name__)

DEMO_PASSPHRASE = "projectk-demo-passphrase"  # protects only public anvil test keys
LOCK_FILE = "demo.lock"
SCENARIO = Path(scripted.__file__).resolve().parent / "scenarios" / "demo.json"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """How long the demo runs and how the sandbox chain ticks."""

    duration_s: float | None = None
    report_every_s: float = 5.0
    block_time_s: float = 2.0  # like Polygon


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


def worker_env(settings: Settings) -> dict[str, str]:
    """Return the environment a worker process needs to run with these settings."""
    env = {
        "PROJECTK_DATA_DIR": str(settings.data_dir),
        "PROJECTK_VAULT_PATH": str(settings.resolved_vault_path),
        "PROJECTK_EXECUTOR_MODE": settings.executor_mode.value,
        "PROJECTK_VAULT_PASSPHRASE": DEMO_PASSPHRASE,
        "PROJECTK_TEMPORAL_ADDRESS": settings.temporal_address,
        "PROJECTK_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "PROJECTK_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "PROJECTK_RPC_URLS": ",".join(settings.rpc_urls),
        "PROJECTK_DATA_API_URL": settings.data_api_url,
        "PROJECTK_POLYMARKET_CHAIN_ID": str(settings.polymarket_chain_id),
        "PROJECTK_DASHBOARD_URL": settings.dashboard_url,
    }
    if settings.sandbox_clob_url:
        env["PROJECTK_SANDBOX_CLOB_URL"] = settings.sandbox_clob_url
    return env


@contextlib.asynccontextmanager
async def _dev_server(settings: Settings, echo: Echo) -> AsyncIterator[str]:
    config = devserver.DevServerConfig.from_settings(settings)
    started = await devserver.start(config)
    echo(f"Temporal dev server at {config.address} — UI: {config.ui_url}")
    try:
        yield config.ui_url
    finally:
        if not started.already_running:
            devserver.stop(config)
            echo("Temporal dev server stopped")


@contextlib.contextmanager
def _process(
    name: str, args: list[str], settings: Settings, echo: Echo, *, signs: bool = False
) -> Iterator[None]:
    log_path = settings.data_dir / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTK_")}
    env.update(worker_env(settings))
    if not signs:  # only the worker opens the vault
        env.pop("PROJECTK_VAULT_PASSPHRASE")
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped whole
        )
    echo(f"{name} started (pid {proc.pid}, log {log_path})")
    try:
        yield
    finally:
        _stop_process(proc)
        echo(f"{name} stopped")


def _stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 25.0) -> None:
    # The whole process group: anything the command started goes with it.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


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
        except PairError as exc:
            echo(f"  {config.pair_id}: {exc}")
            continue
        held = sum(p.shares_micro for p in state.positions.values())
        echo(
            f"  {config.pair_id:18} {state.status.value:7} fills {state.fills_seen:3}  mirrors "
            f"{state.mirrors_started:3}  in flight {len(state.in_flight)}  spent "
            f"{format_micro(state.spent_micro):>8} pUSD  holding {format_micro(held)} shares"
        )
    children = [w async for w in client.list_workflows('WorkflowType="MirrorOrderWorkflow"')]
    echo(f"  mirror child workflows so far: {len(children)}")


class _Trader:
    """The scripted source trader, in a thread that stops when asked."""

    def __init__(self, info: dict[str, Any], key: str, echo: Echo) -> None:
        self._stop = threading.Event()
        self._info, self._key, self._echo = info, key, echo

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _said(self, step: scripted.Step, result: dict[str, Any] | str) -> None:
        what = f"{step.side} {step.outcome} {step.amount or step.size} {step.order_type}"
        outcome = result.get("status") if isinstance(result, dict) else f"rejected: {result}"
        self._echo(f"source trader: {what} -> {outcome}")

    def run(self) -> None:
        """Place the demo scenario's orders until stopped."""
        with contextlib.suppress(_Stopped):
            scenario = scripted.load_scenario(SCENARIO)
            scripted.run(self._info, self._key, scenario, self._said, sleep=self._sleep)

    def stop(self) -> None:
        """Make the trader stop at its next wait."""
        self._stop.set()


class _Stopped(Exception):
    pass


async def run_demo(base: Settings, options: DemoOptions, echo: Echo) -> None:
    """Run the sandbox demo until the duration elapses or it is interrupted."""
    settings = demo_settings(base)
    with demo_lock(settings.data_dir):
        forget_previous_chain(settings, echo)
        await _run_locked(settings, options, echo)


async def _run_locked(settings: Settings, options: DemoOptions, echo: Echo) -> None:
    sandbox = Sandbox(
        SandboxOptions(block_time_s=options.block_time_s), state_dir=settings.data_dir / "sandbox"
    )
    echo("starting the sandbox (anvil at chain 137 + CLOB V2-compatible server)…")
    with sandbox as sb:
        settings = with_sandbox(settings, sb.info)
        echo(f"sandbox up: rpc {sb.info['rpc_url']}  clob {sb.info['clob_url']}")
        demo = sb.info["accounts"]["demo"]
        pairs = demo_pairs(demo[0]["address"], [demo[1]["address"], demo[2]["address"]])
        ledger = open_ledger(settings)
        _prepare_wallets(
            sb,
            Vault(settings.resolved_vault_path),
            pairs,
            [demo[1]["private_key"], demo[2]["private_key"]],
        )
        async with _dev_server(settings, echo) as ui_url:
            with (
                _process("worker", ["worker"], settings, echo, signs=True),
                _process("dashboard", ["dashboard"], settings, echo),
            ):
                client = await connect(settings)
                service = build_pair_service(settings, client, ledger)
                await _register(service, pairs, echo)
                echo(f"Temporal UI: {ui_url}/namespaces/{settings.temporal_namespace}/workflows")
                echo(f"dashboard:   {settings.dashboard_url}")
                await _trade_and_report(
                    sb.info, demo[0]["private_key"], service, pairs, client, options, echo
                )


async def _trade_and_report(
    info: dict[str, Any],
    source_key: str,
    service: PairService,
    pairs: list[PairConfig],
    client: Client,
    options: DemoOptions,
    echo: Echo,
) -> None:
    trader = _Trader(info, source_key, echo)
    task = asyncio.create_task(asyncio.to_thread(trader.run))
    loop = asyncio.get_running_loop()
    deadline = None if options.duration_s is None else loop.time() + options.duration_s
    try:
        while deadline is None or loop.time() < deadline:
            await asyncio.sleep(options.report_every_s)
            await _report(service, pairs, client, echo)
    finally:
        trader.stop()
        await task
    echo("demo finished")
