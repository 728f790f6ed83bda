"""Reading `OrderFilled` logs of many wallets over block ranges, within a node's limits.

Invariants:
- One `eth_getLogs` covers every fill exchange (`FILL_EXCHANGES`: both CTF exchanges and
  ExchangeV3) and up to `max_wallets` makers (topic2 as a list), over at most `max_block_range`
  blocks; larger requests are split, never truncated.
- A range counts as read only when the node that answered has reached its last block
  (`RpcPool.call_at`): a node behind (failover, a load balancer's lagging backend) answers
  blocks it has not seen with an empty list, which must not pass for "no fills there".
- A node's refusal (a JSON-RPC error) halves the range, and the reader remembers the smaller
  range; a single block the node still refuses raises `LogsUnavailable` (the caller falls back
  to the Data API). Transport failures, and ranges no node has reached yet, propagate as
  `RpcUnavailable` (the caller retries later).
- Block times come from the log (`blockTimestamp`) or from one cached header fetch per block.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from adapters.chain.contracts import FILL_EXCHANGES, ORDER_FILLED_TOPIC
from adapters.chain.decoding import ChainLog, parse_log
from adapters.chain.detection.heads import fetch_header
from adapters.chain.rpc import RpcError, RpcPool

_ADDRESSES = [address.lower() for address in FILL_EXCHANGES]
BLOCK_TIME_CACHE = 4096


class LogsUnavailable(Exception):
    """The node will not serve the logs of a block range."""

    def __init__(self, start: int, end: int, reason: str) -> None:
        super().__init__(f"logs of blocks {start}-{end} unavailable: {reason}")
        self.start, self.end = start, end


def wallet_topic(wallet: str) -> str:
    """Return an address as a 32-byte topic."""
    return "0x" + "00" * 12 + wallet[2:].lower()


class LogReader:
    """Fetch the `OrderFilled` logs of the fill exchanges whose maker is one of some wallets."""

    def __init__(self, rpc: RpcPool, max_block_range: int = 1000, max_wallets: int = 1000):
        self._rpc = rpc
        self.max_block_range = max(1, max_block_range)
        self._max_wallets = max(1, max_wallets)
        self._times: dict[int, datetime] = {}

    async def fetch(self, start: int, end: int, wallets: Sequence[str]) -> list[ChainLog]:
        """Return the logs of blocks start..end (inclusive) whose maker is in `wallets`."""
        if not wallets or end < start:
            return []
        topics = sorted({wallet_topic(w) for w in wallets})
        logs: list[ChainLog] = []
        for first in range(0, len(topics), self._max_wallets):
            chunk = topics[first : first + self._max_wallets]
            block = start
            while block <= end:
                last = min(end, block + self.max_block_range - 1)
                logs += await self._range(block, last, chunk)
                block = last + 1
        logs.sort(key=lambda lg: (lg.block_number, lg.log_index))
        return logs

    async def _range(self, start: int, end: int, topics: list[str]) -> list[ChainLog]:
        query = {
            "fromBlock": hex(start),
            "toBlock": hex(end),
            "address": _ADDRESSES,
            "topics": [ORDER_FILLED_TOPIC, None, topics],
        }
        try:
            raw = await self._rpc.call_at(end, "eth_getLogs", [query])
        except RpcError as exc:
            if start == end:
                raise LogsUnavailable(start, end, exc.message) from exc
            middle = (start + end) // 2
            self.max_block_range = max(1, min(self.max_block_range, middle - start + 1))
            return await self._range(start, middle, topics) + await self._range(
                middle + 1, end, topics
            )
        return [parse_log(item) for item in raw or []]

    def remember_time(self, block: int, timestamp: int) -> None:
        """Cache a block's time (from a header the caller already has)."""
        if len(self._times) >= BLOCK_TIME_CACHE:
            self._times.clear()
        self._times[block] = datetime.fromtimestamp(timestamp, UTC)

    async def block_times(self, logs: Sequence[ChainLog]) -> dict[int, datetime]:
        """Return the time of every block of `logs` that the logs do not carry themselves."""
        needed = {lg.block_number for lg in logs if lg.block_timestamp is None}
        for block in sorted(needed - set(self._times)):
            header = await fetch_header(self._rpc, block)
            if header is not None:
                self.remember_time(block, header.timestamp)
        return {block: self._times[block] for block in needed if block in self._times}
