"""Fault runs on the sandbox: CLOB 5xx and 429 bursts, accepted-then-response-lost, and partial
fills (FAK remainder, GTC cancelled at its deadline). Each asserts exactly one order flow per
source fill, the right position (books = chain) and a complete ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from temporalio.testing import WorkflowEnvironment
from web3 import AsyncHTTPProvider, Web3

from adapters.ledger import Ledger
from adapters.ledger.records import OrderStatus
from adapters.polymarket.venue import ClobVenue
from projectk.contract import mirror_workflow_id
from projectk.models import MICRO, Guards, OrderType, PairState, Sizing
from sandbox.runtime import Sandbox
from tests.e2e.sandbox_flow import (
    activity_runs,
    balance,
    fills_of,
    follower_trades,
    mirror_clients,
    mirror_worker,
    order_ids_of,
    trade,
)
from tests.fakes import MemoryFeed
from tests.venue_sandbox import Market
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

Clients = Callable[[int], ClobClient]
Give = Callable[[Market, int, int], None]
SOURCE, MAKER = 0, 2


async def mirror_one_buy(
    env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    sandbox: Sandbox,
    venue: ClobVenue,
    clients: Clients,
    follower: int,
    market: Market,
    ask_size: float,
    order_type: OrderType = OrderType.FAK,
    during: Callable[[], Any] | None = None,
) -> PairState:
    """The source buys 10 at 0.50 from `ask_size` asks; return the pair once it has mirrored."""
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    demo = sandbox.info["accounts"]["demo"]
    clients(MAKER).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.50, size=ask_size, side="SELL")
    )
    feed = MemoryFeed()
    config = pair_config(
        task_queue,
        source=demo[SOURCE]["address"],
        follower=demo[follower]["address"],
        key_ref=f"vault://demo{follower}",
        sizing=Sizing(fixed_micro=5 * MICRO),
        guards=Guards(max_fill_age_s=600),
        order_type=order_type,
        order_deadline_s=2,
    )
    provider = AsyncHTTPProvider(sandbox.info["rpc_url"])
    async with mirror_worker(env.client, task_queue, mirror_clients(ledger, feed, venue, provider)):
        handle = await start_pair(env.client, task_queue, config)
        answer = trade(clients(SOURCE), market.yes, "BUY", 0.50, 10)
        [fill] = fills_of(w3, clients(SOURCE), answer, demo[SOURCE]["address"])
        if during is not None:
            during()
        feed.push(fill)
        return await wait_state(
            handle, lambda s: s.mirrors_started == 1 and not s.in_flight, timeout_s=60
        )


def assert_one_flow(
    state: PairState, ledger: Ledger, task_queue: str, client: ClobClient, wallet: str, m: Market
) -> None:
    """One ledger row, every CLOB trade of the follower in the ledger, books equal to chain."""
    [order] = ledger.list_orders(pair_id=task_queue)
    executions = ledger.list_executions(pair_id=task_queue)
    trades = follower_trades(client, m.yes)
    assert order_ids_of(trades, wallet) == {e.order_id for e in executions}
    assert sorted(e.trade_id for e in executions) == sorted(t["id"] for t in trades)
    shares = sum(e.shares_micro for e in executions)
    assert order.filled_shares_micro == shares
    assert state.positions[m.yes].shares_micro == shares
    assert [o for o in client.get_open_orders() if o["asset_id"] == m.yes] == []


@pytest.mark.parametrize(
    "fault",
    [
        {"error_rate": 1.0},
        {"rate_429": 1.0, "retry_after_s": 1},
        {"lost_rate": 1.0, "lost_delay_s": 6.0},
    ],
    ids=["5xx-burst", "429-burst", "accepted-then-lost"],
)
async def test_post_faults_lead_to_exactly_one_order(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    sandbox: Sandbox,
    venue: ClobVenue,
    client_for: Clients,
    market: Market,
    give_shares: Give,
    faults: Sandbox,
    fault: dict[str, Any],
) -> None:
    follower = 4
    give_shares(market, MAKER, 40)
    loop = asyncio.get_running_loop()

    def burst() -> None:
        faults.set_faults(**fault, paths=["/order"])
        loop.call_later(2.5, lambda: faults.set_faults(reset=True))

    state = await mirror_one_buy(
        dev_env, task_queue, ledger, sandbox, venue, client_for, follower, market, 30, during=burst
    )
    [order] = ledger.list_orders(pair_id=task_queue)
    assert order.status is OrderStatus.FILLED
    child = mirror_workflow_id(task_queue, order.decision_id)
    [(attempt, posted)] = await activity_runs(dev_env.client, child, "post_order")
    if "lost_rate" in fault:  # the answer never came; the order was found by its hash
        assert '"reason":"found by hash"' in posted
    else:  # the CLOB refused or failed; the same signed order was posted again
        assert attempt > 1
    wallet = sandbox.info["accounts"]["demo"][follower]["address"]
    assert_one_flow(state, ledger, task_queue, client_for(follower), wallet, market)
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    assert balance(w3, wallet, market.yes) == state.positions[market.yes].shares_micro


@pytest.mark.parametrize("order_type", [OrderType.FAK, OrderType.GTC])
async def test_partial_fill_ends_partial_with_nothing_left_resting(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    sandbox: Sandbox,
    venue: ClobVenue,
    client_for: Clients,
    market: Market,
    give_shares: Give,
    order_type: OrderType,
) -> None:
    follower = 5 if order_type is OrderType.FAK else 6
    give_shares(market, MAKER, 20)
    state = await mirror_one_buy(
        dev_env, task_queue, ledger, sandbox, venue, client_for, follower, market, 13, order_type
    )
    [order] = ledger.list_orders(pair_id=task_queue)
    assert order.status is OrderStatus.PARTIAL
    assert state.positions[market.yes].shares_micro == 3 * MICRO  # what the book had left
    wallet = sandbox.info["accounts"]["demo"][follower]["address"]
    assert_one_flow(state, ledger, task_queue, client_for(follower), wallet, market)
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    assert balance(w3, wallet, market.yes) == 3 * MICRO
    if order_type is OrderType.GTC:  # the rest rested until the deadline, then was cancelled
        assert client_for(follower).get_order(order.order_id)["status"] == "CANCELED"
    await eventually(lambda: any(a.kind == "partial" for a in ledger.list_alerts()))
