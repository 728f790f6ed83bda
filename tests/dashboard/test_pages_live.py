"""Every page against a dev server with running pairs and the ledger their workflows write:
the numbers shown equal the workflow state and the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.ledger import Ledger
from adapters.ledger.records import OrderStatus
from projectk.money import format_micro
from tests.dashboard.conftest import NEWEST_PRICE, Live, new_app, run_app
from tests.fakes import TOKEN

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
