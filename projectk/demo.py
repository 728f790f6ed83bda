"""`projectk demo`: the orchestration demo on the embedded default.

It starts a local Temporal dev server and a real worker process, registers two demo pairs that
follow one source wallet, feeds that wallet's fills into the ledger inbox, and prints what the
pairs and their mirror children do (also visible in the Temporal UI).

Invariants:
- Everything lives in `<data_dir>/demo` (its own ledger, vault and Temporal DB), so a demo never
  touches an operator's real data.
- Every process the demo started is stopped when it ends (duration elapsed, Ctrl-C or error);
  a dev server that was already running is left running.
- The demo wallet is a well-known public test key (anvil's account #1); it is not a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from temporalio.client import Client

from projectk import devserver
from projectk.ledger import Ledger, open_ledger
from projectk.models import (
    MICRO,
    Exchange,
    PairConfig,
    PairStatus,
    Side,
    Sizing,
    SizingMode,
    SourceFill,
)
from projectk.money import format_micro
from projectk.pairs import PairError, PairRules, PairService
from projectk.settings import ExecutorMode, Settings
from projectk.temporal import connect
from projectk.vault import ScryptParams, Vault

log = logging.getLogger(__name__)

DEMO_PASSPHRASE = "projectk-demo-passphrase"  # protects only the public test key below
DEMO_FOLLOWER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
DEMO_FOLLOWER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DEMO_SOURCE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
DEMO_TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
PRICES = [Decimal(p) for p in ("0.42", "0.45", "0.47", "0.44", "0.50", "0.53", "0.48", "0.51")]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """How long the demo runs and how often the source trades."""

    duration_s: float | None = None
    fill_interval_s: float = 4.0


def demo_settings(settings: Settings) -> Settings:
    """Return settings pointing at the demo's own data directory, in paper mode."""
    data_dir = settings.data_dir / "demo"
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "vault_path": data_dir / "vault.json",
            "db_url": None,
            "executor_mode": ExecutorMode.PAPER,
        }
    )


def demo_pairs() -> list[PairConfig]:
    """Return the two demo pairs: a fixed-size and a proportional follower."""
    sizings = {
        "demo-fixed": Sizing(fixed_micro=5 * MICRO),
        "demo-proportional": Sizing(mode=SizingMode.PROPORTIONAL, ratio=Decimal("0.5")),
    }
    return [
        PairConfig(
            pair_id=name,
            source=DEMO_SOURCE,
            follower=DEMO_FOLLOWER,
            key_ref="vault://demo-follower",
            budget_micro=50 * MICRO,
            sizing=sizing,
        )
        for name, sizing in sizings.items()
    ]


def source_fill(n: int, now: datetime) -> SourceFill:
    """Return the demo source's n-th fill: a BUY of 20 shares at a moving price."""
    price = PRICES[n % len(PRICES)]
    block = int(now.timestamp())  # grows across demo runs, so cursors never go backwards
    tx = f"0x{block:032x}{n:032x}"
    return SourceFill(
        fill_id=f"{tx}:0",
        wallet=DEMO_SOURCE,
        side=Side.BUY,
        token_id=DEMO_TOKEN,
        shares_micro=20 * MICRO,
        notional_micro=int(20 * MICRO * price),
        price=price,
        exchange=Exchange.CTF,
        tx_hash=tx,
        block_number=block,
        log_index=0,
        block_time=now,
        detected_at=now,
    )


def _ensure_demo_key(vault: Vault) -> None:
    if vault.address_of("vault://demo-follower") is None:
        vault.add("demo-follower", DEMO_FOLLOWER_KEY, DEMO_PASSPHRASE)


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
def _worker_process(settings: Settings, echo: Echo) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PROJECTK_DATA_DIR": str(settings.data_dir),
        "PROJECTK_VAULT_PATH": str(settings.resolved_vault_path),
        "PROJECTK_EXECUTOR_MODE": settings.executor_mode.value,
        "PROJECTK_VAULT_PASSPHRASE": DEMO_PASSPHRASE,
        "PROJECTK_TEMPORAL_ADDRESS": settings.temporal_address,
        "PROJECTK_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "PROJECTK_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
    }
    env.pop("PROJECTK_DB_URL", None)
    log_path = settings.data_dir / "worker.log"
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "projectk", "worker"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    echo(f"worker started (pid {proc.pid}, log {log_path})")
    try:
        yield proc
    finally:
        _stop_process(proc)
        echo("worker stopped")


def _stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 25.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _register(service: PairService, ledger: Ledger, echo: Echo) -> list[str]:
    names = []
    for config in demo_pairs():
        record = ledger.get_pair(config.pair_id)
        if record is None or record.status is PairStatus.REMOVED:
            try:
                await service.add(config, start_cursor=ledger.latest_fill_cursor(config.source))
            except PairError as exc:
                echo(f"pair {config.pair_id} not registered: {exc}")
                continue
            echo(f"registered pair {config.pair_id}: {config.source} -> {config.follower}")
        else:
            await service.resume(config.pair_id)
        names.append(config.pair_id)
    return names


async def _report(service: PairService, names: list[str], client: Client, echo: Echo) -> None:
    for name in names:
        state = await service.state(name)
        held = sum(p.shares_micro for p in state.positions.values())
        echo(
            f"  {name:18} {state.status.value:7} fills {state.fills_seen:3}  mirrors "
            f"{state.mirrors_started:3}  in flight {len(state.in_flight)}  spent "
            f"{format_micro(state.spent_micro):>8} pUSD  holding {format_micro(held)} shares"
        )
    children = [w async for w in client.list_workflows('WorkflowType="MirrorOrderWorkflow"')]
    echo(f"  mirror child workflows so far: {len(children)}")


async def run_demo(base: Settings, options: DemoOptions, echo: Echo) -> None:
    """Run the orchestration demo until the duration elapses or it is interrupted."""
    settings = demo_settings(base)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ledger = open_ledger(settings)
    vault = Vault(settings.resolved_vault_path, kdf=ScryptParams())
    _ensure_demo_key(vault)
    async with _dev_server(settings, echo) as ui_url:
        client = await connect(settings)
        rules = PairRules(
            budget_ceiling_micro=settings.budget_ceiling_pusd * MICRO,
            task_queue=settings.temporal_task_queue,
            poll_timeout_s=settings.fill_poll_timeout_s,
        )
        service = PairService(client, ledger, vault, rules)
        with _worker_process(settings, echo):
            names = await _register(service, ledger, echo)
            echo(
                f"watch the pairs and their mirror children: {ui_url}/namespaces/"
                f"{settings.temporal_namespace}/workflows"
            )
            await _feed(ledger, service, names, client, options, echo)


async def _feed(
    ledger: Ledger,
    service: PairService,
    names: list[str],
    client: Client,
    options: DemoOptions,
    echo: Echo,
) -> None:
    deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
    n = 0
    while deadline is None or time.monotonic() < deadline:
        fill = source_fill(n, datetime.now(UTC))
        ledger.record_fill(fill)
        echo(f"source {DEMO_SOURCE[:10]}… bought 20 shares at {fill.price} ({fill.fill_id[:14]}…)")
        n += 1
        await asyncio.sleep(options.fill_interval_s)
        await _report(service, names, client, echo)
    echo(f"demo finished after {n} source fills")
