"""The worker's metrics interceptor: activity results become ProjectK's counters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.ledger import Ledger
from adapters.metrics import (
    DETECTION_LAG,
    FILLS_DETECTED,
    ORDERS_FAILED,
    ORDERS_FILLED,
    ORDERS_POSTED,
    REGISTRY,
)
from projectk.messages import FillBatch, FollowOrderResult, VenueOrderState
from projectk.models import FillCursor
from tests.fakes import GatedVenue, MemoryFeed, make_fill
from tests.workflows.harness import fake_clients, pair_config, start_pair, wait_state
from workers.metrics import MetricsInterceptor, record_error, record_result
from workers.registry import WORKFLOWS, activities_of
from workflows.pair import PairWorkflow


def test_fills_and_lag_are_counted_from_a_fill_batch() -> None:
    fill = make_fill(1)
    exchange = fill.exchange.value
    before, lags = FILLS_DETECTED.value(exchange=exchange), DETECTION_LAG.count()
    batch = FillBatch(fills=[fill, make_fill(2)], cursor=FillCursor(block=1002, log_index=0))
    record_result("wait_for_fills", batch, now=fill.block_time + timedelta(seconds=3))
    assert FILLS_DETECTED.value(exchange=exchange) == before + 2
    assert DETECTION_LAG.count() == lags + 2
    assert 'projectk_detection_lag_seconds_bucket{le="5"}' in REGISTRY.render()


def test_follow_results_and_final_errors_count_filled_and_failed() -> None:
    filled, killed = ORDERS_FILLED.value(), ORDERS_FAILED.value(reason="killed")
    record_result(
        "follow_order",
        FollowOrderResult(order_id="0x1", state=VenueOrderState.MATCHED, filled_shares_micro=5),
    )
    record_result("follow_order", FollowOrderResult(order_id="0x2", state=VenueOrderState.KILLED))
    assert ORDERS_FILLED.value() == filled + 1
    assert ORDERS_FAILED.value(reason="killed") == killed + 1
    final = ORDERS_FAILED.value(reason="InsufficientBalance")
    record_error(
        "post_order", ApplicationError("no", type="InsufficientBalance", non_retryable=True)
    )
    record_error("post_order", ApplicationError("again", type="InsufficientBalance"))  # retried
    record_error(
        "wait_for_fills", ApplicationError("x", type="InsufficientBalance", non_retryable=True)
    )
    assert ORDERS_FAILED.value(reason="InsufficientBalance") == final + 1


@pytest.mark.devserver
async def test_a_mirrored_fill_moves_the_counters(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    fill = make_fill(7)
    feed.push(fill)
    detected = FILLS_DETECTED.value(exchange=fill.exchange.value)
    posted, filled = ORDERS_POSTED.value(), ORDERS_FILLED.value()
    async with Worker(
        dev_env.client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(fake_clients(ledger, feed, venue)),
        interceptors=[MetricsInterceptor()],
    ):
        handle = await start_pair(dev_env.client, task_queue, pair_config(task_queue))
        await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        await handle.signal(PairWorkflow.remove)
        await handle.result()
    assert FILLS_DETECTED.value(exchange=fill.exchange.value) == detected + 1
    assert ORDERS_POSTED.value() == posted + 1
    assert ORDERS_FILLED.value() == filled + 1
