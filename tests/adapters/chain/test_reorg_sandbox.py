"""A chain reorganisation (anvil snapshot and revert) retracts the fill it removed, once."""

from __future__ import annotations

import asyncio

import pytest

from adapters.chain.detection.feed import ChainFillFeed
from adapters.ledger import Ledger
from projectk.models import AlertKind, FillCursor
from sandbox.runtime import Sandbox, SandboxOptions
from tests.adapters.chain.helpers import (
    PairEmulator,
    Traders,
    eventually,
    fills_of_txs,
    make_tail,
    rpc,
)

pytestmark = pytest.mark.sandbox


async def test_reorg_retracts_the_removed_fill_once(ledger: Ledger) -> None:
    # Its own sandbox: reverting the chain under the shared one would confuse its settler.
    options = SandboxOptions(block_time_s=0, market_maker=False, demo_markets=False)
    async with Sandbox(options) as sb:
        url = sb.info["rpc_url"]
        traders = await asyncio.to_thread(Traders, sb)
        feed = ChainFillFeed(make_tail([url], ledger))
        await feed.start()
        start = FillCursor(block=int(rpc(url, "eth_blockNumber", []), 16) + 1)
        pair = PairEmulator(feed, traders.address(0), start)
        other = PairEmulator(feed, traders.address(0), start)  # joins after the reorg
        pair.start()
        try:
            kept_tx = await asyncio.to_thread(traders.trade, 0, 1)
            snapshot = rpc(url, "evm_snapshot", [])
            doomed_tx = await asyncio.to_thread(traders.trade, 2, 0)
            (kept,) = [f for f in fills_of_txs(url, [kept_tx]) if f.wallet == pair.wallet]
            (doomed,) = [f for f in fills_of_txs(url, [doomed_tx]) if f.wallet == pair.wallet]
            await eventually(lambda: pair.ids() == [kept.fill_id, doomed.fill_id])

            rpc(url, "evm_revert", [snapshot])
            rpc(url, "anvil_mine", ["0x3"])  # the other branch grows past the old head

            await eventually(lambda: pair.retracted == [doomed.fill_id])
            assert pair.cursor.key() < doomed.cursor().key()  # rewound to the fork
            retracted = ledger.get_fill(doomed.fill_id)
            assert retracted is not None and retracted.retracted_at is not None
            still = ledger.get_fill(kept.fill_id)
            assert still is not None and still.retracted_at is None
            # The tail raises no alert: the pair that had the fill does (PairWorkflow).
            assert [a for a in ledger.list_alerts() if a.kind == AlertKind.REORG.value] == []
            other.start()  # a pair that never saw the fill is not told about it
            await asyncio.sleep(0.3)
            assert other.ids() == [kept.fill_id] and other.retracted == []
            assert feed.tail.stats().reorgs == 1
        finally:
            await pair.stop()
            await other.stop()
            await feed.stop()
