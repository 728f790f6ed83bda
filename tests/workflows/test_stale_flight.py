"""No flight left unmanaged: a mirror child that never reports (here: it hits its execution
timeout while following its order) is settled by its pair, from the trades the ledger recorded."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from projectk.contract import mirror_workflow_id
from tests.fakes import GatedVenue, MemoryFeed, make_fill
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state, worker
from workflows import policies

pytestmark = pytest.mark.slow  # the pair waits out the child's timeout and the grace (a minute)


async def test_a_child_that_never_reports_is_settled_and_its_reservation_released(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue(open_gate=False)
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(
            time_env.client,
            task_queue,
            pair_config(task_queue),
            poll_timeout_s=1,
            mirror_timeout_s=5,
        )
        fill = make_fill(1)
        feed.push(fill)
        await venue.started.wait()  # the order is posted and being followed
        held = await wait_state(handle, lambda s: s.reserved_micro > 0)
        grace = policies.STALE_FLIGHT_GRACE.total_seconds()
        state = await wait_state(handle, lambda s: not s.in_flight, timeout_s=grace + 60)
        child = time_env.client.get_workflow_handle(mirror_workflow_id(task_queue, fill.order_hash))
        assert (await child.describe()).status == WorkflowExecutionStatus.TIMED_OUT
        assert held.in_flight and state.reserved_micro == 0
        assert state.remaining_micro == state.config.budget_micro  # nothing filled nor spent
        alerts = await eventually(
            lambda: [a for a in ledger.list_alerts() if "never reported" in a.message]
        )
        assert len(alerts) == 1
        assert [c.token_ids for c in venue.cancels] == [[fill.token_id]]  # what might rest
        order = ledger.get_order(task_queue, fill.order_hash)
        assert order is not None and order.status.is_terminal
        # The pair goes on: the next source order is mirrored as usual.
        venue.gate.set()
        feed.push(make_fill(2))
        await wait_state(handle, lambda s: s.mirrors_started == 2 and not s.in_flight)
