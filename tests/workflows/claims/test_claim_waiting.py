"""ClaimWorkflow on the time-skipping server: weeks of waiting cost few actions, low gas waits
with one alert, a lost position sends nothing; real ledger activities, fake chain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from adapters.ledger import ClaimStatus, Ledger
from adapters.temporal import data_converter
from projectk.contract import claim_workflow_id
from projectk.messages import ClaimResult, ClaimTarget, ClaimWorkflowInput
from projectk.models import MICRO, AlertKind
from tests.fakes import FOLLOWER
from tests.workflows.claims.fakes import FakeClaimChain
from tests.workflows.harness import fake_clients, registry_worker
from workflows.claim import ClaimWorkflow

CID = "0x" + "cd" * 32
YES, NO = "1001", "1002"
DAY = timedelta(days=1)


def target() -> ClaimTarget:
    return ClaimTarget(
        holder=FOLLOWER, condition_id=CID, key_ref="vault://follower", token_ids=[YES, NO]
    )


@asynccontextmanager
async def claim_worker(
    env: WorkflowEnvironment, task_queue: str, ledger: Ledger, fake: FakeClaimChain
) -> AsyncIterator[Worker]:
    async with registry_worker(env.client, task_queue, fake_clients(ledger, claims=fake)) as worker:
        yield worker


async def start(
    env: WorkflowEnvironment, task_queue: str
) -> WorkflowHandle[ClaimWorkflow, ClaimResult]:
    return await env.client.start_workflow(
        ClaimWorkflow.run,
        ClaimWorkflowInput(target=target()),
        id=claim_workflow_id(FOLLOWER, CID) + task_queue,
        task_queue=task_queue,
    )


async def events(handle: WorkflowHandle[ClaimWorkflow, ClaimResult], kind: int) -> list[object]:
    history = await handle.fetch_history()
    return [e for e in history.events if e.event_type == kind]


async def test_three_weeks_of_waiting_cost_about_two_checks_a_day(
    claims_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    t0 = await claims_env.get_current_time()
    fake = FakeClaimChain(resolves_at=t0 + 21 * DAY, balances={YES: 7 * MICRO, NO: 3 * MICRO})
    async with claim_worker(claims_env, task_queue, ledger, fake):
        handle = await start(claims_env, task_queue)
        result = await handle.result()
    assert result.status == ClaimStatus.REDEEMED.value
    assert result.payout_micro == 7 * MICRO
    reads = fake.read_times
    assert reads[-1] >= t0 + 21 * DAY  # it really waited three weeks
    last_two_weeks = [t for t in reads if t >= t0 + 7 * DAY]
    assert len(last_two_weeks) <= 14 * 2 + 1  # backed off to the 12 h ceiling
    assert len(reads) <= 21 * 2 + 8  # plus the first hours' quicker checks
    timers = await events(handle, EventType.EVENT_TYPE_TIMER_STARTED)
    assert len(timers) == len(reads) - 1
    scheduled = await events(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    assert len(scheduled) + len(timers) < 21 * 5  # a handful of actions a day
    assert (fake.calls["sign_redeem"], fake.calls["send_redeem"]) == (1, 1)
    claim = ledger.get_claim(FOLLOWER, CID)
    assert claim is not None and claim.status is ClaimStatus.REDEEMED
    assert (claim.payout_micro, claim.tx_hash, claim.gas_used) == (
        7 * MICRO,
        result.tx_hash,
        85_000,
    )
    kinds = [a.kind for a in ledger.list_alerts()]
    assert kinds == [AlertKind.CLAIMED.value]
    replayer = Replayer(workflows=[ClaimWorkflow], data_converter=data_converter())
    await replayer.replay_workflow(await handle.fetch_history())  # deterministic


async def test_low_gas_waits_with_one_alert_then_redeems(
    claims_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    t0 = await claims_env.get_current_time()
    fake = FakeClaimChain(
        resolves_at=t0, balances={YES: 2 * MICRO}, gas_wei=[0, 10**17, 4 * 10**17, 10**18]
    )
    async with claim_worker(claims_env, task_queue, ledger, fake):
        handle = await start(claims_env, task_queue)
        result = await handle.result()
    assert result.status == ClaimStatus.REDEEMED.value
    assert fake.calls["check_gas"] == 4
    assert fake.calls["send_redeem"] == 1
    alerts = ledger.list_alerts()
    assert sorted(a.kind for a in alerts) == [AlertKind.CLAIMED.value, AlertKind.LOW_GAS.value]
    timers = await events(handle, EventType.EVENT_TYPE_TIMER_STARTED)
    assert len(timers) == 3  # waited three times for POL, never failed


async def test_a_losing_position_is_recorded_lost_and_nothing_is_sent(
    claims_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    t0 = await claims_env.get_current_time()
    fake = FakeClaimChain(resolves_at=t0, numerators=[0, 1], balances={YES: 5 * MICRO})
    async with claim_worker(claims_env, task_queue, ledger, fake):
        result = await (await start(claims_env, task_queue)).result()
    assert result.status == ClaimStatus.LOST.value
    assert result.payout_micro == 0 and result.tx_hash is None
    assert fake.calls["sign_redeem"] == fake.calls["send_redeem"] == fake.calls["check_gas"] == 0
    claim = ledger.get_claim(FOLLOWER, CID)
    assert claim is not None and claim.status is ClaimStatus.LOST and claim.payout_micro == 0
    assert [a.kind for a in ledger.list_alerts()] == [AlertKind.CLAIMED.value]
