"""Balances by market version on the sandbox: a v1 token is read from ConditionalTokens, a v2
position from PositionManager, at the latest block or at the block before a sale (SELL sizing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from activities.chain import ChainActivities
from adapters.chain import ChainReader, RpcPool, build_reader
from projectk.messages import PositionsInput, TokenBalanceInput
from projectk.models import MICRO, MarketVersion
from sandbox.runtime import Sandbox
from tests.adapters.chain.helpers import Traders, rpc

pytestmark = pytest.mark.sandbox

V1, V2 = MarketVersion.V1, MarketVersion.V2


@pytest.fixture
async def reader(chain_sandbox: Sandbox) -> AsyncIterator[ChainReader]:
    """Yield the worker's balance reader over the sandbox's node."""
    pool = RpcPool([chain_sandbox.info["rpc_url"]])
    try:
        yield build_reader(pool)
    finally:
        await pool.close()


def block_of(sb: Sandbox, tx: str) -> int:
    """Return the block a transaction was mined in."""
    return int(rpc(sb.info["rpc_url"], "eth_getTransactionReceipt", [tx])["blockNumber"], 16)


async def test_each_version_is_read_where_its_market_keeps_it(
    chain_sandbox: Sandbox, traders: Traders, reader: ChainReader
) -> None:
    holder = traders.address(6)
    v1 = chain_sandbox.create_market("Reader v1?", None, quote=False)
    v2 = chain_sandbox.create_market("Reader v2?", None, quote=False, version="v2")
    chain_sandbox.split(v1["condition_id"], holder, "4")
    chain_sandbox.split(v2["condition_id"], holder, "3")
    token, position = v1["tokens"][0]["token_id"], v2["tokens"][1]["token_id"]
    assert await reader.token_balance(holder, token, version=V1) == 4 * MICRO
    assert await reader.token_balance(holder, position, version=V2) == 3 * MICRO
    # Each id means nothing on the other ledger: reading the wrong one would say 0.
    assert await reader.token_balance(holder, position, version=V1) == 0
    assert await reader.token_balance(holder, token, version=V2) == 0
    read = await reader.balances(holder, [token, position], {position: V2})
    assert read == {token: 4 * MICRO, position: 3 * MICRO}
    # Reconciliation's activity carries the versions the pair remembered (absent: v1).
    asked = PositionsInput(
        wallet=holder, token_ids=[token, position], market_versions={position: V2}
    )
    found = await ChainActivities(reader).follower_positions(asked)
    assert found.balances == read
    sized = await ChainActivities(reader).token_balance(
        TokenBalanceInput(wallet=holder, token_id=position, market_version=V2)
    )
    assert sized.shares_micro == 3 * MICRO


@pytest.mark.parametrize("version", [V1, V2])
async def test_a_sellers_balance_before_its_sale_is_read_at_that_block(
    chain_sandbox: Sandbox, traders: Traders, reader: ChainReader, version: MarketVersion
) -> None:
    # SELL sizing reads the source's balance at the block before its order's first fill.
    if version is V2:
        tx = await asyncio.to_thread(traders.trade_v2, 0, 6, "0.4", "5")
        token = traders.v2_market["tokens"][0]["token_id"]
    else:
        tx = await asyncio.to_thread(traders.trade, 0, 6, 0.4, 5)
        token = traders.yes
    block = block_of(chain_sandbox, tx)
    seller, buyer = traders.address(0), traders.address(6)
    before = await reader.token_balance(seller, token, block - 1, version)
    after = await reader.token_balance(seller, token, block, version)
    assert before - after == 5 * MICRO and before >= 6 * MICRO  # it split 6 for the sale
    bought = await reader.token_balance(buyer, token, block, version)
    assert bought - await reader.token_balance(buyer, token, block - 1, version) == 5 * MICRO
    assert await reader.balances(buyer, [token], {token: version}) == {token: bought}
