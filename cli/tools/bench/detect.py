"""`projectk bench detect`: RPC cost and detection lag of the chain tail, on the sandbox.

Method (one fresh tail per pair count, one sandbox for the run):
- The sandbox mines a block every `block_time_s` (anvil interval mining, like Polygon's rhythm).
- A chain tail with the production defaults (adaptive polling, or newHeads with `ws=True`)
  serves N pairs; each pair long-polls its own wallet through the real activity code path
  (`FillActivities.wait_for_fills` over `ChainFillFeed`, run in an `ActivityEnvironment`).
  N distinct wallets is the worst case (pairs sharing a wallet cost nothing more).
- The sandbox's demo wallets, all among the watched ones, trade through the CLOB; every trade
  settles on chain and gives a maker fill and a taker fill.
- A separate WebSocket `newHeads` subscription (not counted) stamps when each block becomes
  available at the RPC; a fill's lag is the time its pair's activity returned it minus that
  stamp. RPC requests per block = the tail's requests / blocks mined during the measurement.

Invariant: the benchmark only reads the chain through the tail under test, and never touches
the production ledger (the tail runs without one: the ledger write is not part of the figure).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities.fills import FillActivities
from adapters.chain import ChainFillFeed, ChainTail, build_bare_tail, percentile
from projectk.messages import WaitForFillsInput
from projectk.models import FillCursor

TRADERS = 6  # demo wallets that trade
WARMUP_BLOCKS = 5


@dataclass(frozen=True)
class DetectResult:
    """Figures for one pair count."""

    pairs: int
    rpc_requests_per_block: float
    lag_ms_p50: float
    lag_ms_p95: float
    fills: int
    blocks: int

    def as_json(self) -> dict[str, Any]:
        """Return the JSON object `--json` prints."""
        return {
            "pairs": self.pairs,
            "rpc_requests_per_block": self.rpc_requests_per_block,
            "lag_ms_p50": self.lag_ms_p50,
            "lag_ms_p95": self.lag_ms_p95,
            "fills": self.fills,
            "blocks": self.blocks,
        }


class BlockClock:
    """Stamp the moment each block is announced by the node (its own WebSocket)."""

    def __init__(self, ws_url: str) -> None:
        self._url = ws_url
        self.seen: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe to newHeads."""
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready))
        await asyncio.wait_for(ready.wait(), 10)

    async def _run(self, ready: asyncio.Event) -> None:
        from sandbox.rpc import new_heads

        async with new_heads(self._url) as heads:
            ready.set()
            async for number in heads:
                self.seen.setdefault(number, time.monotonic())

    async def stop(self) -> None:
        """Close the subscription."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def _pair(
    feed: ChainFillFeed, wallet: str, cursor: FillCursor, arrivals: dict[str, tuple[int, float]]
) -> None:
    # One pair: poll through the activity, as PairWorkflow does, and stamp each fill's arrival.
    activities = FillActivities(feed)
    env = ActivityEnvironment()
    while True:
        data = WaitForFillsInput(pair_id="bench", source=wallet, cursor=cursor, timeout_s=30)
        batch = await env.run(activities.wait_for_fills, data)
        now = time.monotonic()
        for fill in batch.fills:
            arrivals.setdefault(fill.fill_id, (fill.block_number, now))
        cursor = batch.cursor


async def measure(
    pairs: int,
    rpc_url: str,
    ws_url: str,
    wallets: list[str],
    trade: Any,
    trades: int,
    use_ws: bool,
) -> DetectResult:
    """Run one measurement with `pairs` pairs; `trade(i)` makes the i-th trade (blocking)."""
    tail = build_bare_tail(rpc_url, ws_url if use_ws else None)
    feed = ChainFillFeed(tail)
    clock = BlockClock(ws_url)
    await clock.start()
    await feed.start()
    await tail.wait_ready()
    cursor = FillCursor(block=(tail.synced_block or 0) + 1)
    arrivals: dict[str, tuple[int, float]] = {}
    tasks = [asyncio.create_task(_pair(feed, w, cursor, arrivals)) for w in wallets[:pairs]]
    try:
        await _wait_blocks(tail, WARMUP_BLOCKS)  # the poller learns the block rhythm
        requests, first = tail.rpc.total_requests, tail.metrics.head_block
        for number in range(trades):  # one trade per block, at varying points of the block
            await _wait_blocks(tail, 1)
            await asyncio.sleep((number * 0.37 % 1) * tail.stats().poll_interval_ms / 2000)
            await asyncio.to_thread(trade, number)
        await _wait_blocks(tail, 2)
        blocks = tail.metrics.head_block - first
        used = tail.rpc.total_requests - requests
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await feed.stop()
        await clock.stop()
    seen = clock.seen
    lags = [(at - seen[block]) * 1000 for block, at in arrivals.values() if block in seen]
    return DetectResult(
        pairs=pairs,
        rpc_requests_per_block=round(used / max(1, blocks), 2),
        lag_ms_p50=round(percentile(lags, 0.5), 1),
        lag_ms_p95=round(percentile(lags, 0.95), 1),
        fills=len(lags),
        blocks=blocks,
    )


async def _wait_blocks(tail: ChainTail, count: int) -> None:
    target = tail.metrics.head_block + count
    while tail.metrics.head_block < target:  # noqa: ASYNC110 - the tail offers no event for this
        await asyncio.sleep(0.05)


def _watched(traders: list[str], pairs: int) -> list[str]:
    # The trading demo wallets first, then distinct idle addresses up to the pair count.
    from eth_utils.address import to_checksum_address
    from eth_utils.crypto import keccak

    idle = [str(to_checksum_address(keccak(text=f"bench-{i}")[-20:])) for i in range(pairs)]
    return (traders + idle)[: max(pairs, 1)]


def _trade_plan(number: int) -> tuple[int, int]:
    # Every trade involves demo wallet 0 (so even one pair sees every trade), alternating sides.
    other = 1 + (number // 2) % (TRADERS - 1)
    return (0, other) if number % 2 == 0 else (other, 0)


async def run_detect(
    pair_counts: list[int], trades: int = 15, block_time_s: int = 1, use_ws: bool = False
) -> list[DetectResult]:
    """Start a sandbox and measure each pair count in turn."""
    from sandbox.runtime import Sandbox, SandboxOptions

    options = SandboxOptions(block_time_s=block_time_s, market_maker=False, demo_markets=False)
    async with Sandbox(options) as sb:
        market = await asyncio.to_thread(_SandboxTrades, sb)
        rpc_url = str(sb.info["rpc_url"])
        ws_url = "ws" + rpc_url.removeprefix("http")
        results = []
        for pairs in pair_counts:
            wallets = _watched(market.addresses, pairs)
            results.append(
                await measure(pairs, rpc_url, ws_url, wallets, market.trade, trades, use_ws)
            )
        return results


class _SandboxTrades:
    """Demo wallets trading on one sandbox market through the unmodified CLOB client."""

    def __init__(self, sb: Any) -> None:
        from sandbox.trader import make_client

        demo = sb.info["accounts"]["demo"][:TRADERS]
        self.addresses = [str(account["address"]) for account in demo]
        market = sb.create_market("Bench detect?", None, quote=False)
        self._yes = market["tokens"][0]["token_id"]
        split = {"market": market["condition_id"], "amount": "500"}
        for address in self.addresses:  # one at a time: the operator's nonces are sequential
            sb.admin("/split", {**split, "address": address})
        self._clients = [make_client(sb.info, account["private_key"]) for account in demo]

    def trade(self, number: int) -> None:
        """Make trade `number`: a resting SELL, then a crossing BUY."""
        from sandbox.trader import post_limit

        seller, buyer = _trade_plan(number)
        price, size = Decimal("0.4"), Decimal(5)
        post_limit(self._clients[seller], self._yes, "SELL", price, size)
        post_limit(self._clients[buyer], self._yes, "BUY", price, size)
