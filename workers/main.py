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
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.fills import FillFeed
from adapters.chain import (
    ChainFillFeed,
    RpcPool,
    build_claim_chain,
    build_reader,
    build_rpc_pool,
    build_tail,
)
from adapters.endpoints import resolve_endpoints
from adapters.ledger import Ledger, LedgerFillFeed, open_ledger, worker_identity
from adapters.metrics import metrics_endpoint, temporal_runtime
from adapters.polymarket import build_market_directory, build_venue
from adapters.temporal import connect
from projectk.settings import ExecutorMode, Settings
from workers.metrics import MetricsInterceptor
from workers.registry import WORKFLOWS, Clients, activities_of
from workers.schedules import ensure_claim_sweep
from workflows import policies

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=20)


def build_feed(settings: Settings, ledger: Ledger, rpc: RpcPool) -> FillFeed:
    """Return the chain tail feed when the mode reads a chain (sandbox, live), else the ledger's."""
    if settings.executor_mode is ExecutorMode.PAPER:
        return LedgerFillFeed(ledger)
    return ChainFillFeed(build_tail(settings, ledger, rpc))


def build_clients(settings: Settings) -> Clients:
    """Build the production clients from settings (resolved to the sandbox's endpoints first).

    One RPC pool serves every chain read and send of the process (the tail, balances for SELL
    sizing and reconciliation, claims), so they share its failover, rate limits and counters;
    the tail closes it when it stops, after the worker's activities have finished.
    """
    settings = resolve_endpoints(settings)
    ledger = open_ledger(settings)
    rpc = build_rpc_pool(settings)
    return Clients(
        ledger=ledger,
        feed=build_feed(settings, ledger, rpc),
        venue=build_venue(settings),
        chain=build_reader(rpc),
        claims=build_claim_chain(settings, rpc),
        markets=build_market_directory(settings),
    )


def build_worker(
    client: Client, task_queue: str, clients: Clients, max_activities: int = 5000
) -> Worker:
    """Return a worker with every workflow and activity registered."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(clients),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        interceptors=[MetricsInterceptor()],
        max_concurrent_activities=max_activities,
        max_heartbeat_throttle_interval=policies.MAX_HEARTBEAT_THROTTLE,
        # The dashboard checks that it reads the ledger the workers write by this id.
        identity=worker_identity(
            f"{os.getpid()}@{socket.gethostname()}", clients.ledger.ledger_id()
        ),
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the worker until `stop` is set or the process gets SIGTERM/SIGINT."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(settings, runtime=temporal_runtime(settings.temporal_metrics_bind))
    clients = build_clients(settings)
    worker = build_worker(
        client, settings.temporal_task_queue, clients, max_activities=settings.worker_max_activities
    )
    await ensure_claim_sweep(client, settings.temporal_task_queue)
    log.info(
        "worker polling task queue %r on %s (executor %s)",
        settings.temporal_task_queue,
        settings.temporal_address,
        settings.executor_mode.value,
    )
    tail_feed = clients.feed if isinstance(clients.feed, ChainFillFeed) else None
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


def _host() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"
