"""`projectk bench mirror`: source fill -> follower order latency and Temporal cost, on the sandbox.

Method (one sandbox and one in-memory Temporal dev server for the run; each pair count gets its
own namespace, task queue, ledger and worker):
- The worker is the production composition (`workers.main.build_clients` + `build_worker`:
  chain tail feed, CLOB venue with a vault, ledger, heartbeat throttle), in this process, with room
  for every pair's long poll plus the mirror activities.
- For N pairs: up to `ACTIVE` pairs follow the scripted source (demo wallet 0), each with its
  own demo follower wallet; the other pairs follow distinct idle addresses and only long-poll.
- Latency: the source makes `fills` FAK buys against the market maker's book (automine: a
  trade's block exists when the CLOB answers). Each buy is one source order with one fill, so a
  pair makes one mirror decision per buy. Latency = the follower's `post_order` completion (the
  CLOB's answer, as the server recorded it in the mirror's history) minus the moment the block of
  the order's first fill was available. p50/p95 over every first decision of every active pair,
  with the same figures per stage (detect, start the mirror, quote+sign+post) from the histories.
- history_events_per_fill = events of each mirror workflow + the growth of its pair's history per
  fill (child start, report signal, bookkeeping), averaged.
- actions_per_idle_pair_hour is measured, not modelled: once the source has stopped, every pair
  of the count is idle; the server's own `action` counter for the count's namespace (see
  `temporal_cost`) is read, and read again `idle_minutes` later. Figure = actions in between /
  (pairs x hours). A window shorter than the poll timeout (an hour) misses the polls' restarts
  and reads low, so the default window is an hour; the windows of all pair counts run at once.
  A pair holding positions also checks its markets for claims and reconciles with the chain once
  every 6 h each (+0.33 an hour), which a window of an hour does not reach.

Invariant: the benchmark starts its own sandbox and dev server and talks to nothing else.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from adapters.chain import percentile
from adapters.ledger import create_ledger_engine, upgrade
from adapters.metrics import temporal_runtime
from adapters.temporal import SEARCH_ATTRIBUTES, data_converter, find_temporal_cli
from cli.tools.bench.mirror_plan import (
    DEFAULT_FILLS,
    DEFAULT_IDLE_MINUTES,
    POLL_TIMEOUT_S,
    SOURCES,
)
from cli.tools.bench.temporal_cost import actions_between, fill_stages, read_actions
from projectk.contract import mirror_workflow_id, pair_workflow_id
from projectk.decisions import MAX_ORDERS_KEPT, decision_id
from projectk.messages import PairWorkflowInput
from projectk.models import MICRO, FillCursor, Guards, PairConfig, PairState, Sizing
from projectk.settings import ExecutorMode, load_settings

ACTIVE = 3  # pairs that really mirror (demo followers 1..3)
PASSPHRASE = "bench passphrase"

Progress = Callable[[str], None]


def _stderr(line: str) -> None:
    print(f"bench mirror: {line}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class MirrorBenchResult:
    """Figures for one pair count."""

    pairs: int
    latency_ms_p50: float
    latency_ms_p95: float
    history_events_per_fill: float
    actions_per_idle_pair_hour: float
    mirrored: int
    idle_minutes: float
    idle_actions: dict[str, int] = field(default_factory=dict)
    stages_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Return the JSON object `--json` prints."""
        return {
            "pairs": self.pairs,
            "latency_ms_p50": self.latency_ms_p50,
            "latency_ms_p95": self.latency_ms_p95,
            "history_events_per_fill": self.history_events_per_fill,
            "actions_per_idle_pair_hour": self.actions_per_idle_pair_hour,
            "mirrored": self.mirrored,
            "idle_minutes": self.idle_minutes,
            "idle_actions": self.idle_actions,
            "stages_ms": self.stages_ms,
        }


@dataclass(frozen=True)
class _Latency:
    samples: list[float]
    stages: dict[str, list[float]]
    events_per_fill: float


