"""End to end on the sandbox: a source buys and sells, the follower mirrors within its guards;
the pair's state, the ledger, the CLOB and the chain agree. Real workflows on the dev server,
real activities, the unmodified py-clob-client-v2 and anvil; the chain read of the source's
position before its sale goes through an RPC node that fails its first requests.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from temporalio.testing import WorkflowEnvironment
from web3 import Web3

from adapters.ledger import Ledger
from adapters.ledger.records import OrderStatus
from adapters.polymarket.venue import ClobVenue
from projectk.models import MICRO, Guards, Side, Sizing
from sandbox.runtime import Sandbox
from tests.e2e.sandbox_flow import (
    FlakyProvider,
    balance,
    fills_of,
    mirror_clients,
    mirror_worker,
    trade,
)
from tests.fakes import MemoryFeed
from tests.venue_sandbox import Market
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

Clients = Callable[[int], ClobClient]
Give = Callable[[Market, int, int], None]
SOURCE, FOLLOWER, MAKER = 0, 1, 2


def ask(c: ClobClient, m: Market, price: float, size: float) -> None:
    c.create_and_post_order(OrderArgsV2(token_id=m.yes, price=price, size=size, side="SELL"))


def bid(c: ClobClient, m: Market, price: float, size: float) -> None:
    c.create_and_post_order(OrderArgsV2(token_id=m.yes, price=price, size=size, side="BUY"))


async def test_source_buy_then_sell_is_mirrored_and_books_match_chain(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    sandbox: Sandbox,
    venue: ClobVenue,
    client_for: Clients,
    demo: list[dict[str, Any]],
    market: Market,
    give_shares: Give,
) -> None:
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    source, follower = demo[SOURCE]["address"], demo[FOLLOWER]["address"]
    give_shares(market, MAKER, 60)
    ask(client_for(MAKER), market, 0.50, 30)
    feed = MemoryFeed()
    config = pair_config(
        task_queue,
        source=source,
        follower=follower,
        key_ref=f"vault://demo{FOLLOWER}",
        sizing=Sizing(fixed_micro=5 * MICRO),
        guards=Guards(max_fill_age_s=600),
    )
    rpc = FlakyProvider(sandbox.info["rpc_url"], failures=3)  # the chain read retries through
    acts = mirror_clients(ledger, feed, venue, rpc)
    async with mirror_worker(dev_env.client, task_queue, acts):
        handle = await start_pair(dev_env.client, task_queue, config)

        buy = trade(client_for(SOURCE), market.yes, "BUY", 0.50, 10)
        [buy_fill] = fills_of(w3, client_for(SOURCE), buy, source)
        assert buy_fill.side is Side.BUY and buy_fill.shares_micro == 10 * MICRO
        feed.push(buy_fill)
        state = await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        held = state.positions[market.yes]
        # $5 at the 0.51 guard: a $4.99 market BUY fills at the 0.50 ask: 9.98 shares
        assert held.shares_micro == 9_980_000 and held.cost_micro == 4_990_000
        assert balance(w3, follower, market.yes) == held.shares_micro
        order = ledger.get_order(task_queue, buy_fill.order_hash)
        assert order is not None and order.status is OrderStatus.FILLED
        assert order.limit_price == Decimal("0.51")
        executions = ledger.list_executions(pair_id=task_queue)
        assert [e.order_id for e in executions] == [order.order_id]
        assert all(e.tx_hash for e in executions)
        assert client_for(FOLLOWER).get_order(order.order_id)["status"] == "MATCHED"

        bid(client_for(MAKER), market, 0.48, 30)
        sell = trade(client_for(SOURCE), market.yes, "SELL", 0.48, 5)
        [sell_fill] = fills_of(w3, client_for(SOURCE), sell, source)
        feed.push(sell_fill)
        state = await wait_state(handle, lambda s: s.mirrors_started == 2 and not s.in_flight)
        # the source sold half its 10 shares: the follower sells half of 9.98, 4.99 shares (FAK
        # is not held to the 5-share minimum of resting orders), and keeps the other half
        kept = state.positions[market.yes]
        assert kept.shares_micro == 4_990_000 and kept.cost_micro == 2_495_000
        assert balance(w3, follower, market.yes) == kept.shares_micro
        proceeds = 4_990_000 * 48 // 100
        assert state.realized_pnl_micro == proceeds - 2_495_000
        orders = ledger.list_orders(pair_id=task_queue)
        assert sorted(o.status for o in orders) == [OrderStatus.FILLED, OrderStatus.FILLED]
        await eventually(lambda: len([a for a in ledger.list_alerts() if a.kind == "filled"]) == 2)
    assert rpc.failed == 3
