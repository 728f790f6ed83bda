"""PairWorkflow and MirrorOrderWorkflow on the time-skipping server, with fakes injected."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from adapters.ledger.records import OrderStatus
from projectk.contract import mirror_workflow_id
from projectk.messages import ConfigPatch, FillBatch, StopRequest
from projectk.models import MICRO, Exchange, Guards, MarketVersion, PairStatus, Side
from tests.fakes import SOURCE, FakeChain, GatedVenue, MemoryFeed, make_fill
from tests.workflows.harness import (
    eventually,
    fake_clients,
    pair_config,
    registry_worker,
    start_pair,
    wait_state,
    worker,
)
from workflows.pair import PairWorkflow

# A 5 pUSD fixed buy of a 0.50 fill: limit 0.515 floored to the tick = 0.51, 9.80 shares.
EXPECTED_SHARES = 9_800_000
EXPECTED_COST = 4_998_000


async def test_fill_starts_one_mirror_and_updates_books(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        fill = make_fill(1)
        feed.push(fill)
        state = await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        assert state.positions[fill.token_id].shares_micro == EXPECTED_SHARES
        assert state.spent_micro == EXPECTED_COST
        assert state.remaining_micro == 100 * MICRO - EXPECTED_COST
        assert state.cursor == fill.cursor()
        order = await eventually(lambda: ledger.get_order(task_queue, fill.order_hash))
        assert order.status is OrderStatus.FILLED
        child = time_env.client.get_workflow_handle(mirror_workflow_id(task_queue, fill.order_hash))
        assert (await child.describe()).status is not None
        assert len(venue.executed) == 1


class RepeatingFeed(MemoryFeed):
    """A feed that re-delivers every fill on every poll, ignoring the cursor (a faulty source)."""

    async def wait(self, source, cursor, timeout_s, rewind_epoch=0):  # type: ignore[no-untyped-def]
        batch = await super().wait(source, cursor.model_copy(update={"block": 0}), timeout_s)
        return batch


async def test_duplicate_fill_starts_no_second_child(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = RepeatingFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(
            time_env.client, task_queue, pair_config(task_queue), poll_timeout_s=1
        )
        feed.push(make_fill(1))
        await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        await wait_state(handle, lambda s: feed.polls >= 5)  # re-delivered several times
        state = await handle.query(PairWorkflow.state)
        assert state.mirrors_started == 1
        assert state.fills_seen == 1
        assert len(venue.executed) == 1
        assert len(ledger.list_orders(pair_id=task_queue)) == 1


async def test_pause_stops_new_children_until_resume(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        await handle.signal(PairWorkflow.pause)
        await wait_state(handle, lambda s: s.status is PairStatus.PAUSED)
        paused_fill = make_fill(1)
        feed.push(paused_fill)
        state = await wait_state(handle, lambda s: s.fills_seen == 1)
        assert state.mirrors_started == 0
        skipped = await eventually(lambda: ledger.get_order(task_queue, paused_fill.fill_id))
        assert skipped.status is OrderStatus.SKIPPED
        assert "paused" in skipped.reason

        await handle.signal(PairWorkflow.resume)
        feed.push(make_fill(2))
        state = await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        assert state.status is PairStatus.ACTIVE
        assert len(venue.executed) == 1


async def test_emergency_stop_cancels_in_flight_child_and_starts_nothing(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue(open_gate=False)
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        first = make_fill(1)
        feed.push(first)
        await venue.started.wait()
        await handle.signal(PairWorkflow.emergency_stop, StopRequest(reason="test stop"))
        state = await wait_state(
            handle, lambda s: s.status is PairStatus.STOPPED and not s.in_flight
        )
        assert state.status_reason == "test stop"
        assert state.reserved_micro == 0 and state.spent_micro == 0
        order = await eventually(lambda: ledger.get_order(task_queue, first.order_hash))
        assert order.status is OrderStatus.CANCELLED

        feed.push(make_fill(2))
        state = await wait_state(handle, lambda s: s.fills_seen == 2)
        assert state.mirrors_started == 1  # only the cancelled one
        await eventually(lambda: any(a.kind == "stopped" for a in ledger.list_alerts()))

        await handle.signal(PairWorkflow.resume)
        await wait_state(handle, lambda s: s.status is PairStatus.ACTIVE)


async def test_consecutive_failures_block_the_pair_with_an_alert(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    venue.reject_with = "not_enough_balance"
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        config = pair_config(
            task_queue, guards=Guards(max_fill_age_s=10**9, max_consecutive_failures=2)
        )
        handle = await start_pair(time_env.client, task_queue, config)
        feed.push(make_fill(1), make_fill(2))
        state = await wait_state(
            handle, lambda s: s.status is PairStatus.BLOCKED and not s.in_flight
        )
        assert state.consecutive_failures == 2
        feed.push(make_fill(3))
        state = await wait_state(handle, lambda s: s.fills_seen == 3)
        assert state.mirrors_started == 2
        await eventually(lambda: any(a.kind == "blocked" for a in ledger.list_alerts()))


async def test_update_config_validates_before_applying(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        feed.push(make_fill(1))
        await wait_state(handle, lambda s: s.spent_micro == EXPECTED_COST)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(PairWorkflow.update_config, ConfigPatch(budget_micro=1))
        state = await handle.query(PairWorkflow.state)
        assert state.config.budget_micro == 100 * MICRO
        config = await handle.execute_update(
            PairWorkflow.update_config, ConfigPatch(budget_micro=50 * MICRO)
        )
        assert config.budget_micro == 50 * MICRO
        state = await handle.query(PairWorkflow.state)
        assert state.remaining_micro == 50 * MICRO - EXPECTED_COST


async def test_sell_mirrors_the_same_fraction_and_realizes_pnl(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        feed.push(make_fill(1))
        await wait_state(handle, lambda s: s.spent_micro == EXPECTED_COST)
        # The fake chain says the source held 100 shares; it sells all of them.
        feed.push(make_fill(2, side=Side.SELL, price="0.60", shares=100 * MICRO))
        state = await wait_state(handle, lambda s: s.mirrors_started == 2 and not s.in_flight)
        assert state.positions == {}
        assert state.realized_pnl_micro > 0


async def test_a_v2_market_sell_is_sized_from_the_sources_v2_balance(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    # A v2 market's fills come from ExchangeV3: the source's balance before its sale is read
    # from PositionManager, not ConditionalTokens; the pair remembers the token's version for
    # reconciliation (`PairUpkeep` reads the follower's positions with `versions_of`).
    feed, venue, chain = MemoryFeed(), GatedVenue(), FakeChain()
    clients = fake_clients(ledger, feed, venue, chain=chain)
    async with registry_worker(time_env.client, task_queue, clients):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        bought = make_fill(1, exchange=Exchange.V3)
        feed.push(bought)
        state = await wait_state(handle, lambda s: s.spent_micro == EXPECTED_COST)
        assert state.versions == {bought.token_id: MarketVersion.V2}
        sold = make_fill(2, side=Side.SELL, price="0.60", shares=100 * MICRO, exchange=Exchange.V3)
        feed.push(sold)
        state = await wait_state(handle, lambda s: s.mirrors_started == 2 and not s.in_flight)
        assert state.positions == {}
    assert chain.reads == [(SOURCE, sold.token_id, sold.block_number - 1, MarketVersion.V2)]


async def test_remove_ends_the_workflow(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        await handle.signal(PairWorkflow.remove)
        final = await handle.result()
        assert final.status is PairStatus.REMOVED


async def test_a_removal_right_after_an_emergency_stop_keeps_the_stop_alert(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    # The stop's handler is still raising its alert when the removal ends the loop: the run
    # waits for it instead of ending with the alert's activity abandoned.
    feed, venue = MemoryFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        feed.push(make_fill(1))
        await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        await handle.signal(PairWorkflow.emergency_stop, StopRequest(reason="stop then remove"))
        await handle.signal(PairWorkflow.remove)
        final = await handle.result()
    assert final.status is PairStatus.REMOVED
    assert [a.kind for a in ledger.list_alerts() if a.kind == "stopped"] == ["stopped"]


class RetractingFeed(MemoryFeed):
    """A feed that reports retracted fill ids with the next batch, as the chain tail does."""

    def __init__(self) -> None:
        super().__init__()
        self.retracted: list[str] = []

    async def wait(self, source, cursor, timeout_s, rewind_epoch=0):  # type: ignore[no-untyped-def]
        batch = await super().wait(source, cursor, timeout_s)
        if self.retracted:
            batch = batch.model_copy(update={"retracted": self.retracted})
            self.retracted = []
        return batch


async def test_a_retracted_fill_cancels_its_unfinished_mirror_and_alerts(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = RetractingFeed(), GatedVenue(open_gate=False)
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        fill = make_fill(1)
        feed.push(fill)
        await venue.started.wait()
        feed.retracted = [fill.fill_id]
        feed.push(make_fill(2, side=Side.SELL))  # wakes the poll; skipped: nothing held
        state = await wait_state(handle, lambda s: not s.in_flight and s.fills_seen == 2)
        assert state.positions == {}
        order = await eventually(lambda: ledger.get_order(task_queue, fill.order_hash))
        assert order.status is OrderStatus.CANCELLED
        await eventually(lambda: any(a.kind == "reorg" for a in ledger.list_alerts()))


class ReorgFeed(MemoryFeed):
    """Serves scripted batches, like the chain tail around a reorg."""

    def __init__(self) -> None:
        super().__init__()
        self.scripted: list[FillBatch] = []

    async def wait(self, source, cursor, timeout_s, rewind_epoch=0):  # type: ignore[no-untyped-def]
        if self.scripted:
            return self.scripted.pop(0)
        return await super().wait(source, cursor, timeout_s)


async def test_a_reorg_rewinds_the_cursor_and_mirrors_the_new_chain_once(
    time_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    feed, venue = ReorgFeed(), GatedVenue()
    async with worker(time_env.client, task_queue, ledger, feed, venue):
        handle = await start_pair(time_env.client, task_queue, pair_config(task_queue))
        first, lost = make_fill(1), make_fill(2)
        feed.push(first, lost)
        await wait_state(handle, lambda s: s.mirrors_started == 2 and not s.in_flight)
        # The block of `lost` was replaced: a new fill at the same height, and `first` again.
        replacement = make_fill(3).model_copy(update={"block_number": lost.block_number})
        feed.scripted.append(
            FillBatch(
                fills=[replacement],
                retracted=[lost.fill_id],
                cursor=replacement.cursor(),
            )
        )
        feed.push(make_fill(4))
        state = await wait_state(handle, lambda s: s.mirrors_started == 4 and not s.in_flight)
        assert state.fills_seen == 4
        assert len(venue.executed) == 4
        await eventually(lambda: any(a.kind == "reorg" for a in ledger.list_alerts()))
