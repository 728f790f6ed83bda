"""A fill feed over the process's one chain tail: the production `FillFeed` when RPC is set.

Invariants:
- Every wallet a pair polls is registered with the tail on its first poll (and re-registered
  if it was forgotten for idleness); the tail, not this feed, talks to the chain.
- `wait` returns as soon as the tail has fills after the cursor (or a reorg retraction the
  poller must see and has not acknowledged), else an empty batch at the timeout whose cursor
  only moves past blocks no reorg can change any more; it never skips a fill and holds no state
  between calls, so a retried activity resumes from the cursor and acknowledgement in its input.
"""

from __future__ import annotations

import time

from adapters.chain.detection.tail import ChainTail
from projectk.messages import FillBatch
from projectk.models import FillCursor


class ChainFillFeed:
    """Long-poll one wallet's fills from the shared chain tail."""

    def __init__(self, tail: ChainTail) -> None:
        self.tail = tail

    async def start(self) -> None:
        """Start the chain tail (the worker calls this before polling its task queue)."""
        await self.tail.start()

    async def stop(self) -> None:
        """Stop the chain tail (the worker calls this after its activities finished)."""
        await self.tail.stop()

    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        """Return fills after `cursor` (or a rewind newer than `rewind_epoch`) as soon as there
        are any, or an empty batch at timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            store = self.tail.watch(source, cursor)
            batch = self.tail.batch(store, cursor, rewind_epoch)
            if batch is not None:
                return batch
            left = deadline - time.monotonic()
            if left <= 0:
                return FillBatch(cursor=self.tail.idle_cursor(store, cursor))
            await store.wait_changed(left)