async def run_mirror(
    pair_counts: list[int],
    fills: int = DEFAULT_FILLS,
    idle_minutes: float = DEFAULT_IDLE_MINUTES,
    progress: Progress = _stderr,
) -> list[MirrorBenchResult]:
    """Start a sandbox and a dev server; measure each pair count (idle windows overlap)."""
    from temporalio.testing import WorkflowEnvironment

    from sandbox.runtime import Sandbox, SandboxOptions, free_port

    if len(pair_counts) > len(SOURCES):
        raise ValueError(f"at most {len(SOURCES)} pair counts per run, got {len(pair_counts)}")
    if fills > MAX_ORDERS_KEPT:  # the pairs' states name the decisions of this many orders
        raise ValueError(f"at most {MAX_ORDERS_KEPT} fills per pair count, got {fills}")

    port = free_port()
    namespaces = [f"bench-{i}-{n}" for i, n in enumerate(pair_counts)]
    extra = ["--metrics-port", str(port)]
    for namespace in namespaces:
        extra += ["--namespace", namespace]
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    async with Sandbox(SandboxOptions(block_time_s=0)) as sb:
        with _child_stdout_to_stderr():  # the dev server's banner must not mix with --json
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(find_temporal_cli()),
                data_converter=data_converter(),
                search_attributes=SEARCH_ATTRIBUTES,
                ip="127.0.0.1",
                dev_server_extra_args=extra,
                runtime=temporal_runtime(None),  # SDK core logs to stderr, not stdout
            )
        try:
            async with AsyncExitStack() as stack:
                idle: list[asyncio.Task[MirrorBenchResult]] = []
                for n, (pairs, namespace) in enumerate(zip(pair_counts, namespaces, strict=True)):
                    client = Client(
                        env.client.service_client,
                        namespace=namespace,
                        data_converter=data_converter(),
                    )
                    source = sb.info["accounts"]["demo"][SOURCES[n]]
                    count = _PairCount(sb, client, pairs, source["address"])
                    handles = await stack.enter_async_context(count)
                    progress(f"{pairs} pairs: measuring latency over {fills} source fills")
                    latency = await _measure_latency(sb, client, handles, source, fills)
                    ends = time.strftime("%H:%M", time.localtime(time.time() + idle_minutes * 60))
                    progress(f"{pairs} pairs: idle window of {idle_minutes:g} min ends {ends}")
                    window = _idle_window(metrics_url, namespace, pairs, idle_minutes, latency)
                    idle.append(asyncio.create_task(window))
                return list(await asyncio.gather(*idle))
        finally:
            await env.shutdown()


@contextmanager
def _child_stdout_to_stderr() -> Iterator[None]:
    """Let processes started inside inherit stderr as their stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


async def _idle_window(
    metrics_url: str, namespace: str, pairs: int, minutes: float, latency: _Latency
) -> MirrorBenchResult:
    await asyncio.sleep(2)  # the last reports and polls of the latency phase settle
    before = await read_actions(metrics_url, namespace)
    if not before:  # the latency phase ran in it: no series means the counter was not read right
        raise RuntimeError(
            f"the dev server's metrics at {metrics_url} show no `action` counter for namespace "
            f"{namespace}; the idle cost cannot be measured"
        )
    await asyncio.sleep(minutes * 60)
    actions = actions_between(before, await read_actions(metrics_url, namespace))
    per_pair_hour = sum(actions.values()) / (pairs * minutes / 60) if minutes > 0 else 0.0
    return MirrorBenchResult(
        pairs=pairs,
        latency_ms_p50=round(percentile(latency.samples, 0.5), 1),
        latency_ms_p95=round(percentile(latency.samples, 0.95), 1),
        history_events_per_fill=round(latency.events_per_fill, 1),
        actions_per_idle_pair_hour=round(per_pair_hour, 2),
        mirrored=len(latency.samples),
        idle_minutes=minutes,
        idle_actions=actions,
        stages_ms={
            stage: {
                "p50": round(percentile(values, 0.5), 1),
                "p95": round(percentile(values, 0.95), 1),
            }
            for stage, values in latency.stages.items()
        },
    )


class _PairCount:
    """One pair count's ledger, worker and pairs; the pairs are terminated on exit."""

    def __init__(self, sb: Any, client: Client, pairs: int, source: str) -> None:
        self._sb, self._client, self._pairs, self._source = sb, client, pairs, source
        self._stack = AsyncExitStack()
        self._handles: list[WorkflowHandle[Any, Any]] = []

    async def __aenter__(self) -> list[WorkflowHandle[Any, Any]]:
        from workers.main import build_worker

        work = Path(tempfile.mkdtemp(prefix="projectk-bench-"))
        self._stack.callback(shutil.rmtree, work, ignore_errors=True)
        try:
            queue = f"bench-{self._pairs}-{int(time.time())}"
            deps = await asyncio.to_thread(_dependencies, self._sb, work)
            worker = build_worker(self._client, queue, deps, max_activities=self._pairs + 200)
            await self._stack.enter_async_context(worker)
            if deps.feed is not None and hasattr(deps.feed, "start"):
                await deps.feed.start()
                self._stack.push_async_callback(deps.feed.stop)
            self._handles = await _start_pairs(
                self._sb, self._client, queue, self._pairs, self._source
            )
        except BaseException:
            await self.__aexit__()
            raise
        return self._handles

    async def __aexit__(self, *exc: object) -> None:
        try:
            await asyncio.gather(*(h.terminate("benchmark over") for h in self._handles))
        finally:
            await self._stack.aclose()


async def _measure_latency(
    sb: Any,
    client: Client,
    handles: list[WorkflowHandle[Any, Any]],
    source: dict[str, str],
    fills: int,
) -> _Latency:
    active = handles[:ACTIVE]
    before = [await _history_len(h) for h in active]
    stamps = await _source_fills(sb, source["private_key"], active, fills)
    after = [await _history_len(h) for h in active]
    samples, stages, events = await _mirror_figures(client, active, stamps)
    pair_growth = sum(a - b for a, b in zip(after, before, strict=True)) / max(1, len(samples))
    child_events = sum(events) / max(1, len(events))
    return _Latency(samples=samples, stages=stages, events_per_fill=child_events + pair_growth)


