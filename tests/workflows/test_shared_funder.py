"""Two pairs the operator marked as sharing one follower funder: each sells only what it booked."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from projectk.models import MICRO, Side
from tests.fakes import FOLLOWER, GatedVenue, MemoryFeed, make_fill
from tests.workflows.harness import pair_config, start_pair, wait_state, worker
from workflows.pair import PairWorkflow

OTHER_SOURCE = "0x3333333333333333333333333333333333333333"


async def test_pairs_at_a_shared_funder_never_sell_what_the_other_booked(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        first = await start_pair(
            time_env.client,
            task_queue,
            pair_config(f"{task_queue}-a", funder=FOLLOWER, shared_funder=True),
        )
        second = await start_pair(
            time_env.client,
            task_queue,
            pair_config(
                f"{task_queue}-b", source=OTHER_SOURCE, funder=FOLLOWER, shared_funder=True
            ),
        )
        feed.push(make_fill(1), make_fill(2, wallet=OTHER_SOURCE))
        a = await wait_state(first, lambda s: s.mirrors_started == 1 and not s.in_flight)
        b = await wait_state(second, lambda s: s.mirrors_started == 1 and not s.in_flight)
        token = make_fill(1).token_id
        bought = a.positions[token].shares_micro
        assert bought > 0 and b.positions[token].shares_micro > 0
        # The first source sells everything it held (the fake chain says 100 shares before).
        feed.push(make_fill(3, side=Side.SELL, shares=100 * MICRO))
        a = await wait_state(first, lambda s: s.mirrors_started == 2 and not s.in_flight)
        sells = [p.order for p in venue.executed if p.order.side is Side.SELL]
        after = await second.query(PairWorkflow.state)
    assert [s.shares_micro for s in sells] == [bought]  # its own shares, not the funder's all
    assert token not in a.positions
    assert after.positions == b.positions  # the other pair's shares are untouched
