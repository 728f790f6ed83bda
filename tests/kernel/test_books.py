"""The pair's books: property tests of the average-cost rule, budget, positions and failure
transitions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projectk import books
from projectk.models import (
    MICRO,
    InFlight,
    MirrorOutcome,
    MirrorReport,
    PairConfig,
    PairState,
    PairStatus,
    Position,
    Side,
)
from tests.fakes import FOLLOWER, SOURCE

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def state(budget: int = 100 * MICRO) -> PairState:
    cfg = PairConfig(
        pair_id="p", source=SOURCE, follower=FOLLOWER, key_ref="vault://f", budget_micro=budget
    )
    return PairState(config=cfg)


def fly(s: PairState, decision_id: str, side: Side = Side.BUY, reserved: int = 0) -> PairState:
    flight = InFlight(
        decision_id=decision_id,
        workflow_id=f"mirror/p/{decision_id}",
        side=side,
        token_id="t",
        reserved_micro=reserved,
        started_at=NOW,
    )
    return s.model_copy(
        update={
            "in_flight": {**s.in_flight, decision_id: flight},
            "reserved_micro": s.reserved_micro + reserved,
        }
    )


def filled(decision_id: str, side: Side, shares: int, notional: int) -> MirrorReport:
    return MirrorReport(
        decision_id=decision_id,
        outcome=MirrorOutcome.FILLED,
        token_id="t",
        side=side,
        filled_shares_micro=shares,
        notional_micro=notional,
    )


def test_report_applies_once_and_releases_the_reservation() -> None:
    s = fly(state(), "f1", reserved=5 * MICRO)
    assert s.remaining_micro == 95 * MICRO
    report = MirrorReport(
        decision_id="f1",
        outcome=MirrorOutcome.FILLED,
        token_id="t",
        side=Side.BUY,
        filled_shares_micro=10 * MICRO,
        notional_micro=4 * MICRO,
    )
    s, _ = books.apply_report(s, report, NOW)
    assert s.reserved_micro == 0 and s.spent_micro == 4 * MICRO
    again, alerts = books.apply_report(s, report, NOW)
    assert again == s and alerts == []


def test_failures_block_and_a_trade_resets_the_streak() -> None:
    s = state()
    for n in range(3):
        s = fly(s, f"f{n}")
        s, alerts = books.apply_report(
            s, MirrorReport(decision_id=f"f{n}", outcome=MirrorOutcome.FAILED, reason="x"), NOW
        )
    assert s.status is PairStatus.BLOCKED
    assert any(a.kind == "blocked" for a in alerts)
    s = fly(s.model_copy(update={"status": PairStatus.ACTIVE}), "ok")
    unfilled = MirrorReport(decision_id="ok", outcome=MirrorOutcome.UNFILLED)
    s, _ = books.apply_report(s, unfilled, NOW)
    assert s.consecutive_failures == 0


@given(
    trades=st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(min_value=1, max_value=50 * MICRO),
            st.integers(min_value=1, max_value=50 * MICRO),
        ),
        max_size=20,
    )
)
def test_positions_and_budget_stay_consistent(trades: list[tuple[Side, int, int]]) -> None:
    s = state(budget=10**12)
    for n, (side, shares, notional) in enumerate(trades):
        held = s.positions.get("t")
        if side is Side.SELL:
            if held is None:
                continue
            shares = min(shares, held.shares_micro)
        s = fly(s, f"f{n}", side=side)
        s, _ = books.apply_report(s, filled(f"f{n}", side, shares, notional), NOW)
        position = s.positions.get("t")
        if position is not None:
            assert position.shares_micro > 0 and position.cost_micro >= 0
        assert s.spent_micro >= 0 and s.reserved_micro == 0 and not s.in_flight


def test_daily_loss_limit_pauses() -> None:
    s = state()
    cfg = s.config.model_copy(
        update={"guards": s.config.guards.model_copy(update={"daily_loss_limit_micro": MICRO})}
    )
    s = s.model_copy(update={"config": cfg})
    s = fly(s, "b")
    s, _ = books.apply_report(
        s,
        MirrorReport(
            decision_id="b",
            outcome=MirrorOutcome.FILLED,
            token_id="t",
            side=Side.BUY,
            filled_shares_micro=10 * MICRO,
            notional_micro=5 * MICRO,
        ),
        NOW,
    )
    s = fly(s, "s", side=Side.SELL)
    s, alerts = books.apply_report(
        s,
        MirrorReport(
            decision_id="s",
            outcome=MirrorOutcome.FILLED,
            token_id="t",
            side=Side.SELL,
            filled_shares_micro=10 * MICRO,
            notional_micro=2 * MICRO,
        ),
        NOW,
    )
    assert s.realized_pnl_micro == -3 * MICRO
    assert s.status is PairStatus.PAUSED
    assert any(a.kind == "paused" for a in alerts)


FILLS = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=0, max_value=50 * MICRO),  # shares
        st.integers(min_value=0, max_value=50 * MICRO),  # pUSD paid or received
    ),
    max_size=30,
)


@given(fills=FILLS)
def test_average_cost_never_sells_more_than_held_nor_goes_below_zero(
    fills: list[tuple[Side, int, int]],
) -> None:
    held = Position()
    for side, shares, money in fills:
        if side is Side.BUY:
            after = held.buy(shares, money)
            assert after.shares_micro == held.shares_micro + shares
            assert after.cost_micro == held.cost_micro + money
        else:
            after, removed = held.sell(shares)
            sold = held.shares_micro - after.shares_micro
            assert sold == min(shares, held.shares_micro)
            assert 0 <= removed <= held.cost_micro and after.cost_micro == held.cost_micro - removed
            if held.shares_micro and after.shares_micro == 0:
                assert after.cost_micro == 0  # the last share takes the cost that was left
        assert after.shares_micro >= 0 and after.cost_micro >= 0
        held = after


def test_a_sale_removes_cost_in_proportion_rounded_down() -> None:
    held = Position(shares_micro=3, cost_micro=10)
    left, removed = held.sell(1)
    assert (left, removed) == (Position(shares_micro=2, cost_micro=7), 3)
    assert held.sell(5) == (Position(), 10)  # more than held: all of it, no more
    assert Position().sell(4) == (Position(), 0)
    with pytest.raises(ValueError):
        held.sell(-1)
    with pytest.raises(ValueError):
        held.buy(1, -1)


@given(fills=FILLS)
def test_the_books_account_fills_by_the_positions_rule(fills: list[tuple[Side, int, int]]) -> None:
    s = state(budget=10**12)
    expected = Position()
    realized = 0
    for n, (side, shares, money) in enumerate(fills):
        s = fly(s, f"f{n}", side=side)
        s, _ = books.apply_report(s, filled(f"f{n}", side, shares, money), NOW)
        if shares and side is Side.BUY:
            expected = expected.buy(shares, money)
        elif shares:
            expected, removed = expected.sell(shares)
            realized += money - removed
        assert s.positions.get("t", Position()) == expected
        assert s.realized_pnl_micro == realized


def test_a_position_is_marked_rounded_down_and_at_cost_without_a_price() -> None:
    held = Position(shares_micro=3_333_333, cost_micro=1_500_000)
    assert books.mark_value(held.shares_micro, Decimal("0.5")) == 1_666_666
    assert books.marked_pnl(held, Decimal("0.5")) == 166_666
    assert books.marked_pnl(held, None) == 0
