"""The pair's books: property tests of budget, positions and failure transitions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

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


def fly(s: PairState, fill_id: str, side: Side = Side.BUY, reserved: int = 0) -> PairState:
    flight = InFlight(
        fill_id=fill_id,
        workflow_id=f"mirror/p/{fill_id}",
        side=side,
        token_id="t",
        reserved_micro=reserved,
        started_at=NOW,
    )
    return books.start_flight(s, flight)


def test_report_applies_once_and_releases_the_reservation() -> None:
    s = fly(state(), "f1", reserved=5 * MICRO)
    assert s.remaining_micro == 95 * MICRO
    report = MirrorReport(
        fill_id="f1",
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
            s, MirrorReport(fill_id=f"f{n}", outcome=MirrorOutcome.FAILED, reason="x"), NOW
        )
    assert s.status is PairStatus.BLOCKED
    assert any(a.kind == "blocked" for a in alerts)
    s = fly(s.model_copy(update={"status": PairStatus.ACTIVE}), "ok")
    s, _ = books.apply_report(s, MirrorReport(fill_id="ok", outcome=MirrorOutcome.UNFILLED), NOW)
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
        report = MirrorReport(
            fill_id=f"f{n}",
            outcome=MirrorOutcome.FILLED,
            token_id="t",
            side=side,
            filled_shares_micro=shares,
            notional_micro=notional,
        )
        s, _ = books.apply_report(s, report, NOW)
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
            fill_id="b",
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
            fill_id="s",
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


def test_a_position_is_marked_rounded_down_and_at_cost_without_a_price() -> None:
    held = Position(shares_micro=3_333_333, cost_micro=1_500_000)
    assert books.mark_value(held.shares_micro, Decimal("0.5")) == 1_666_666
    assert books.marked_pnl(held, Decimal("0.5")) == 166_666
    assert books.marked_pnl(held, None) == 0
