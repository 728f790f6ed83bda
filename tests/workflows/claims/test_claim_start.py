"""Claims are started from the pair and by the sweep, idempotently, and a finished claim settles
the pair's books. Time-skipping server; real pair, mirror and claim workflows; real ledger
activities; in-memory feed and venue; fake claim chain."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from adapters.ledger import ClaimStatus, Ledger
from adapters.temporal import data_converter, pair_search_attributes
from projectk.contract import CLAIM_SWEEP_WORKFLOW, claim_workflow_id, pair_workflow_id
from projectk.messages import MarketInfo, PairWorkflowInput
from projectk.models import MICRO, PairStatus
from tests.fakes import FOLLOWER, TOKEN, GatedVenue, MemoryFeed, make_fill
from tests.workflows.claims.fakes import FakeClaimChain
from tests.workflows.harness import (
    fake_clients,
    pair_config,
    registry_worker,
    start_pair,
    wait_state,
)
from workflows.claim import ClaimWorkflow
from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow


def condition_for(task_queue: str) -> str:
    # claim ids are per wallet and market, ever: each test gets its own market
    return "0x" + task_queue.encode().hex().ljust(64, "e")[:64]


NO = "424242"
SHARES = 10 * MICRO  # the fake venue fills the whole fixed 5 pUSD buy at 0.50


async def sweep(env: WorkflowEnvironment, task_queue: str, n: int) -> int:
    started: int = await env.client.execute_workflow(
        CLAIM_SWEEP_WORKFLOW,
        id=f"sweep-{task_queue}-{n}",
        task_queue=task_queue,
        result_type=int,
    )
    return started


async def test_pair_and_sweep_start_one_claim_that_settles_the_pair(
    pairs_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    cid = condition_for(task_queue)
    market = MarketInfo(condition_id=cid, token_ids=[TOKEN, NO])
    fake = FakeClaimChain(resolves_at=None, markets={TOKEN: market})
    feed, venue = MemoryFeed(), GatedVenue()
    config = pair_config(task_queue)
    ledger.upsert_pair(config, PairStatus.ACTIVE)
    clients = fake_clients(ledger, feed, venue, claims=fake)
    async with registry_worker(pairs_env.client, task_queue, clients):
        handle = await pairs_env.client.start_workflow(
            PairWorkflow.run,
            PairWorkflowInput(config=config, poll_timeout_s=0.5, claim_check_every_s=0.5),
            id=pair_workflow_id(config.pair_id),
            task_queue=task_queue,
            search_attributes=pair_search_attributes(config, PairStatus.ACTIVE),
        )
        feed.push(make_fill(1))
        state = await wait_state(handle, lambda s: s.positions.get(TOKEN) is not None)
        held = state.positions[TOKEN]
        fake.balances = {TOKEN: held.shares_micro}
        await wait_state(handle, lambda s: fake.calls["market_info"] >= 2)  # checked, not due
        assert await sweep(pairs_env, task_queue, 1) == 0  # the market has not ended yet
        assert ledger.get_claim(FOLLOWER, cid) is None  # no claim started

        fake.resolves_at = await pairs_env.get_current_time()  # the market resolves (Yes)
        state = await wait_state(handle, lambda s: TOKEN not in s.positions, timeout_s=30)
        assert await sweep(pairs_env, task_queue, 2) == 0  # already claimed: a no-op
        checks = fake.calls["market_info"]
        await asyncio.sleep(1.5)  # several check periods: nothing held, nothing asked
        assert fake.calls["market_info"] == checks
        await handle.signal(PairWorkflow.remove)
        await handle.result()  # leave nothing running on the time-skipping server

    claim_id = claim_workflow_id(config.funder_address, cid)
    described = await pairs_env.client.get_workflow_handle(claim_id).describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED
    replayer = Replayer(
        workflows=[PairWorkflow, MirrorOrderWorkflow, ClaimWorkflow],
        data_converter=data_converter(),
    )
    for workflow_id in (handle.id, claim_id):  # the pair's claim check and signal replay too
        history = await pairs_env.client.get_workflow_handle(workflow_id).fetch_history()
        await replayer.replay_workflow(history)
    assert (fake.calls["sign_redeem"], fake.calls["send_redeem"]) == (1, 1)
    claim = ledger.get_claim(FOLLOWER, cid)
    assert claim is not None and claim.status is ClaimStatus.REDEEMED
    assert claim.payout_micro == held.shares_micro
    assert state.realized_pnl_micro == held.shares_micro - held.cost_micro
    assert state.spent_micro == max(0, held.cost_micro - held.shares_micro)


async def test_sweep_starts_claims_for_positions_no_pair_claimed(
    pairs_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    t0 = await pairs_env.get_current_time()
    cid = condition_for(task_queue)
    market = MarketInfo(condition_id=cid, token_ids=[TOKEN, NO], closed=True)
    fake = FakeClaimChain(resolves_at=t0, markets={TOKEN: market}, balances={TOKEN: SHARES})
    config = pair_config(task_queue)
    ledger.upsert_pair(config, PairStatus.ACTIVE)  # registered, but its workflow is gone
    feed, venue = MemoryFeed(), GatedVenue()
    clients = fake_clients(ledger, feed, venue, claims=fake)
    async with registry_worker(pairs_env.client, task_queue, clients):
        handle = await start_pair(pairs_env.client, task_queue, config, poll_timeout_s=1)
        feed.push(make_fill(1))
        await wait_state(handle, lambda s: s.positions.get(TOKEN) is not None)
        await handle.terminate("simulate a pair that is no longer running")
        assert await sweep(pairs_env, task_queue, 1) == 1
        claim = await pairs_env.client.get_workflow_handle(
            claim_workflow_id(config.funder_address, cid)
        ).result()
        assert await sweep(pairs_env, task_queue, 2) == 0
    assert claim["status"] == ClaimStatus.REDEEMED.value
    assert fake.calls["send_redeem"] == 1
