"""Claims end to end on the sandbox: the real ConditionalTokens, pUSD, the vault and the claim
activities, ClaimWorkflow on the time-skipping server.

What a user would notice: the follower's pUSD grows by exactly the winning payout, in one
transaction; low POL makes the claim wait with an alert instead of failing; a worker that dies
right after sending does not send again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from eth_typing import HexStr
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from web3 import AsyncWeb3, Web3

from activities.claims import ClaimActivities
from adapters.chain import contracts as chain
from adapters.chain import ctf
from adapters.ledger import ClaimStatus, Ledger
from projectk.contract import claim_workflow_id
from projectk.messages import (
    ClaimResult,
    ClaimTarget,
    ClaimWorkflowInput,
    MarketInfoInput,
    RedeemReceipt,
    SendRedeemInput,
)
from projectk.models import AlertKind
from sandbox.runtime import Sandbox
from tests.workflows.claims.conftest import (
    KEY_REF,
    WINNING_SHARES,
    HeldMarket,
    claim_activities,
    demo_account,
    hold_yes_and_no,
)
from tests.workflows.harness import eventually, fake_clients, registry_worker
from workflows.claim import ClaimWorkflow

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

ERC20_BALANCE = "0x70a08231"  # balanceOf(address)
PAYOUT_REDEMPTION = Web3.keccak(
    text="PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)"
)


def pusd(w3: Web3, owner: str) -> int:
    data = ERC20_BALANCE + owner[2:].lower().rjust(64, "0")
    call = {"to": Web3.to_checksum_address(chain.PUSD), "data": HexStr(data)}
    return int.from_bytes(w3.eth.call(call), "big")  # type: ignore[arg-type]


def redemptions(w3: Web3, redeemer: str, since_block: int) -> list[Any]:
    topic = "0x" + redeemer[2:].lower().rjust(64, "0")
    return list(
        w3.eth.get_logs(
            {
                "fromBlock": since_block,
                "toBlock": "latest",
                "address": Web3.to_checksum_address(chain.CONDITIONAL_TOKENS),
                "topics": ["0x" + PAYOUT_REDEMPTION.hex().removeprefix("0x"), topic],
            }
        )
    )


@asynccontextmanager
async def worker(
    env: WorkflowEnvironment, task_queue: str, ledger: Ledger, acts: ClaimActivities
) -> AsyncIterator[None]:
    clients = fake_clients(ledger, claims=acts.chain, markets=acts.markets)
    async with registry_worker(env.client, task_queue, clients):
        yield


async def start(
    env: WorkflowEnvironment, task_queue: str, held: HeldMarket
) -> WorkflowHandle[ClaimWorkflow, ClaimResult]:
    target = ClaimTarget(
        holder=held.follower,
        condition_id=held.condition_id,
        key_ref=KEY_REF,
        token_ids=[held.yes, held.no],
    )
    return await env.client.start_workflow(
        ClaimWorkflow.run,
        ClaimWorkflowInput(target=target),
        id=claim_workflow_id(held.follower, held.condition_id),
        task_queue=task_queue,
    )


def assert_redeemed_once(
    w3: Web3, ledger: Ledger, held: HeldMarket, result: ClaimResult, before: tuple[int, int, int]
) -> None:
    pusd_before, nonce_before, block_before = before
    assert result.status == ClaimStatus.REDEEMED.value
    assert result.payout_micro == WINNING_SHARES
    assert pusd(w3, held.follower) - pusd_before == WINNING_SHARES  # exactly the winning payout
    follower = Web3.to_checksum_address(held.follower)
    assert w3.eth.get_transaction_count(follower) - nonce_before == 1  # one transaction
    [redemption] = redemptions(w3, held.follower, block_before + 1)
    assert "0x" + bytes(redemption["transactionHash"]).hex() == result.tx_hash
    receipt = w3.eth.get_transaction_receipt(result.tx_hash)  # type: ignore[arg-type]
    assert result.gas_used == receipt["gasUsed"] > 0
    claim = ledger.get_claim(held.follower, held.condition_id)
    assert claim is not None and claim.status is ClaimStatus.REDEEMED
    assert (claim.payout_micro, claim.tx_hash, claim.gas_used) == (
        WINNING_SHARES,
        result.tx_hash,
        result.gas_used,
    )
    assert AlertKind.CLAIMED.value in [a.kind for a in ledger.list_alerts()]
    token_ids = [int(held.yes), int(held.no)]
    ctf_balances = [
        w3.eth.call(
            {
                "to": Web3.to_checksum_address(chain.CONDITIONAL_TOKENS),
                "data": HexStr(
                    "0x00fdd58e"  # balanceOf(address,uint256)
                    + held.follower[2:].lower().rjust(64, "0")
                    + f"{t:064x}"
                ),
            }
        )
        for t in token_ids
    ]
    assert all(int.from_bytes(b, "big") == 0 for b in ctf_balances)


async def sleeping(handle: WorkflowHandle[ClaimWorkflow, ClaimResult]) -> None:
    for _ in range(300):
        history = await handle.fetch_history()
        if any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in history.events):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the claim never started waiting")


def snapshot(w3: Web3, follower: str) -> tuple[int, int, int]:
    nonce = w3.eth.get_transaction_count(Web3.to_checksum_address(follower))
    return pusd(w3, follower), nonce, w3.eth.block_number


async def test_market_facts_and_position_math_match_the_chain(
    claim_sandbox: Sandbox,
    sync_w3: Web3,
    vault_for: Any,
    http: httpx.AsyncClient,
    async_w3: AsyncWeb3[Any],
) -> None:
    account = demo_account(claim_sandbox, 3)
    held = hold_yes_and_no(claim_sandbox, sync_w3, account["address"])
    assert ctf.binary_token_ids(chain.PUSD, held.condition_id) == (held.yes, held.no)
    oracle = claim_sandbox.info["accounts"]["oracle"]["address"]
    assert ctf.condition_id(oracle, held.question_id) == held.condition_id
    acts = claim_activities(claim_sandbox, vault_for(account["private_key"]), http, async_w3)
    before = (await acts.market_info(MarketInfoInput(token_ids=[held.yes, "12345"]))).markets
    assert list(before) == [held.yes]
    assert before[held.yes].token_ids == [held.yes, held.no]
    assert before[held.yes].payout_denominator == 0 and not before[held.yes].closed
    await asyncio.to_thread(claim_sandbox.resolve, held.condition_id, "No")
    after = (await acts.market_info(MarketInfoInput(token_ids=[held.no]))).markets[held.no]
    assert after.closed and (after.payout_denominator, after.payout_numerators) == (1, [0, 1])


async def test_resolution_redeems_exactly_the_winning_payout_in_one_transaction(
    claim_sandbox: Sandbox,
    sync_w3: Web3,
    claims_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    vault_for: Any,
    http: httpx.AsyncClient,
    async_w3: AsyncWeb3[Any],
) -> None:
    account = demo_account(claim_sandbox, 4)
    held = hold_yes_and_no(claim_sandbox, sync_w3, account["address"])
    acts = claim_activities(claim_sandbox, vault_for(account["private_key"]), http, async_w3)
    before = snapshot(sync_w3, held.follower)
    async with worker(claims_env, task_queue, ledger, acts):
        with claims_env.auto_time_skipping_disabled():
            handle = await start(claims_env, task_queue, held)
            await sleeping(handle)  # checked once, unresolved: now on its first timer
            await asyncio.to_thread(claim_sandbox.resolve, held.condition_id, "Yes")
            await claims_env.sleep(timedelta(minutes=15))  # the first backed-off timer
            result = await asyncio.wait_for(handle.result(), timeout=60)
    assert result.checks >= 1  # it waited for the resolution
    assert_redeemed_once(sync_w3, ledger, held, result, before)


async def test_no_pol_waits_with_a_low_gas_alert_and_completes_after_funding(
    claim_sandbox: Sandbox,
    sync_w3: Web3,
    claims_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    vault_for: Any,
    http: httpx.AsyncClient,
    async_w3: AsyncWeb3[Any],
) -> None:
    account = demo_account(claim_sandbox, 5)
    held = hold_yes_and_no(claim_sandbox, sync_w3, account["address"])
    await asyncio.to_thread(claim_sandbox.resolve, held.condition_id, "Yes")
    await asyncio.to_thread(claim_sandbox.fund, held.follower, "0", "0")
    acts = claim_activities(claim_sandbox, vault_for(account["private_key"]), http, async_w3)
    before = snapshot(sync_w3, held.follower)
    async with worker(claims_env, task_queue, ledger, acts):
        with claims_env.auto_time_skipping_disabled():
            handle = await start(claims_env, task_queue, held)
            low = await eventually(
                lambda: [a for a in ledger.list_alerts() if a.kind == AlertKind.LOW_GAS.value]
            )
            claim = ledger.get_claim(held.follower, held.condition_id)
            assert claim is not None and claim.status is ClaimStatus.WAITING
            await claims_env.sleep(timedelta(minutes=30))  # still no POL: it keeps waiting
            assert await handle.query(ClaimWorkflow.status) == ClaimStatus.WAITING.value
            await asyncio.to_thread(claim_sandbox.fund, held.follower, "0", "1")
            await claims_env.sleep(timedelta(hours=1))
            result = await asyncio.wait_for(handle.result(), timeout=60)
    assert len(low) == 1 and held.follower in low[0].message
    assert len([a for a in ledger.list_alerts() if a.kind == AlertKind.LOW_GAS.value]) == 1
    assert_redeemed_once(sync_w3, ledger, held, result, before)


async def test_a_worker_dying_right_after_sending_does_not_send_again(
    claim_sandbox: Sandbox,
    sync_w3: Web3,
    claims_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    vault_for: Any,
    http: httpx.AsyncClient,
    async_w3: AsyncWeb3[Any],
) -> None:
    account = demo_account(claim_sandbox, 6)
    held = hold_yes_and_no(claim_sandbox, sync_w3, account["address"])
    await asyncio.to_thread(claim_sandbox.resolve, held.condition_id, "Yes")
    acts = claim_activities(claim_sandbox, vault_for(account["private_key"]), http, async_w3)
    attempts: list[str] = []

    real_send = acts.chain.send_redeem

    async def dies_after_sending(
        data: SendRedeemInput, beat: Callable[[str], None] = lambda _: None
    ) -> RedeemReceipt:
        attempts.append(data.signed.tx_hash)
        if len(attempts) == 1:  # the transaction leaves; the worker dies before reporting
            sync_w3.eth.send_raw_transaction(HexStr(data.signed.raw_tx))
            sent = ledger.get_claim(held.follower, held.condition_id)
            assert sent is not None and sent.status is ClaimStatus.SENT
            assert sent.tx_hash == data.signed.tx_hash  # recorded before it was sent
            raise RuntimeError("worker killed after sending the redeem transaction")
        return await real_send(data, beat)

    acts.chain.send_redeem = dies_after_sending  # type: ignore[method-assign]
    before = snapshot(sync_w3, held.follower)
    async with worker(claims_env, task_queue, ledger, acts):
        result = await (await start(claims_env, task_queue, held)).result()
    assert len(attempts) == 2 and attempts[0] == attempts[1] == result.tx_hash
    assert_redeemed_once(sync_w3, ledger, held, result, before)
