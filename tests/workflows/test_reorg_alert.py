"""A reorg that takes back a fill a pair handled raises one alert: the pair's, which says what
became of its mirror. The chain tail records the retraction in the ledger and raises none.

The pair polls the real chain tail (over an in-process fake node), so both places that could
alert see the same reorg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.chain.detection.feed import ChainFillFeed
from adapters.ledger import Ledger
from projectk.messages import FillBatch
from projectk.models import AlertKind, FillCursor
from tests.adapters.chain.fake_node import MAKER, FakeNode, tail_on
from tests.fakes import GatedVenue
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state, worker


@pytest.fixture
async def chain(ledger: Ledger) -> AsyncIterator[tuple[FakeNode, ChainFillFeed]]:
    """Yield a fake chain and a started feed whose tail follows it and writes the ledger."""
    node = FakeNode(first=1000)
    feed = ChainFillFeed(tail_on(node, ledger))
    await feed.start()
    await feed.tail.wait_ready()
    try:
        yield node, feed
    finally:
        await feed.stop()


async def test_a_reorg_raises_one_alert_the_pairs(
    time_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    chain: tuple[FakeNode, ChainFillFeed],
) -> None:
    node, feed = chain
    async with worker(time_env.client, task_queue, ledger, feed, GatedVenue()):
        config = pair_config(task_queue, source=MAKER)
        handle = await start_pair(
            time_env.client, task_queue, config, start_cursor=FillCursor(block=node.head)
        )
        node.mine(1)
        (doomed,) = node.fill_ids_in(node.mine(1))
        await wait_state(handle, lambda s: s.fills_seen == 2 and doomed in s.recent_fill_ids)

        node.reorg(node.head - 1, [0, 0])

        def reorg_alerts() -> list[str]:
            return [a.message for a in ledger.list_alerts() if a.kind == AlertKind.REORG.value]

        pairs_alert = f"pair {task_queue}: source fill {doomed} was retracted"
        await eventually(lambda: any(m.startswith(pairs_alert) for m in reorg_alerts()))
        retracted = ledger.get_fill(doomed)
        assert retracted is not None and retracted.retracted_at is not None
        alerts = reorg_alerts()
    assert len(alerts) == 1, alerts


@dataclass
class CountingFeed:
    """The chain feed, counting the batches that carried a retraction."""

    feed: ChainFillFeed
    retractions: list[list[str]] = field(default_factory=list)

    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        """Return what the chain feed returns, noting a retraction."""
        batch = await self.feed.wait(source, cursor, timeout_s, rewind_epoch)
        if batch.retracted:
            self.retractions.append(batch.retracted)
        return batch


async def test_a_pair_is_handed_a_reorg_once(
    time_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    chain: tuple[FakeNode, ChainFillFeed],
) -> None:
    node, feed = chain
    counting = CountingFeed(feed)
    async with worker(time_env.client, task_queue, ledger, counting, GatedVenue()):
        config = pair_config(task_queue, source=MAKER)
        handle = await start_pair(
            time_env.client, task_queue, config, start_cursor=FillCursor(block=node.head)
        )
        node.mine(1)
        (doomed,) = node.fill_ids_in(node.mine(1))
        await wait_state(handle, lambda s: s.fills_seen == 2)

        node.reorg(node.head - 1, [0, 0])
        await eventually(lambda: counting.retractions)
        (later,) = node.fill_ids_in(node.mine(1))  # the pair polls on past the reorg
        await wait_state(handle, lambda s: later in s.recent_fill_ids)
        (last,) = node.fill_ids_in(node.mine(1))
        await wait_state(handle, lambda s: last in s.recent_fill_ids)

    assert counting.retractions == [[doomed]]
