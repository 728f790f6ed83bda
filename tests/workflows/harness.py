"""Run PairWorkflow and MirrorOrderWorkflow on a test environment with injected fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.execution_ledger import ExecutionLedgerActivities
from activities.fills import FillActivities, FillFeed
from activities.ledger import LedgerActivities
from activities.orders import OrderActivities, Venue
from adapters.ledger import Ledger
from adapters.temporal import pair_search_attributes
from projectk.contract import pair_workflow_id
from projectk.messages import PairWorkflowInput
from projectk.models import FillCursor, Guards, PairConfig, PairState, PairStatus, Sizing
from tests.fakes import FOLLOWER, SOURCE, fake_follower_positions, fake_token_balance
from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow


def pair_config(pair_id: str = "p1", **changes: Any) -> PairConfig:
    """Return a valid pair configuration with test defaults."""
    base: dict[str, Any] = {
        "pair_id": pair_id,
        "source": SOURCE,
        "follower": FOLLOWER,
        "key_ref": "vault://follower",
        "budget_micro": 100_000_000,
        "sizing": Sizing(fixed_micro=5_000_000),
        "guards": Guards(max_fill_age_s=10**9),
    }
    base.update(changes)
    return PairConfig(**base)


def activities(ledger: Ledger, feed: FillFeed, venue: Venue) -> list[Callable[..., Any]]:
    """Return the real activities over fakes, plus the fake chain read."""
    led = LedgerActivities(ledger)
    fills = FillActivities(feed)
    orders = OrderActivities(venue)
    executions = ExecutionLedgerActivities(ledger)
    return [
        led.record_skips,
        led.record_intent,
        led.record_outcome,
        led.raise_alert,
        fills.wait_for_fills,
        orders.quote,
        orders.sign_order,
        orders.post_order,
        orders.follow_order,
        orders.cancel_orders,
        executions.mark_posted,
        executions.record_executions,
        fake_follower_positions,
        fake_token_balance,
    ]


@asynccontextmanager
async def worker(
    client: Client, task_queue: str, ledger: Ledger, feed: FillFeed, venue: Venue
) -> AsyncIterator[Worker]:
    """Run a worker with both workflows and the test activities."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[PairWorkflow, MirrorOrderWorkflow],
        activities=activities(ledger, feed, venue),
    ) as running:
        yield running


async def start_pair(
    client: Client,
    task_queue: str,
    config: PairConfig,
    poll_timeout_s: float = 5.0,
    start_cursor: FillCursor | None = None,
) -> WorkflowHandle[PairWorkflow, PairState]:
    """Start a PairWorkflow the way PairService does."""
    return await client.start_workflow(
        PairWorkflow.run,
        PairWorkflowInput(config=config, poll_timeout_s=poll_timeout_s, start_cursor=start_cursor),
        id=pair_workflow_id(config.pair_id),
        task_queue=task_queue,
        search_attributes=pair_search_attributes(config, PairStatus.ACTIVE),
    )


async def wait_state(
    handle: WorkflowHandle[PairWorkflow, PairState],
    check: Callable[[PairState], bool],
    timeout_s: float = 20.0,
) -> PairState:
    """Poll the pair's state query until `check` holds, or fail with the last state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    state = await handle.query(PairWorkflow.state)
    while not check(state):
        if loop.time() > deadline:
            raise AssertionError(f"pair state never matched; last state: {state}")
        await asyncio.sleep(0.1)
        state = await handle.query(PairWorkflow.state)
    return state


async def eventually(check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    """Poll `check` until it returns something truthy, and return that; fail at the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not (result := check()):
        if loop.time() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.1)
    return result
