"""Every page against a dev server with running pairs and the ledger their workflows write:
the numbers shown equal the workflow state and the ledger."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import streamlit as st
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from adapters.ledger.records import OrderStatus
from projectk.models import MICRO, PairStatus
from projectk.money import format_micro
from tests.dashboard.conftest import NEWEST_PRICE, Live, new_app, run_app, tagged_worker
from tests.fakes import TOKEN, GatedVenue, MemoryFeed, make_fill
from tests.temporal_env import env_address
from tests.workflows.harness import pair_config, start_pair, wait_state

pytestmark = [pytest.mark.devserver]


async def test_overview_numbers_equal_the_workflows_and_the_ledger(
    live: Live, ledger: Ledger
) -> None:
    at = await run_app(new_app())
    assert not at.exception and not at.error
    table = at.dataframe[0].value.set_index("Pair")
    for pair_id, state in live.states.items():
        row = table.loc[pair_id]
        filled = ledger.list_orders(pair_id=pair_id, statuses=[OrderStatus.FILLED])
        assert len(filled) == state.mirrors_started
        assert row["Status"] == state.status.value == "active"
        assert row["Used"] == format_micro(state.spent_micro)
        assert state.spent_micro == sum(o.notional_micro + o.fee_micro for o in filled)
        assert row["Remaining"] == format_micro(state.remaining_micro)
        assert row["Volume"] == format_micro(sum(o.notional_micro for o in filled))
        assert row["Fills today"] == state.day_fills
        assert row["Failure streak"] == state.consecutive_failures == 0
        assert row["Realized PnL"] == format_micro(state.realized_pnl_micro)
        held = state.positions[TOKEN]
        marked = int(Decimal(held.shares_micro) * NEWEST_PRICE) - held.cost_micro
        assert row["Marked PnL"] == format_micro(marked)
    assert table.loc[live.b]["Source"] == "0x3333…3333"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fills today"] == str(sum(s.day_fills for s in live.states.values()))


async def test_pair_page_shows_the_live_state_positions_and_orders(
    live: Live, ledger: Ledger
) -> None:
    at = new_app()
    await run_app(at)
    at.query_params["pair"] = live.a
    await run_app(at.switch_page("views/pair.py"))
    assert not at.exception and not at.error
    state = live.states[live.a]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Spent (pUSD)"] == format_micro(state.spent_micro)
    assert metrics["Remaining (pUSD)"] == format_micro(state.remaining_micro)
    assert metrics["Budget (pUSD)"] == format_micro(state.config.budget_micro)
    assert metrics["Mirrors started"] == "3" and metrics["Status"] == "active"
    positions, orders = at.dataframe[0].value, at.dataframe[1].value
    assert list(positions["Shares"]) == [format_micro(state.positions[TOKEN].shares_micro)]
    assert len(orders) == len(ledger.list_orders(pair_id=live.a))
    assert any("Temporal UI" in m.value and "pair%2F" in m.value for m in at.markdown)

    at.query_params["pair"] = live.b  # a link to another pair
    await run_app(at)
    assert {m.label: m.value for m in at.metric}["Mirrors started"] == "1"
    at.selectbox(key="pair").set_value(live.a)  # the operator picks a pair
    await run_app(at)
    assert {m.label: m.value for m in at.metric}["Mirrors started"] == "3"
    assert at.query_params["pair"] in (live.a, [live.a])


async def test_pair_page_shows_the_mirrors_in_flight_and_the_budget_they_hold_back(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    dashboard_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROJECTK_TEMPORAL_ADDRESS", env_address(dev_env))
    config = pair_config(task_queue)  # buys a fixed 5 pUSD per source order
    ledger.upsert_pair(config, PairStatus.ACTIVE)
    fill = make_fill(1)
    feed, venue = MemoryFeed(), GatedVenue(open_gate=False)  # the order rests until the gate opens
    feed.push(fill)
    client = dev_env.client
    async with tagged_worker(client, task_queue, ledger, feed, venue, ledger.ledger_id()):
        handle = await start_pair(client, task_queue, config)
        state = await wait_state(handle, lambda s: len(s.in_flight) == 1)
        await asyncio.wait_for(venue.started.wait(), timeout=20)
        at = new_app()
        await run_app(at)
        at.query_params["pair"] = config.pair_id
        await run_app(at.switch_page("views/pair.py"))
        assert not at.exception and not at.error
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["In flight"] == "1"
        assert metrics["Reserved (pUSD)"] == format_micro(state.reserved_micro) != format_micro(0)
        flights = next(d.value for d in at.dataframe if "Reserved (pUSD)" in d.value.columns)
        assert list(flights["Source order"]) == [fill.order_hash]  # the first decision's id
        assert list(flights["Side"]) == ["BUY"] and list(flights["Token"]) == [TOKEN]
        assert list(flights["Reserved (pUSD)"]) == [format_micro(5 * MICRO)]
        assert any("hold back 5" in c.value for c in at.caption)

        venue.gate.set()
        await wait_state(handle, lambda s: not s.in_flight)
        st.cache_data.clear()
        await run_app(at)
        assert {m.label: m.value for m in at.metric}["Reserved (pUSD)"] == format_micro(0)
        assert not any("Reserved (pUSD)" in d.value.columns for d in at.dataframe)
        assert any("No mirror in flight" in c.value for c in at.caption)


async def test_system_page_confirms_the_workers_ledger_and_flags_a_stale_copy(
    live: Live, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = new_app()
    await run_app(at)
    await run_app(at.switch_page("views/system.py"))
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert ":material/check_circle: **same ledger as the workers**" in text
    assert ":material/check_circle: **ledger up to date with the workflows**" in text
    assert ":material/check_circle: **workers polling the task queue**" in text
    pollers = at.dataframe[0].value
    assert set(pollers["Ledger it writes"]) == {ledger.ledger_id()}

    monkeypatch.setenv("PROJECTK_DB_URL", f"sqlite:///{live.before_orders}")
    stale = new_app()
    await run_app(stale)
    await run_app(stale.switch_page("views/system.py"))
    warnings = "\n".join(w.value for w in stale.warning)
    assert "STALE LEDGER?" in warnings and f"{live.a}: 3 mirrors finished, 0" in warnings
