"""The sandbox's own helpers the CLI's benchmarks drive it with: limit orders and the best ask
through the scripted trader, the block number and the node's newHeads subscription."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient

from sandbox.rpc import Rpc, block_number, new_heads
from sandbox.runtime import Sandbox
from sandbox.trader import best_ask, post_limit
from tests.sandbox_env import Market

pytestmark = pytest.mark.sandbox


def test_a_limit_order_rests_at_the_best_ask_and_a_fak_buy_takes_it(
    client_for: Callable[[int], ClobClient],
    market: Market,
    give_shares: Callable[[Market, int, int], None],
) -> None:
    give_shares(market, 0, 10)
    rested = post_limit(client_for(0), market.yes, "SELL", Decimal("0.45"), Decimal(10))
    assert rested["success"] and not rested.get("transactionsHashes")
    assert best_ask(client_for(6), market.yes) == Decimal("0.45")
    taken = post_limit(client_for(6), market.yes, "BUY", Decimal("0.45"), Decimal(5), "FAK")
    assert taken["status"] == "matched" and taken["transactionsHashes"]


async def test_new_heads_announces_each_block_the_node_mines(sandbox: Sandbox) -> None:
    rpc_url: str = sandbox.info["rpc_url"]
    async with new_heads("ws" + rpc_url.removeprefix("http")) as heads:
        before = await block_number(rpc_url)
        rpc = Rpc(rpc_url)
        try:
            await rpc.request("evm_mine", [])
        finally:
            await rpc.aclose()
        announced = await asyncio.wait_for(anext(heads), timeout=10)
    assert before < announced <= await block_number(rpc_url)
