"""The worker process: builds the clients, registers every workflow and activity, runs until
SIGTERM/SIGINT and then shuts down gracefully (in-flight activities get time to finish).

Invariant: this is the only place that builds clients for activities; activity classes receive
them in their constructors.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from web3 import AsyncHTTPProvider, AsyncWeb3

from activities.chain import ChainActivities
from activities.claims import ClaimActivities
from activities.execution_ledger import ExecutionLedgerActivities
from activities.fills import FillActivities, FillFeed
from activities.ledger import LedgerActivities
from activities.orders import OrderActivities, Venue
from activities.positions import PositionActivities
from adapters.chain.detection import build_tail
from adapters.chain.detection.feed import ChainFillFeed
from adapters.ledger import Ledger, open_ledger
from adapters.ledger.feed import LedgerFillFeed
from adapters.ledger.summaries import worker_identity
from adapters.metrics import metrics_endpoint, temporal_runtime
from adapters.polymarket.factory import paper_venue, sandbox_clob_url
from adapters.polymarket.session import ClobEndpoint, ClobSessions
from adapters.polymarket.venue import ClobVenue
from adapters.temporal import connect
from adapters.vault import Vault
from projectk.settings import ExecutorMode, Settings
from workers.claims import (
    CLAIM_WORKFLOWS,
    build_claim_activities,
    claim_activities,
    ensure_claim_sweep,
)
from workers.metrics import MetricsInterceptor
from workflows import policies
from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (PairWorkflow, MirrorOrderWorkflow, *CLAIM_WORKFLOWS)
GRACEFUL_SHUTDOWN = timedelta(seconds=20)


class WorkerConfigError(RuntimeError):
    """The settings ask for something this worker cannot run."""


@dataclass(frozen=True)
class Dependencies:
    """The clients the activities are built from."""

    ledger: Ledger
    feed: FillFeed
    venue: Venue
    w3: AsyncWeb3[Any]
    claims: ClaimActivities | None = None  # None: no claim activities


def build_venue(settings: Settings) -> Venue:
    """Return the order venue for the configured executor mode."""
    if settings.executor_mode is ExecutorMode.PAPER:
        return paper_venue(settings)
    if settings.executor_mode is ExecutorMode.LIVE:
        host = settings.polymarket_host
    else:
        host = sandbox_clob_url(settings) or ""
        if not host:
            raise WorkerConfigError(
                "PROJECTK_EXECUTOR_MODE=sandbox needs PROJECTK_SANDBOX_CLOB_URL or a running "
                f"sandbox under {settings.data_dir / 'sandbox'} (projectk sandbox up)"
            )
    vault = Vault(settings.resolved_vault_path)
    endpoint = ClobEndpoint(host=host, chain_id=settings.polymarket_chain_id)
    return ClobVenue(ClobSessions(endpoint, vault, settings.passphrase()))


def build_feed(settings: Settings, ledger: Ledger) -> FillFeed:
    """Return the chain tail feed when the mode reads a chain (sandbox, live), else the ledger's."""
    if settings.executor_mode is ExecutorMode.PAPER:
        return LedgerFillFeed(ledger)
    return ChainFillFeed(build_tail(settings, ledger))


def build_dependencies(settings: Settings) -> Dependencies:
    """Build the production clients from settings."""
    ledger = open_ledger(settings)
    w3 = AsyncWeb3(AsyncHTTPProvider(settings.rpc_urls[0]))
    return Dependencies(
        ledger=ledger,
        feed=build_feed(settings, ledger),
        venue=build_venue(settings),
        w3=w3,
        claims=build_claim_activities(settings, w3, sandbox_clob_url(settings)),
    )


def activities_of(deps: Dependencies) -> list[Callable[..., Any]]:
    """Return every activity, bound to its injected clients."""
    ledger = LedgerActivities(deps.ledger)
    fills = FillActivities(deps.feed)
    orders = OrderActivities(deps.venue)
    chain = ChainActivities(deps.w3)
    executions = ExecutionLedgerActivities(deps.ledger)
    positions = PositionActivities(deps.w3)
    return [
        ledger.record_skips,
        ledger.record_intent,
        ledger.record_outcome,
        ledger.raise_alert,
        fills.wait_for_fills,
        orders.quote,
        orders.sign_order,
        orders.post_order,
        orders.follow_order,
        orders.cancel_orders,
        executions.mark_posted,
        executions.record_executions,
        positions.follower_positions,
        chain.token_balance,
        *(claim_activities(deps.claims, deps.ledger) if deps.claims else []),
    ]


def build_worker(
    client: Client, task_queue: str, deps: Dependencies, max_activities: int = 5000
) -> Worker:
    """Return a worker with every workflow and activity registered."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(deps),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        interceptors=[MetricsInterceptor()],
        max_concurrent_activities=max_activities,
        max_heartbeat_throttle_interval=policies.MAX_HEARTBEAT_THROTTLE,
        # The dashboard checks that it reads the ledger the workers write by this id.
        identity=worker_identity(f"{os.getpid()}@{socket.gethostname()}", deps.ledger.ledger_id()),
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the worker until `stop` is set or the process gets SIGTERM/SIGINT."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(settings, runtime=temporal_runtime(settings.temporal_metrics_bind))
    deps = build_dependencies(settings)
    worker = build_worker(
        client, settings.temporal_task_queue, deps, max_activities=settings.worker_max_activities
    )
    await ensure_claim_sweep(client, settings.temporal_task_queue)
    log.info(
        "worker polling task queue %r on %s (executor %s)",
        settings.temporal_task_queue,
        settings.temporal_address,
        settings.executor_mode.value,
    )
    tail_feed = deps.feed if isinstance(deps.feed, ChainFillFeed) else None
    if tail_feed is not None:
        await tail_feed.start()  # one chain tail for every pair this worker serves
    try:
        async with worker, metrics_endpoint(settings.metrics_bind):
            await stop.wait()
            log.info("shutting down: letting running activities finish")
    finally:
        if tail_feed is not None:
            await tail_feed.stop()
    log.info("worker stopped")
