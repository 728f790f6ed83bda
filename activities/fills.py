"""The fill source a PairWorkflow long-polls.

Invariants:
- `wait_for_fills` returns only fills strictly after the input cursor, oldest first, and never
  moves the cursor past a fill it did not return; a retried attempt resumes from the cursor in
  its input (the cursor lives in the workflow state, not here).
- The activity heartbeats while it waits, so a dead worker is noticed within the heartbeat
  timeout and the poll moves to another worker.
"""

from __future__ import annotations

import time
from typing import Protocol

from temporalio import activity

from projectk.messages import FillBatch, WaitForFillsInput
from projectk.models import FillCursor

HEARTBEAT_EVERY_S = 5.0  # well inside the workflow's poll heartbeat timeout


class FillFeed(Protocol):
    """Where fills of watched wallets come from (the ledger inbox, the chain tail)."""

    async def wait(self, source: str, cursor: FillCursor, timeout_s: float) -> FillBatch:
        """Return fills after `cursor` as soon as there are any, or an empty batch at timeout."""
        ...


class FillActivities:
    """Long-poll activities over an injected fill feed."""

    def __init__(self, feed: FillFeed) -> None:
        self._feed = feed

    @activity.defn(name="wait_for_fills")
    async def wait_for_fills(self, data: WaitForFillsInput) -> FillBatch:
        """Return the source's fills after the cursor, or an empty batch after the timeout."""
        deadline = time.monotonic() + data.timeout_s
        cursor = data.cursor
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return FillBatch(cursor=cursor)
            batch = await self._feed.wait(data.source, cursor, min(left, HEARTBEAT_EVERY_S))
            if batch.fills or batch.retracted:
                return batch
            cursor = batch.cursor
            if activity.is_worker_shutdown():  # hand the poll to another worker at once
                return FillBatch(cursor=cursor)
            activity.heartbeat(cursor.model_dump())
