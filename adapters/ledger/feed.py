"""A fill feed over the ledger's `source_fills` table.

Whatever writes detected fills to the ledger (the chain tail, the Data API backfill, the
orchestration demo) makes them visible to every pair following that wallet.

Invariant: it returns only unretracted fills strictly after the cursor, in (block, log index)
order, at most `batch_limit` at a time; it never advances the cursor past a returned fill.
"""

from __future__ import annotations

import asyncio
import time

from adapters.ledger.ledger import Ledger
from projectk.messages import FillBatch
from projectk.models import FillCursor


class LedgerFillFeed:
    """Poll the ledger for a wallet's fills after a cursor."""

    def __init__(self, ledger: Ledger, interval_s: float = 0.25, batch_limit: int = 100) -> None:
        self._ledger = ledger
        self._interval_s = interval_s
        self._batch_limit = batch_limit

    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        """Return fills after `cursor` as soon as the ledger has any, or none at the timeout."""
        del rewind_epoch  # the ledger hands no retractions: it leaves retracted fills out
        deadline = time.monotonic() + timeout_s
        while True:
            fills = await asyncio.to_thread(
                self._ledger.fills_after, source, cursor, self._batch_limit
            )
            if fills:
                return FillBatch(fills=fills, cursor=fills[-1].cursor())
            left = deadline - time.monotonic()
            if left <= 0:
                return FillBatch(cursor=cursor)
            await asyncio.sleep(min(self._interval_s, left))
