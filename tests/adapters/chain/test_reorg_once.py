"""A reorg retraction reaches each poller once, and nothing past the fork is lost.

Found: the tail handed the same rewind to a pair on every poll, forever (a hot loop of poll and
alert activities), and as each rewind batch started again at the fork, a pair never got past the
first `batch_limit` fills of the new branch. The pollers here go through the `wait_for_fills`
activity and apply each batch as PairWorkflow does; the chain is an in-process fake node, so the
tail finds the reorg the way it does on a real one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from temporalio.testing import ActivityEnvironment

from activities.fills import FillActivities
from adapters.chain.detection.feed import ChainFillFeed
from adapters.ledger import FillRecord, Ledger
from projectk.messages import FillBatch, WaitForFillsInput
from projectk.models import AlertKind, FillCursor
from tests.adapters.chain.fake_node import MAKER, FakeNode, tail_on
from tests.workflows.harness import eventually


@dataclass
class Poller:
    """Poll through the activity and apply batches like PairWorkflow (cursor, ids, rewinds)."""

    activities: FillActivities
    cursor: FillCursor
    rewind_epoch: int = 0  # the newest rewind applied, sent back with every poll
    handled: list[str] = field(default_factory=list)
    retractions: list[list[str]] = field(default_factory=list)
    polls: int = 0

    async def poll(self, timeout_s: float = 5.0) -> FillBatch:
        """Poll once and apply the batch."""
        data = WaitForFillsInput(
            pair_id="p",
            source=MAKER,
            cursor=self.cursor,
            timeout_s=timeout_s,
            rewind_epoch=self.rewind_epoch,
        )
        self.polls += 1
        batch = await ActivityEnvironment().run(self.activities.wait_for_fills, data)
        self._apply(batch)
        return batch

    async def until(self, check: Callable[[], bool], max_polls: int = 30) -> None:
        """Poll until `check()` holds, for at most `max_polls` polls."""
        for _ in range(max_polls):
            if check():
                return
            await self.poll()
        assert check(), f"not reached after {max_polls} polls: {len(self.handled)} fills handled"

    def _apply(self, batch: FillBatch) -> None:
        if batch.retracted:  # rewind to the fork; fills handled before are known by id
            self.retractions.append(batch.retracted)
            first = batch.fills[0] if batch.fills else None
            base = FillCursor(block=first.block_number, log_index=-1) if first else batch.cursor
            self.cursor = min(self.cursor, base, key=FillCursor.key)
        for fill in batch.fills:
            if fill.cursor().key() <= self.cursor.key() or fill.fill_id in self.handled:
                continue
            self.handled.append(fill.fill_id)
            self.cursor = fill.cursor()
        self.cursor = max(self.cursor, batch.cursor, key=FillCursor.key)
        self.rewind_epoch = max(self.rewind_epoch, batch.rewind_epoch)


def retracted(ledger: Ledger, fill_id: str) -> FillRecord | None:
    """Return the fill's ledger row once it is marked retracted."""
    row = ledger.get_fill(fill_id)
    return row if row is not None and row.retracted_at is not None else None


@pytest.fixture
def node() -> FakeNode:
    """Return a fake chain at block 1000."""
    return FakeNode(first=1000)


@pytest.fixture
async def feed(node: FakeNode, ledger: Ledger) -> AsyncIterator[ChainFillFeed]:
    """Yield a started feed whose tail follows the fake node and writes the test ledger."""
    feed = ChainFillFeed(tail_on(node, ledger))
    await feed.start()
    await feed.tail.wait_ready()
    try:
        yield feed
    finally:
        await feed.stop()


async def saw_two_fills(node: FakeNode, feed: ChainFillFeed) -> tuple[Poller, str, str]:
    """Mine a fill that stays and one a reorg will take; return a poller that handled both."""
    poller = Poller(FillActivities(feed), FillCursor(block=node.head))
    (kept,) = node.fill_ids_in(node.mine(1))
    (doomed,) = node.fill_ids_in(node.mine(1))
    await poller.until(lambda: poller.handled == [kept, doomed])
    return poller, kept, doomed


async def test_a_poller_that_applied_a_rewind_is_not_handed_it_again(
    node: FakeNode, feed: ChainFillFeed
) -> None:
    poller, kept, doomed = await saw_two_fills(node, feed)
    fork = node.head - 1
    node.reorg(fork, [1, 1, 1])  # a longer branch: a new fill at the doomed one's height and on
    new = [fid for block in node.blocks if block.number > fork for fid in node.fill_ids_in(block)]

    await poller.until(lambda: poller.retractions != [])
    await poller.until(lambda: poller.handled == [kept, doomed, *new])
    for _ in range(3):  # the rewind applied, later polls wait for news instead of repeating it
        batch = await poller.poll(timeout_s=0.3)
        assert batch.retracted == [] and batch.fills == []

    assert poller.retractions == [[doomed]]


async def test_600_fills_past_a_fork_all_reach_the_poller(
    node: FakeNode, feed: ChainFillFeed
) -> None:
    poller, kept, doomed = await saw_two_fills(node, feed)
    fork = node.head - 1
    node.reorg(fork, [100] * 6 + [0])  # more than one batch (500) of fills after the fork
    new = [fid for block in node.blocks if block.number > fork for fid in node.fill_ids_in(block)]
    assert len(new) == 600

    await poller.until(lambda: len(poller.handled) >= 602)

    assert poller.handled == [kept, doomed, *new]
    assert poller.retractions == [[doomed]]


async def test_the_tail_records_a_retraction_in_the_ledger_without_an_alert_of_its_own(
    node: FakeNode, feed: ChainFillFeed, ledger: Ledger
) -> None:
    poller, kept, doomed = await saw_two_fills(node, feed)
    node.reorg(node.head - 1, [0, 0])

    await poller.until(lambda: poller.retractions != [])
    gone = await eventually(lambda: retracted(ledger, doomed))  # written just after the rewind
    await poller.poll(timeout_s=0.3)  # a poll's time for an alert to follow, if any did

    assert gone.retracted_at is not None
    still = ledger.get_fill(kept)
    assert still is not None and still.retracted_at is None
    # The pair that saw the fill raises the one alert: it can say what became of its mirror.
    assert [a for a in ledger.list_alerts() if a.kind == AlertKind.REORG.value] == []
    assert feed.tail.stats().reorgs == 1 and feed.tail.stats().fills_retracted == 1