def _dependencies(sb: Any, work: Path) -> Any:
    from adapters.vault import ScryptParams, Vault
    from workers.main import build_clients

    vault = Vault(work / "vault.json", kdf=ScryptParams(n=2**12))
    for i, account in enumerate(sb.info["accounts"]["demo"][: ACTIVE + 1]):
        vault.add(f"demo{i}", account["private_key"], PASSPHRASE)
    engine = create_ledger_engine(f"sqlite:///{work / 'ledger.db'}")
    upgrade(engine)
    engine.dispose()
    settings = load_settings(
        executor_mode=ExecutorMode.SANDBOX,
        data_dir=work,
        db_url=f"sqlite:///{work / 'ledger.db'}",
        sandbox_clob_url=sb.info["clob_url"],
        rpc_urls=[sb.info["rpc_url"]],
        vault_path=work / "vault.json",
        vault_passphrase=PASSPHRASE,
    )
    return build_clients(settings)


async def _start_pairs(
    sb: Any, client: Client, queue: str, pairs: int, source_address: str
) -> list[WorkflowHandle[Any, Any]]:
    """Start the pairs; the first `ACTIVE` follow the scripted source."""
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    from sandbox.rpc import block_number

    demo = sb.info["accounts"]["demo"]
    block = await block_number(sb.info["rpc_url"])
    handles = []
    for i in range(pairs):
        is_active = i < ACTIVE
        source = source_address if is_active else keccak(text=f"idle-source-{i}")[-20:]
        follower = demo[1 + i]["address"] if is_active else keccak(text=f"idle-f-{i}")[-20:]
        config = PairConfig(
            pair_id=f"{queue}-{i}",
            source=to_checksum_address(source),
            follower=to_checksum_address(follower),
            key_ref=f"vault://demo{1 + i if is_active else 1}",
            budget_micro=1_000 * MICRO,
            sizing=Sizing(fixed_micro=5 * MICRO),
            guards=Guards(max_fill_age_s=600),
        )
        handles.append(
            await client.start_workflow(
                "PairWorkflow",
                PairWorkflowInput(
                    config=config,
                    poll_timeout_s=POLL_TIMEOUT_S,
                    start_cursor=FillCursor(block=block),
                ),
                id=pair_workflow_id(config.pair_id),
                task_queue=queue,
            )
        )
    await asyncio.sleep(2 + pairs / 200)  # every pair's first poll is running
    return handles


async def _source_fills(
    sb: Any, source_key: str, active: list[Any], fills: int
) -> dict[str, float]:
    """Make the source buy `fills` times; return fill tx hash -> when its block was available."""
    from sandbox.trader import best_ask, make_client, post_limit

    source = await asyncio.to_thread(make_client, sb.info, source_key)
    token = sb.info["markets"][0]["tokens"][0]["token_id"]
    stamps: dict[str, float] = {}
    for n in range(fills):
        best = await asyncio.to_thread(best_ask, source, token)
        answer = await asyncio.to_thread(post_limit, source, token, "BUY", best, Decimal(5), "FAK")
        now = time.time()
        for tx in answer.get("transactionsHashes") or []:
            stamps[str(tx).lower()] = now
        await _until_mirrored(active, n + 1)
        await asyncio.sleep(1.2)  # the market maker refills its book
    return stamps


async def _until_mirrored(active: list[Any], count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for handle in active:
        while True:
            state = await handle.query("state", result_type=PairState)
            if state.mirrors_started >= count and not state.in_flight:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"pair {handle.id} did not mirror fill {count}")
            await asyncio.sleep(0.05)


async def _history_len(handle: Any) -> int:
    return len((await handle.fetch_history()).events)


async def _mirror_figures(
    client: Client, active: list[Any], stamps: dict[str, float]
) -> tuple[list[float], dict[str, list[float]], list[int]]:
    """Return latencies, latency by stage and event counts of every mirror decision."""
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    events: list[int] = []
    for handle in active:
        state = await handle.query("state", result_type=PairState)
        pair_events = list((await handle.fetch_history()).events)
        for child, tx in mirror_decisions(state):
            child_events = list((await client.get_workflow_handle(child).fetch_history()).events)
            events.append(len(child_events))
            if tx not in stamps:
                continue
            timing = fill_stages(pair_events, child, child_events, stamps[tx])
            if timing is None:
                continue
            for stage, ms in timing.stages_ms().items():
                stages.setdefault(stage, []).append(ms)
            latencies.append(timing.stages_ms()["total"])
    return latencies, stages, events


def mirror_decisions(state: PairState) -> Iterator[tuple[str, str]]:
    """Yield (mirror workflow id, tx of the order's first fill) per decision the pair started;
    the tx is "" for a top-up, which a later fill of the order started."""
    # Mirror ids are deterministic (mirror/<pair>/<decision>); the state names the orders.
    for key, order in state.orders.items():
        first_tx = order.fills[0].split(":")[0].lower() if order.fills else ""
        for n in range(1, order.decisions + 1):
            decision = decision_id(key, n)
            yield mirror_workflow_id(state.config.pair_id, decision), first_tx if n == 1 else ""
