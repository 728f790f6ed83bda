"""The fill source a PairWorkflow long-polls.

Invariants:
- `wait_for_fills` returns only fills strictly after the input cursor, oldest first, and never
  moves the cursor past a fill it did not return; a retried attempt resumes from the cursor in
  its input (the cursor lives in the workflow state, not here).
- A reorg retraction the poller acknowledged (`rewind_epoch` in its input) is not returned
  again: the acknowledgement goes to the feed with every look.
- The activity heartbeats while it waits, so a dead worker is noticed within the heartbeat
  timeout and the poll moves to another worker. It beats at 0.8 x that timeout, no more: every
  heartbeat that reaches the server is a billable action, and an idle pair's cost is mostly these.
- It looks at the feed and at worker shutdown every `CHECK_EVERY_S`, whatever the beat.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Protocol

from temporalio import activity

from projectk.messages import FillBatch, WaitForFillsInput
from projectk.models import FillCursor

CHECK_EVERY_S = 5.0  # how often the wait wakes to look at worker shutdown
BEAT_SHARE = 0.8  # heartbeat after this share of the heartbeat timeout has passed
MIN_BEAT_S = 0.1  # never a busy loop, even for a (misconfigured) tiny heartbeat timeout


class FillFeed(Protocol):
    """Where fills of watched wallets come from (the ledger inbox, the chain tail)."""

    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        """Return fills after `cursor` (or a reorg retraction newer than the poller's
        `rewind_epoch`) as soon as there are any, or an empty batch at timeout."""
        ...


class FillActivities:
    """Long-poll activities over an injected fill feed."""

    def __init__(self, feed: FillFeed) -> None:
        self._feed = feed

    @activity.defn(name="wait_for_fills")
    async def wait_for_fills(self, data: WaitForFillsInput) -> FillBatch:
        """Return the source's fills after the cursor, or an empty batch after the timeout."""
        started = time.monotonic()
        deadline = started + data.timeout_s
        beat_every = beat_interval_s(activity.info().heartbeat_timeout)
        last_beat = started
        cursor = data.cursor
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return FillBatch(cursor=cursor)
            to_beat = max(0.05, last_beat + beat_every - now)
            batch = await self._feed.wait(
                data.source, cursor, min(left, CHECK_EVERY_S, to_beat), data.rewind_epoch
            )
            if batch.fills or batch.retracted:
                return batch
            cursor = batch.cursor
            if activity.is_worker_shutdown():  # hand the poll to another worker at once
                return FillBatch(cursor=cursor)
            if time.monotonic() - last_beat >= beat_every:
                last_beat = time.monotonic()
                activity.heartbeat(cursor.model_dump())


def beat_interval_s(heartbeat_timeout: timedelta | None) -> float:
    """Return how long the poll waits between heartbeats for a given heartbeat timeout.

    Without a heartbeat timeout nothing would notice a silent poll, so a beat every minute only
    carries cancellation to the activity.
    """
    if heartbeat_timeout is None:
        return 60.0
    return max(MIN_BEAT_S, BEAT_SHARE * heartbeat_timeout.total_seconds())
