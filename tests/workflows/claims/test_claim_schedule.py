"""The claim sweep is a Temporal Schedule: created once by workers (idempotently), and each of
its runs is a ClaimSweepWorkflow on the worker's task queue."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from temporalio.client import ScheduleActionExecutionStartWorkflow
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from projectk import claims, contract
from tests.workflows.claims.fakes import FakeClaimChain
from tests.workflows.harness import fake_clients, registry_worker
from workers.schedules import ensure_claim_sweep

pytestmark = [pytest.mark.devserver]


async def test_sweep_schedule_is_created_once_and_runs_the_sweep(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    client = dev_env.client
    handle = client.get_schedule_handle(contract.CLAIM_SWEEP_ID)
    with contextlib.suppress(RPCError):  # another test's worker may have made it already
        await handle.delete()
    assert await ensure_claim_sweep(client, task_queue) is True
    assert await ensure_claim_sweep(client, task_queue) is False
    described = await handle.describe()
    [interval] = described.schedule.spec.intervals
    assert interval.every == claims.SWEEP_EVERY
    clients = fake_clients(ledger, claims=FakeClaimChain())
    async with registry_worker(client, task_queue, clients):
        await handle.trigger()
        for _ in range(100):
            described = await handle.describe()
            if described.info.recent_actions:
                break
            await asyncio.sleep(0.1)
        [action] = described.info.recent_actions
        started = action.action
        assert isinstance(started, ScheduleActionExecutionStartWorkflow)
        run = client.get_workflow_handle(started.workflow_id)
        assert await run.result() == 0  # nothing held: nothing to claim
    await handle.delete()
