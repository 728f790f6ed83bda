"""PairWorkflow on a real local dev server: continue-as-new, duplicate child ids, and the
emergency stop sent as a batch by the real `temporal` CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from adapters.temporal import find_temporal_cli
from projectk.contract import mirror_workflow_id
from projectk.models import PairStatus
from tests.fakes import GatedVenue, MemoryFeed, make_fill
from tests.temporal_env import env_address
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state, worker
from workflows.pair import PairWorkflow

pytestmark = [pytest.mark.devserver]


async def test_state_survives_continue_as_new_with_children_in_flight(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue(open_gate=False)
    fills = [make_fill(n) for n in range(1, 13)]
    async with worker(dev_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(dev_env.client, task_queue, pair_config(task_queue))
        first_run = (await handle.describe()).run_id
        for fill in fills:  # one at a time: each batch adds history towards the CAN limit
            feed.push(fill)
            await wait_state(handle, lambda s, f=fill: s.cursor == f.cursor())
        state = await wait_state(handle, lambda s: s.runs >= 2)
        assert len(state.in_flight) == len(fills), (
            state.mirrors_started,
            state.fills_seen,
            sorted(state.in_flight),
        )  # all children still waiting on the venue
        assert state.reserved_micro > 0
        venue.gate.set()
        state = await wait_state(handle, lambda s: not s.in_flight, timeout_s=60)
        assert (await dev_env.client.get_workflow_handle(handle.id).describe()).run_id != first_run
        assert state.mirrors_started == len(fills)
        assert state.reserved_micro == 0
        assert state.spent_micro == sum(
            o.notional_micro for o in ledger.list_orders(pair_id=task_queue)
        )
        assert len(venue.executed) == len(fills)


async def test_a_fill_seen_again_by_a_new_run_starts_no_second_child(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    fill = make_fill(1)
    feed.push(fill)
    async with worker(dev_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(dev_env.client, task_queue, pair_config(task_queue))
        await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        await handle.signal(PairWorkflow.remove)
        await handle.result()
        # Re-registered with no memory of the fill: the child id is taken, so nothing starts.
        again = await start_pair(dev_env.client, task_queue, pair_config(task_queue))
        state = await wait_state(again, lambda s: s.fills_seen == 1)
        assert state.mirrors_started == 0 and state.reserved_micro == 0
        assert len(venue.executed) == 1
        skipped = await eventually(lambda: ledger.get_order(task_queue, fill.fill_id))
        assert "already has mirror" in skipped.reason  # recorded, not silently lost
        child = dev_env.client.get_workflow_handle(mirror_workflow_id(task_queue, fill.order_hash))
        assert (await child.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_emergency_stop_with_the_real_cli_batch_stops_every_pair(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(dev_env.client, task_queue, ledger, feed, venue):
        handles = [
            await start_pair(dev_env.client, task_queue, pair_config(f"{task_queue}-{n}"))
            for n in range(3)
        ]
        for handle in handles:
            await wait_state(handle, lambda s: s.status is PairStatus.ACTIVE)
        query = f'WorkflowType="PairWorkflow" AND TaskQueue="{task_queue}"'
        await _wait_visible(dev_env, query, len(handles))
        command = [
            str(find_temporal_cli()),
            "workflow",
            "signal",
            "--address",
            env_address(dev_env),
            "--query",
            query,
            "--name",
            "emergency_stop",
            "--input",
            json.dumps({"reason": "operator batch stop"}),
            "--reason",
            "test",
            "--yes",
        ]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        for handle in handles:
            state = await wait_state(handle, lambda s: s.status is PairStatus.STOPPED, timeout_s=30)
            assert state.status_reason == "operator batch stop"


async def _wait_visible(env: WorkflowEnvironment, query: str, count: int) -> None:
    for _ in range(100):
        seen = [w async for w in env.client.list_workflows(query)]
        if len(seen) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never showed {count} workflows for {query}")
