"""Emergency stop on the sandbox: a resting follower order is cancelled on the CLOB, what filled
stays on the books, and the pair starts nothing new."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from temporalio.testing import WorkflowEnvironment
from web3 import AsyncHTTPProvider, Web3

from adapters.ledger import Ledger
from adapters.ledger.records import OrderStatus
from adapters.polymarket.venue import ClobVenue
from projectk.messages import StopRequest
from projectk.models import MICRO, Guards, OrderType, PairStatus, Sizing
from sandbox.runtime import Sandbox
from tests.e2e.sandbox_flow import (
    balance,
    fills_of,
    mirror_clients,
    mirror_worker,
    trade,
)
from tests.fakes import MemoryFeed
from tests.venue_sandbox import Follower, Market
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state
from workflows.pair import PairWorkflow

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

SOURCE, MAKER = 0, 2


async def test_emergency_stop_cancels_the_resting_order_and_keeps_its_fills(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    sandbox: Sandbox,
    venue: ClobVenue,
    client_for: Callable[[int], ClobClient],
    market: Market,
    give_shares: Callable[[Market, int, int], None],
    fresh_follower: Follower,
) -> None:
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    source = sandbox.info["accounts"]["demo"][SOURCE]["address"]
    give_shares(market, MAKER, 20)
    client_for(MAKER).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.50, size=13, side="SELL")
    )
    feed = MemoryFeed()
    config = pair_config(
        task_queue,
        source=source,
        follower=fresh_follower.address,
        key_ref=fresh_follower.key_ref,
        sizing=Sizing(fixed_micro=5 * MICRO),
        guards=Guards(max_fill_age_s=600),
        order_type=OrderType.GTC,
        order_deadline_s=600,  # it would rest for ten minutes
    )
    provider = AsyncHTTPProvider(sandbox.info["rpc_url"])
    acts = mirror_clients(ledger, feed, venue, provider)
    async with mirror_worker(dev_env.client, task_queue, acts):
        handle = await start_pair(dev_env.client, task_queue, config)
        answer = trade(client_for(SOURCE), market.yes, "BUY", 0.50, 10)
        feed.push(*fills_of(w3, client_for(SOURCE), answer, source))
        posted = await eventually(
            lambda: [
                o for o in ledger.list_orders(pair_id=task_queue) if o.status is OrderStatus.POSTED
            ]
        )
        await handle.signal(PairWorkflow.emergency_stop, StopRequest(reason="operator stop"))
        state = await wait_state(
            handle, lambda s: s.status is PairStatus.STOPPED and not s.in_flight, timeout_s=30
        )
    [order] = ledger.list_orders(pair_id=task_queue)
    assert order.status is OrderStatus.CANCELLED and order.order_id == posted[0].order_id
    follower = ClobClient(sandbox.info["clob_url"], 137, key=fresh_follower.private_key)
    follower.set_api_creds(follower.create_or_derive_api_key())
    assert follower.get_order(order.order_id)["status"] == "CANCELED"
    assert [o for o in follower.get_open_orders() if o["asset_id"] == market.yes] == []
    # the 3 shares that filled before the stop are booked, and are on chain
    assert state.positions[market.yes].shares_micro == 3 * MICRO == order.filled_shares_micro
    assert balance(w3, fresh_follower.address, market.yes) == 3 * MICRO
