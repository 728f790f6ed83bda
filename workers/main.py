"""The worker process: builds the clients, registers every workflow and activity, runs until
SIGTERM/SIGINT and then shuts down gracefully (in-flight activities get time to finish).

Invariant: this is the only place that builds clients for activities; activity classes receive
them in their constructors.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from web3 import AsyncHTTPProvider, AsyncWeb3

from activities.chain import ChainActivities
from activities.fills import FillActivities, FillFeed
from activities.ledger import LedgerActivities
from activities.ledger_feed import LedgerFillFeed
from activities.orders import OrderActivities, Venue
from activities.paper import PaperVenue, ReferencePriceBook
from projectk.ledger import Ledger, open_ledger
from projectk.settings import ExecutorMode, Settings
from projectk.temporal import connect
from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (PairWorkflow, MirrorOrderWorkflow)
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


def build_venue(settings: Settings) -> Venue:
    """Return the order venue for the configured executor mode."""
    if settings.executor_mode is ExecutorMode.PAPER:
        return PaperVenue(ReferencePriceBook())
    raise WorkerConfigError(
        f"PROJECTK_EXECUTOR_MODE={settings.executor_mode.value} needs the CLOB executor, "
        "which this build does not have yet; use PROJECTK_EXECUTOR_MODE=paper"
    )


def build_dependencies(settings: Settings) -> Dependencies:
    """Build the production clients from settings."""
    ledger = open_ledger(settings)
    return Dependencies(
        ledger=ledger,
        feed=LedgerFillFeed(ledger),
        venue=build_venue(settings),
        w3=AsyncWeb3(AsyncHTTPProvider(settings.rpc_urls[0])),
    )


def activities_of(deps: Dependencies) -> list[Callable[..., Any]]:
    """Return every activity, bound to its injected clients."""
    ledger = LedgerActivities(deps.ledger)
    fills = FillActivities(deps.feed)
    orders = OrderActivities(deps.venue)
    chain = ChainActivities(deps.w3)
    return [
        ledger.record_skips,
        ledger.record_intent,
        ledger.record_outcome,
        ledger.raise_alert,
        fills.wait_for_fills,
        orders.quote,
        orders.execute_order,
        chain.token_balance,
    ]


def build_worker(client: Client, task_queue: str, deps: Dependencies) -> Worker:
    """Return a worker with every workflow and activity registered."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(deps),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the worker until `stop` is set or the process gets SIGTERM/SIGINT."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(settings)
    deps = build_dependencies(settings)
    worker = build_worker(client, settings.temporal_task_queue, deps)
    log.info(
        "worker polling task queue %r on %s (executor %s)",
        settings.temporal_task_queue,
        settings.temporal_address,
        settings.executor_mode.value,
    )
    async with worker:
        await stop.wait()
        log.info("shutting down: letting running activities finish")
    log.info("worker stopped")
