"""`projectk bench mirror`: source fill -> follower order latency and Temporal cost, on the sandbox.

Method (one sandbox and one in-memory Temporal dev server for the run):
- The worker is the production composition (`workers.main.build_dependencies` + `activities_of`:
  chain tail feed, CLOB venue with a vault, ledger), in this process, with room for every pair's
  long poll plus the mirror activities (`max_concurrent_activities` = pairs + 200).
- For N pairs: up to `ACTIVE` pairs follow the scripted source (demo wallet 0), each with its
  own demo follower wallet; the other pairs follow distinct idle addresses and only long-poll.
- The source makes `fills` FAK buys against the market maker's book (automine: a trade's block
  exists when the CLOB answers). Latency = the follower's `post_order` completion (the CLOB's
  answer, recorded in the mirror's history by the server) minus the moment the source's block
  was available. p50/p95 over every mirrored fill of every active pair.
- history_events_per_fill = events of each mirror workflow + the growth of its pair's history per
  fill (child start, report signal, bookkeeping), averaged.
- actions_per_idle_pair_hour is computed from what an idle pair does per hour with the shipped
  constants: one `wait_for_fills` activity per poll timeout plus the heartbeats the SDK sends
  (at most one per 0.8 x heartbeat timeout), plus reconciliation (one activity per
  `RECONCILE_EVERY`, only when holding positions). It is a model, not a billing export.

Invariant: the benchmark starts its own sandbox and dev server and talks to nothing else.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from projectk.contract import SEARCH_ATTRIBUTES, mirror_workflow_id, pair_workflow_id
from projectk.detection.stats import percentile
from projectk.ledger import create_ledger_engine, upgrade
from projectk.models import (
    MICRO,
    FillCursor,
    Guards,
    PairConfig,
    PairState,
    PairWorkflowInput,
    Sizing,
)
from projectk.settings import ExecutorMode, load_settings
from projectk.temporal import data_converter, find_temporal_cli

ACTIVE = 3  # pairs that really mirror (demo followers 1..3)
PASSPHRASE = "bench passphrase"
IDLE_POLL_TIMEOUT_S = 3600.0  # the shipped default (PROJECTK_FILL_POLL_TIMEOUT_S)


@dataclass(frozen=True)
class MirrorBenchResult:
    """Figures for one pair count."""

    pairs: int
    latency_ms_p50: float
    latency_ms_p95: float
    history_events_per_fill: float
    actions_per_idle_pair_hour: float
    mirrored: int

    def as_json(self) -> dict[str, Any]:
        """Return the JSON object `--json` prints."""
        return {
            "pairs": self.pairs,
            "latency_ms_p50": self.latency_ms_p50,
            "latency_ms_p95": self.latency_ms_p95,
            "history_events_per_fill": self.history_events_per_fill,
            "actions_per_idle_pair_hour": self.actions_per_idle_pair_hour,
            "mirrored": self.mirrored,
        }


def idle_actions_per_hour(poll_timeout_s: float = IDLE_POLL_TIMEOUT_S) -> float:
    """Return the modelled billable actions of one idle pair per hour."""
    from activities.fills import HEARTBEAT_EVERY_S
    from workflows.pair_upkeep import RECONCILE_EVERY
    from workflows.policies import MAX_HEARTBEAT_THROTTLE, POLL_HEARTBEAT_TIMEOUT

    polls = 3600 / poll_timeout_s
    throttle = min(
        0.8 * POLL_HEARTBEAT_TIMEOUT.total_seconds(), MAX_HEARTBEAT_THROTTLE.total_seconds()
    )
    beat_every = max(HEARTBEAT_EVERY_S, throttle)
    beats = polls * max(0, int(poll_timeout_s / beat_every) - 1)
    reconcile = 3600 / RECONCILE_EVERY.total_seconds()
    return round(polls + beats + reconcile, 1)


async def run_mirror(pair_counts: list[int], fills: int = 10) -> list[MirrorBenchResult]:
    """Start a sandbox and a dev server; measure each pair count in turn."""
    from temporalio.testing import WorkflowEnvironment

    from sandbox.runtime import Sandbox, SandboxOptions

    async with Sandbox(SandboxOptions(block_time_s=0)) as sb:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(find_temporal_cli()),
            data_converter=data_converter(),
            search_attributes=SEARCH_ATTRIBUTES,
            ip="127.0.0.1",
        )
        try:
            return [await _measure(sb, env.client, n, fills) for n in pair_counts]
        finally:
            await env.shutdown()


async def _measure(sb: Any, client: Client, pairs: int, fills: int) -> MirrorBenchResult:
    work = Path(tempfile.mkdtemp(prefix="projectk-bench-"))
    queue = f"bench-{pairs}-{int(time.time())}"
    deps = await asyncio.to_thread(_dependencies, sb, work)
    worker = _worker(client, queue, pairs, deps)
    async with worker:
        if deps.feed is not None and hasattr(deps.feed, "start"):
            await deps.feed.start()
        try:
            handles, active = await _start_pairs(sb, client, queue, pairs)
            before = [await _history_len(h) for h in active]
            stamps = await _source_fills(sb, handles, active, fills)
            after = [await _history_len(h) for h in active]
        finally:
            if hasattr(deps.feed, "stop"):
                await deps.feed.stop()
        latencies, events = await _mirror_figures(client, active, stamps)
        for handle in handles:
            await handle.terminate("benchmark over")
    pair_growth = sum(a - b for a, b in zip(after, before, strict=True)) / max(1, len(latencies))
    child_events = sum(events) / max(1, len(events))
    return MirrorBenchResult(
        pairs=pairs,
        latency_ms_p50=round(percentile(latencies, 0.5), 1),
        latency_ms_p95=round(percentile(latencies, 0.95), 1),
        history_events_per_fill=round(child_events + pair_growth, 1),
        actions_per_idle_pair_hour=idle_actions_per_hour(),
        mirrored=len(latencies),
    )


def _dependencies(sb: Any, work: Path) -> Any:
    from projectk.vault import ScryptParams, Vault
    from workers.main import build_dependencies

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
    return build_dependencies(settings)


def _worker(client: Client, queue: str, pairs: int, deps: Any) -> Worker:
    from workers.main import WORKFLOWS, activities_of

    return Worker(
        client,
        task_queue=queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(deps),
        max_concurrent_activities=pairs + 200,
    )


async def _start_pairs(
    sb: Any, client: Client, queue: str, pairs: int
) -> tuple[list[WorkflowHandle[Any, Any]], list[WorkflowHandle[Any, Any]]]:
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    demo = sb.info["accounts"]["demo"]
    block = await asyncio.to_thread(_block_number, sb)
    handles, active = [], []
    for i in range(pairs):
        is_active = i < ACTIVE
        source = demo[0]["address"] if is_active else keccak(text=f"idle-source-{i}")[-20:]
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
        handle = await client.start_workflow(
            "PairWorkflow",
            PairWorkflowInput(
                config=config,
                poll_timeout_s=IDLE_POLL_TIMEOUT_S,
                start_cursor=FillCursor(block=block),
            ),
            id=pair_workflow_id(config.pair_id),
            task_queue=queue,
        )
        handles.append(handle)
        if is_active:
            active.append(handle)
    await asyncio.sleep(2 + pairs / 200)  # every pair's first poll is running
    return handles, active


def _block_number(sb: Any) -> int:
    from web3 import Web3

    return int(Web3(Web3.HTTPProvider(sb.info["rpc_url"])).eth.block_number)


async def _source_fills(
    sb: Any, handles: list[Any], active: list[Any], fills: int
) -> dict[str, float]:
    # The source buys; returns fill tx hash -> wall time its block was available.
    from py_clob_client_v2.client import ClobClient
    from py_clob_client_v2.clob_types import OrderArgsV2

    source = ClobClient(sb.info["clob_url"], 137, key=sb.info["accounts"]["demo"][0]["private_key"])
    source.set_api_creds(source.create_or_derive_api_key())
    token = sb.info["markets"][0]["tokens"][0]["token_id"]
    stamps: dict[str, float] = {}
    for n in range(fills):
        book = await asyncio.to_thread(source.get_order_book, token)
        best = min(float(a["price"]) for a in book["asks"])
        order = await asyncio.to_thread(
            source.create_order, OrderArgsV2(token_id=token, price=best, size=5, side="BUY")
        )
        answer = await asyncio.to_thread(source.post_order, order, "FAK")
        now = time.time()
        for tx in answer.get("transactionsHashes") or []:
            stamps[str(tx).lower()] = now
        await _until_mirrored(active, n + 1)
        await asyncio.sleep(1.2)  # the market maker refills its book
    del handles
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
) -> tuple[list[float], list[int]]:
    # Mirror ids are deterministic (mirror/<pair>/<fill>); the pairs' states name the fills.
    latencies: list[float] = []
    events: list[int] = []
    for handle in active:
        state = await handle.query("state", result_type=PairState)
        for fill_id in state.recent_fill_ids:
            child = mirror_workflow_id(state.config.pair_id, fill_id)
            history = await client.get_workflow_handle(child).fetch_history()
            events.append(len(history.events))
            posted = _post_completed_at(history.events)
            tx = fill_id.split(":")[0].lower()
            if posted is not None and tx in stamps:
                latencies.append((posted - stamps[tx]) * 1000)
    return latencies, events


def _post_completed_at(history_events: Any) -> float | None:
    scheduled: dict[int, str] = {}
    for event in history_events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            if scheduled.get(done.scheduled_event_id) == "post_order":
                return float(event.event_time.ToMicroseconds()) / 1e6
    return None
