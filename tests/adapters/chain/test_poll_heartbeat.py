"""The fill long poll heartbeats at 0.8 x its heartbeat timeout, and no more often.

Every heartbeat that reaches the server is a billable action, so an idle pair's cost is set here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta

from temporalio.testing import ActivityEnvironment

from activities.fills import FillActivities, beat_interval_s
from projectk.messages import FillBatch, WaitForFillsInput
from projectk.models import FillCursor

WALLET = "0x" + "11" * 20


class QuietFeed:
    """A feed with no fills that answers at once (a chain tail seeing new empty blocks)."""

    def __init__(self) -> None:
        self.waits = 0

    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        self.waits += 1
        await asyncio.sleep(min(timeout_s, 0.02))
        return FillBatch(cursor=FillCursor(block=cursor.block + 1))


def test_the_beat_is_a_share_of_the_heartbeat_timeout() -> None:
    assert beat_interval_s(timedelta(minutes=10)) == 480.0
    assert beat_interval_s(timedelta(seconds=1)) == 0.8  # still inside the timeout
    assert beat_interval_s(timedelta(milliseconds=10)) == 0.1  # never a busy loop
    assert beat_interval_s(None) == 60.0


async def test_the_poll_beats_on_schedule_however_often_the_feed_answers() -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=timedelta(seconds=2))
    beats: list[float] = []
    env.on_heartbeat = lambda *details: beats.append(time.monotonic())
    feed = QuietFeed()
    started = time.monotonic()
    poll = 5.5
    data = WaitForFillsInput(pair_id="p", source=WALLET, cursor=FillCursor(block=1), timeout_s=poll)
    batch = await env.run(FillActivities(feed).wait_for_fills, data)
    assert not batch.fills and batch.cursor.block > 1
    assert feed.waits > 20  # the feed answered many times ...
    # ... but the poll beat only at about 1.6 s, 3.2 s and 4.8 s (a loaded machine may push the
    # third past the end of the poll, never add a fourth)
    assert 2 <= len(beats) <= 3, beats
    gaps = [b - a for a, b in zip([started, *beats], beats, strict=False)]
    assert all(1.55 <= gap < 2.0 for gap in gaps), gaps  # inside the 2 s heartbeat timeout
