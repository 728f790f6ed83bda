"""The Data API as the fallback (and backfill) when the node cannot serve a range's logs.

Invariants:
- The Data API (`/trades?user=…&takerOnly=false`) only says *which transactions* hold a wallet's
  fills; each fill is then read from the transaction's receipt and decoded by the same decoder
  as live logs, so a fill found here has exactly the fill id, amounts, block and log index the
  chain tail would have given it: deduplication by fill id is exact.
- It is all or nothing: if a page or a receipt cannot be read, `FallbackIncomplete` is raised
  and the caller keeps its range open (a gap is retried, never skipped). Pages are parsed once
  into the Polymarket adapter's `DataApiTrade` rows; one that does not fit is unreadable.
- Pages are read newest first until a row is older than the range's first block.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from adapters.chain.decoding import parse_log, source_fills
from adapters.chain.detection.heads import fetch_header
from adapters.chain.detection.logs import LogReader
from adapters.chain.rpc import RpcError, RpcPool, RpcUnavailable
from adapters.polymarket import DataApiTrade, read_data_api_trades
from projectk.models import SourceFill

PAGE_SIZE = 100
MAX_PAGES = 100


class FallbackIncomplete(Exception):
    """The Data API or a receipt could not be read; the range stays open."""


class DataApiFallback:
    """Find a wallet's fills in a block range through the Data API and receipts."""

    def __init__(
        self, rpc: RpcPool, reader: LogReader, data_api_url: str, timeout_s: float = 10.0
    ) -> None:
        self._rpc = rpc
        self._reader = reader
        self._url = data_api_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout_s, trust_env=False)
        self.uses = 0

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def fills(
        self, wallet: str, start: int, end: int, detected_at: datetime
    ) -> list[SourceFill]:
        """Return the wallet's fills in blocks start..end, in chain order."""
        self.uses += 1
        try:
            header = await fetch_header(self._rpc, start)
            since = header.timestamp if header else 0
            hashes = await self._tx_hashes(wallet, since)
            found: dict[str, SourceFill] = {}
            for tx_hash in hashes:
                for fill in await self._receipt_fills(tx_hash, wallet, detected_at):
                    if start <= fill.block_number <= end:
                        found[fill.fill_id] = fill
        except (httpx.HTTPError, RpcError, RpcUnavailable, ValueError, LookupError) as exc:
            raise FallbackIncomplete(f"Data API fallback for {wallet}: {exc}") from exc
        return sorted(found.values(), key=lambda f: (f.block_number, f.log_index))

    async def _tx_hashes(self, wallet: str, since: int) -> list[str]:
        hashes: dict[str, None] = {}
        for page in range(MAX_PAGES):
            rows = await self._page(wallet, page * PAGE_SIZE)
            for row in rows:
                if row.timestamp >= since and row.transaction_hash:
                    hashes[row.transaction_hash.lower()] = None
            oldest = min((row.timestamp for row in rows), default=0)
            if len(rows) < PAGE_SIZE or oldest < since:
                return list(hashes)
        raise FallbackIncomplete(f"more than {MAX_PAGES} pages of trades for {wallet}")

    async def _page(self, wallet: str, offset: int) -> list[DataApiTrade]:
        params: dict[str, str | int] = {
            "user": wallet,
            "takerOnly": "false",
            "limit": PAGE_SIZE,
            "offset": offset,
        }
        response = await self._http.get(f"{self._url}/trades", params=params)
        response.raise_for_status()
        return read_data_api_trades(response.json())

    async def _receipt_fills(
        self, tx_hash: str, wallet: str, detected_at: datetime
    ) -> list[SourceFill]:
        receipt = await self._rpc.call("eth_getTransactionReceipt", [tx_hash])
        if not receipt:
            raise FallbackIncomplete(f"no receipt for {tx_hash} yet")
        logs = [parse_log(item) for item in receipt.get("logs", [])]
        times = await self._reader.block_times(logs)
        return source_fills(logs, {wallet}, detected_at, times.get)
