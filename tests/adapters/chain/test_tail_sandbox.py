"""The chain tail on the sandbox: delivery exactly once, failover, catch-up, Data API fallback."""

from __future__ import annotations

import asyncio

import pytest

from adapters.chain.detection.feed import ChainFillFeed
from adapters.ledger import Ledger
from projectk.models import MICRO, Exchange, FillCursor, MarketVersion, Side
from sandbox.runtime import Sandbox
from tests.adapters.chain.helpers import (
    PairEmulator,
    RpcProxy,
    Traders,
    eventually,
    fills_of_txs,
    make_tail,
    rpc,
)

pytestmark = pytest.mark.sandbox

TRADES = [(0, 1), (2, 3), (1, 4), (4, 0), (3, 2), (5, 1)]


def after_head(sb: Sandbox) -> FillCursor:
    """Return the cursor of a pair registered now: everything up to the head is behind it."""
    return FillCursor(block=int(rpc(sb.info["rpc_url"], "eth_blockNumber", []), 16) + 1)


async def trade_all(traders: Traders, trades: list[tuple[int, int]]) -> list[str]:
    return [await asyncio.to_thread(traders.trade, s, b) for s, b in trades]


async def test_every_fill_reaches_its_pairs_exactly_once(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    url = chain_sandbox.info["rpc_url"]
    feed = ChainFillFeed(make_tail([url], ledger))
    await feed.start()
    start = after_head(chain_sandbox)
    wallets = [traders.address(i) for i in range(6)]
    pairs = [PairEmulator(feed, w, start) for w in wallets]
    pairs.append(PairEmulator(feed, wallets[1], start))  # two pairs follow the same wallet
    for pair in pairs:
        pair.start()
    try:
        await eventually(lambda: feed.tail.synced_block is not None)
        txs = await trade_all(traders, TRADES)
        truth = fills_of_txs(url, txs)
        assert len(truth) == 2 * len(TRADES)  # the maker's and the taker's own fill per trade

        def expected(wallet: str) -> list[str]:
            return [f.fill_id for f in truth if f.wallet == wallet]

        await eventually(lambda: all(p.ids() == expected(p.wallet) for p in pairs))
        await asyncio.sleep(0.3)  # nothing more arrives
        for pair in pairs:
            assert pair.ids() == expected(pair.wallet) and not pair.duplicates
            got = {f.fill_id: f for f in pair.received}
            for fill in truth:
                if fill.wallet == pair.wallet:
                    assert got[fill.fill_id].model_dump(exclude={"detected_at", "block_time"}) == (
                        fill.model_dump(exclude={"detected_at", "block_time"})
                    )
        recorded = {f.fill_id for f in ledger.list_fills()}
        assert recorded == {f.fill_id for f in truth}
        assert all(f.detected_at is not None for f in ledger.list_fills())
    finally:
        for pair in pairs:
            await pair.stop()
        await feed.stop()


async def test_a_v2_market_trade_reaches_the_followers_of_both_wallets(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    # A v2 market's orders settle on ExchangeV3; its OrderFilled logs are fills like any other.
    url = chain_sandbox.info["rpc_url"]
    feed = ChainFillFeed(make_tail([url], ledger))
    await feed.start()
    start = after_head(chain_sandbox)
    seller = PairEmulator(feed, traders.address(0), start)
    buyer = PairEmulator(feed, traders.address(6), start)
    for pair in (seller, buyer):
        pair.start()
    try:
        await eventually(lambda: feed.tail.synced_block is not None)
        tx = await asyncio.to_thread(traders.trade_v2, 0, 6, "0.45", "7")
        await eventually(lambda: len(seller.received) == 1 and len(buyer.received) == 1)
        await asyncio.sleep(0.3)  # nothing more arrives
        (sold,), (bought,) = seller.received, buyer.received
        position = traders.v2_market["tokens"][0]["token_id"]
        for fill, side in ((sold, Side.SELL), (bought, Side.BUY)):
            assert fill.tx_hash == tx and fill.side is side and fill.token_id == position
            assert fill.exchange is Exchange.V3 and fill.market_version is MarketVersion.V2
            assert (fill.shares_micro, fill.notional_micro) == (7 * MICRO, 3_150_000)
        assert [f.fill_id for f in fills_of_txs(url, [tx])] == [sold.fill_id, bought.fill_id]
        stored = ledger.get_fill(sold.fill_id)
        assert stored is not None and stored.market_version is MarketVersion.V2
    finally:
        for pair in (seller, buyer):
            await pair.stop()
        await feed.stop()


async def test_dead_endpoint_fails_over_without_missing_a_fill(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    url = chain_sandbox.info["rpc_url"]
    proxy = RpcProxy(url)
    feed = ChainFillFeed(make_tail([proxy.url, url], ledger))
    await feed.start()
    start = after_head(chain_sandbox)
    pair = PairEmulator(feed, traders.address(0), start)
    pair.start()
    try:
        await eventually(lambda: feed.tail.synced_block is not None)
        first = await trade_all(traders, [(0, 1)])
        await eventually(lambda: len(pair.received) == 1)
        assert proxy.requests > 0
        proxy.kill()
        later = await trade_all(traders, [(1, 0), (0, 2)])
        truth = [f.fill_id for f in fills_of_txs(url, first + later) if f.wallet == pair.wallet]
        await eventually(lambda: pair.ids() == truth)
        assert not pair.duplicates
        primary, backup = feed.tail.rpc.stats()
        assert primary.errors > 0 and not primary.healthy
        assert backup.requests > 0 and backup.healthy
    finally:
        await pair.stop()
        await feed.stop()


async def test_stopped_tail_catches_up_without_gap_or_duplicate(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    url = chain_sandbox.info["rpc_url"]
    feed = ChainFillFeed(make_tail([url], ledger))
    await feed.start()
    pair = PairEmulator(feed, traders.address(2), after_head(chain_sandbox))
    pair.start()
    await eventually(lambda: feed.tail.synced_block is not None)
    before = await trade_all(traders, [(2, 3)])
    await eventually(lambda: len(pair.received) == 1)
    await pair.stop()
    await feed.stop()
    during = await trade_all(traders, [(2, 3), (3, 2), (4, 2), (2, 5), (5, 2)])
    rpc(url, "anvil_mine", [hex(200)])  # many empty blocks as well
    after_feed = ChainFillFeed(make_tail([url], ledger, max_block_range=7))
    await after_feed.start()
    resumed = PairEmulator(after_feed, pair.wallet, pair.cursor, received=list(pair.received))
    resumed.start()
    try:
        after = await trade_all(traders, [(3, 2)])
        truth = [
            f.fill_id for f in fills_of_txs(url, before + during + after) if f.wallet == pair.wallet
        ]
        await eventually(lambda: resumed.ids() == truth, timeout_s=20)
        assert not resumed.duplicates
        assert after_feed.tail.rpc.requests["eth_getLogs"] >= 200 // 7  # chunked backfill
    finally:
        await resumed.stop()
        await after_feed.stop()


async def test_data_api_fallback_when_the_node_refuses_logs(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    url = chain_sandbox.info["rpc_url"]
    start = after_head(chain_sandbox)
    txs = await trade_all(traders, [(4, 5), (5, 4), (4, 1)])
    proxy = RpcProxy(url)
    proxy.refuse_logs = True
    feed = ChainFillFeed(make_tail([proxy.url], ledger, chain_sandbox.info["data_api_url"]))
    await feed.start()
    pair = PairEmulator(feed, traders.address(4), start)
    pair.start()
    try:
        truth = [f.fill_id for f in fills_of_txs(url, txs) if f.wallet == pair.wallet]
        await eventually(lambda: pair.ids() == truth)
        live = await trade_all(traders, [(1, 4)])  # live blocks go through the fallback too
        truth += [f.fill_id for f in fills_of_txs(url, live) if f.wallet == pair.wallet]
        await eventually(lambda: pair.ids() == truth)
        assert not pair.duplicates
        assert feed.tail.metrics.data_api_fallbacks >= 2
        assert {f.fill_id for f in ledger.list_fills(wallet=pair.wallet)} == set(truth)
    finally:
        await pair.stop()
        await feed.stop()
        proxy.kill()


async def test_new_heads_over_websocket(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    url = chain_sandbox.info["rpc_url"]
    feed = ChainFillFeed(make_tail([url], ledger, ws_url="ws" + url.removeprefix("http")))
    await feed.start()
    pair = PairEmulator(feed, traders.address(3), after_head(chain_sandbox))
    pair.start()
    try:
        await eventually(lambda: feed.tail.synced_block is not None)
        txs = await trade_all(traders, [(3, 0), (1, 3)])
        truth = [f.fill_id for f in fills_of_txs(url, txs) if f.wallet == pair.wallet]
        await eventually(lambda: pair.ids() == truth)
        assert feed.tail.stats().head_mode == "ws"
        headers = feed.tail.rpc.requests["eth_getBlockByNumber"]
        assert headers < feed.tail.metrics.blocks_seen  # heads come pushed, not polled
    finally:
        await pair.stop()
        await feed.stop()


async def test_a_node_falling_behind_is_not_a_reorg(
    chain_sandbox: Sandbox, traders: Traders, ledger: Ledger
) -> None:
    url = chain_sandbox.info["rpc_url"]
    proxy = RpcProxy(url)
    feed = ChainFillFeed(make_tail([proxy.url], ledger))
    await feed.start()
    pair = PairEmulator(feed, traders.address(5), after_head(chain_sandbox))
    pair.start()
    try:
        await eventually(lambda: feed.tail.synced_block is not None)
        txs = await trade_all(traders, [(5, 0)])
        await eventually(lambda: len(pair.received) == 1)
        proxy.lag_blocks = 3  # e.g. failover to a node a few blocks behind
        await asyncio.sleep(0.3)
        proxy.lag_blocks = 0
        txs += await trade_all(traders, [(0, 5)])
        truth = [f.fill_id for f in fills_of_txs(url, txs) if f.wallet == pair.wallet]
        await eventually(lambda: pair.ids() == truth)
        assert pair.retracted == [] and feed.tail.stats().reorgs == 0
        assert all(f.retracted_at is None for f in ledger.list_fills(include_retracted=True))
    finally:
        await pair.stop()
        await feed.stop()
        proxy.kill()
