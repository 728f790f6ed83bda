"""Aggregate reads the dashboard uses: pair totals, token totals, marks, ledger identity."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from adapters.ledger import Ledger, OrderStatus
from adapters.ledger.summaries import ledger_id_of, worker_identity
from projectk.models import MICRO, MirrorOutcome, MirrorReport, Side
from tests.adapters.ledger.conftest import FOLLOWER, T0, TOKEN, Clock, make_fill, make_intent

OTHER_TOKEN = "42"


def _outcome(
    ledger: Ledger,
    n: int,
    outcome: MirrorOutcome,
    *,
    pair_id: str = "p1",
    side: Side = Side.BUY,
    shares: int = 0,
    notional: int = 0,
    fee: int = 0,
    token_id: str = TOKEN,
) -> None:
    ledger.record_outcome(
        pair_id,
        MirrorReport(
            decision_id=f"f{n}",
            outcome=outcome,
            token_id=token_id,
            side=side,
            filled_shares_micro=shares,
            notional_micro=notional,
            fee_micro=fee,
        ),
    )


def test_outcome_counts_group_a_pairs_orders_by_state_and_reason(ledger: Ledger) -> None:
    _outcome(ledger, 1, MirrorOutcome.FILLED, shares=MICRO, notional=MICRO // 2)
    _outcome(ledger, 2, MirrorOutcome.FILLED, shares=MICRO, notional=MICRO // 2)
    for n, reason in ((3, "budget exhausted"), (4, "budget exhausted"), (5, "price out of range")):
        ledger.record_skip("p1", f"f{n}", TOKEN, Side.BUY, reason)
    ledger.record_intent(make_intent(make_fill(0, 900)))
    _outcome(ledger, 6, MirrorOutcome.FILLED, pair_id="p2", shares=MICRO, notional=MICRO)
    counts = [(c.status, c.reason, c.orders) for c in ledger.outcome_counts("p1")]
    assert counts == [
        (OrderStatus.FILLED, "", 2),
        (OrderStatus.INTENT, "", 1),
        (OrderStatus.SKIPPED, "budget exhausted", 2),
        (OrderStatus.SKIPPED, "price out of range", 1),
    ]
    assert ledger.outcome_counts("nobody") == []


def test_pair_totals_sum_volume_costs_fills_and_open_orders(ledger: Ledger, clock: Clock) -> None:
    _outcome(ledger, 1, MirrorOutcome.FILLED, shares=10 * MICRO, notional=5 * MICRO, fee=MICRO)
    clock.advance(3600)
    _outcome(ledger, 2, MirrorOutcome.PARTIAL, side=Side.SELL, shares=4 * MICRO, notional=3 * MICRO)
    _outcome(ledger, 3, MirrorOutcome.SKIPPED)
    ledger.record_intent(make_intent(make_fill(0, 900)))  # open: 10 shares at 0.51
    _outcome(ledger, 4, MirrorOutcome.FILLED, pair_id="p2", shares=MICRO, notional=MICRO // 2)
    totals = {t.pair_id: t for t in ledger.pair_totals(since=T0 + timedelta(minutes=30))}
    p1 = totals["p1"]
    assert (p1.orders, p1.finished, p1.filled_orders) == (4, 3, 2)
    assert p1.volume_micro == 8 * MICRO
    assert (p1.bought_micro, p1.sold_micro) == (6 * MICRO, 3 * MICRO)
    assert p1.open_micro == 10 * MICRO * 51 // 100
    assert p1.fills_since == 1  # the sale, an hour after the buy
    assert p1.last_fill_at == T0 + timedelta(hours=1) and p1.last_fill_at.tzinfo is not None
    assert totals["p2"].volume_micro == MICRO // 2 and totals["p2"].failure_streak == 0
    assert [t.pair_id for t in ledger.pair_totals(since=T0, pair_id="p2")] == ["p2"]


def test_failure_streak_counts_failures_after_the_last_order_the_venue_took(
    ledger: Ledger,
) -> None:
    _outcome(ledger, 1, MirrorOutcome.FAILED)
    _outcome(ledger, 2, MirrorOutcome.UNFILLED)
    _outcome(ledger, 3, MirrorOutcome.FAILED)
    _outcome(ledger, 4, MirrorOutcome.SKIPPED)  # neither extends nor ends the streak
    _outcome(ledger, 5, MirrorOutcome.FAILED)
    _outcome(ledger, 6, MirrorOutcome.FAILED, pair_id="p2")
    totals = {t.pair_id: t for t in ledger.pair_totals(since=T0)}
    assert (totals["p1"].failure_streak, totals["p2"].failure_streak) == (2, 1)


def test_token_totals_and_marks_per_token(ledger: Ledger) -> None:
    _outcome(ledger, 1, MirrorOutcome.FILLED, shares=10 * MICRO, notional=4 * MICRO, fee=MICRO)
    _outcome(ledger, 2, MirrorOutcome.FILLED, side=Side.SELL, shares=2 * MICRO, notional=MICRO)
    _outcome(ledger, 3, MirrorOutcome.FILLED, shares=MICRO, notional=MICRO, token_id=OTHER_TOKEN)
    _outcome(ledger, 4, MirrorOutcome.FAILED, token_id="7")  # nothing filled: not a holding
    by_token = {t.token_id: t for t in ledger.token_totals(pair_id="p1")}
    assert set(by_token) == {TOKEN, OTHER_TOKEN}
    held = by_token[TOKEN]
    assert (held.bought_shares_micro, held.bought_micro) == (10 * MICRO, 5 * MICRO)
    assert (held.sold_shares_micro, held.sold_micro) == (2 * MICRO, MICRO)
    ledger.record_fill(make_fill(0, 100, price=Decimal("0.40")))
    ledger.record_fill(make_fill(3, 101, price=Decimal("0.61")))
    ledger.record_fill(make_fill(1, 101, price=Decimal("0.55")))
    newest = make_fill(0, 102, price=Decimal("0.99"))
    ledger.record_fill(newest)
    ledger.retract_fill(newest.fill_id)  # a reorg removed it: not a price anyone traded at
    marks = ledger.token_marks([TOKEN, OTHER_TOKEN])
    assert set(marks) == {TOKEN} and marks[TOKEN].price == Decimal("0.61")
    assert ledger.token_marks([]) == {}


def test_last_fill_times_and_newest_block(ledger: Ledger) -> None:
    assert ledger.last_fill_times() == {} and ledger.newest_fill_block() is None
    ledger.record_fill(make_fill(0, 100, block_time=T0))
    ledger.record_fill(make_fill(0, 105, block_time=T0 + timedelta(minutes=5)))
    ledger.record_fill(make_fill(0, 106, wallet=FOLLOWER, block_time=T0))
    times = ledger.last_fill_times()
    assert times[FOLLOWER] == T0 and max(times.values()) == T0 + timedelta(minutes=5)
    assert ledger.newest_fill_block() == 106


def test_every_ledger_has_one_stable_identity(ledger: Ledger) -> None:
    first = ledger.ledger_id()
    assert first is not None and len(first) == 36
    assert ledger.ledger_id() == first


def test_worker_identity_round_trips_the_ledger_id() -> None:
    identity = worker_identity("123@host", "0b5f0a52-0000-4000-8000-000000000001")
    assert identity == "123@host ledger=0b5f0a52-0000-4000-8000-000000000001"
    assert ledger_id_of(identity) == "0b5f0a52-0000-4000-8000-000000000001"
    assert worker_identity("123@host", None) == "123@host"
    assert ledger_id_of("123@host") is None
