"""Ledger writes: each is idempotent by its natural key, and states only move forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from adapters.ledger import (
    AlertKind,
    AlertLevel,
    ClaimStatus,
    ClaimUpdate,
    Execution,
    Ledger,
    OrderStatus,
    UnknownOrderError,
)
from adapters.ledger.tables import ALERTS, CLAIMS, EXECUTIONS, MIRROR_ORDERS, PAIRS, SOURCE_FILLS
from projectk.models import (
    MICRO,
    Exchange,
    FillCursor,
    Guards,
    MarketVersion,
    MirrorOutcome,
    MirrorReport,
    OrderType,
    PairStatus,
    SignatureType,
    Sizing,
    SizingMode,
    SourceFill,
)
from tests.adapters.ledger.conftest import (
    FOLLOWER,
    T0,
    Clock,
    make_config,
    make_fill,
    make_intent,
    order_hash,
)

ORDER_HASH = "0x" + "ab" * 32
CONDITION = "0x" + "cd" * 32


def rows(ledger: Ledger, table: Table) -> int:
    with ledger.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def filled(fill: SourceFill, **changes: object) -> MirrorReport:
    # The report of the first mirror decision of `fill`'s source order.
    values: dict[str, object] = {
        "decision_id": fill.order_key,
        "outcome": MirrorOutcome.FILLED,
        "token_id": fill.token_id,
        "side": fill.side,
        "filled_shares_micro": fill.shares_micro,
        "notional_micro": 5_100_000,
        "fee_micro": 12,
        "order_id": ORDER_HASH,
    }
    values.update(changes)
    return MirrorReport.model_validate(values)


def test_registry_round_trips_a_pair_config_exactly(ledger: Ledger) -> None:
    config = make_config(
        funder="0x3333333333333333333333333333333333333333",
        signature_type=SignatureType.POLY_GNOSIS_SAFE,
        sizing=Sizing(mode=SizingMode.PROPORTIONAL, ratio=Decimal("0.123456789")),
        guards=Guards(slippage_bps=150, daily_loss_limit_micro=7 * MICRO, buys_only=True),
        order_type=OrderType.GTC,
    )
    stored = ledger.upsert_pair(config, PairStatus.ACTIVE)
    assert stored.config == config
    read = ledger.get_pair("p1")
    assert read is not None and read.config == config and read.status is PairStatus.ACTIVE
    assert read.created_at == T0 and read.created_at.tzinfo is not None


def test_upsert_pair_twice_keeps_one_unchanged_row(ledger: Ledger, clock: Clock) -> None:
    first = ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    clock.advance()
    assert ledger.upsert_pair(make_config(), PairStatus.ACTIVE) == first
    assert rows(ledger, PAIRS) == 1


def test_upsert_pair_replaces_the_config_and_keeps_created_at(ledger: Ledger, clock: Clock) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    later = clock.advance()
    changed = ledger.upsert_pair(make_config(budget_micro=7 * MICRO), PairStatus.PAUSED)
    assert changed.config.budget_micro == 7 * MICRO and changed.status is PairStatus.PAUSED
    assert (changed.created_at, changed.updated_at) == (T0, later)


def test_pair_status_and_removal(ledger: Ledger, clock: Clock) -> None:
    ledger.upsert_pair(make_config("p1"), PairStatus.ACTIVE)
    ledger.upsert_pair(make_config("p2"), PairStatus.ACTIVE)
    removed_at = clock.advance()
    removed = ledger.set_pair_status("p1", PairStatus.REMOVED)
    assert removed is not None and removed.removed_at == removed_at
    clock.advance()
    assert ledger.set_pair_status("p1", PairStatus.REMOVED) == removed
    assert [p.pair_id for p in ledger.list_pairs()] == ["p2"]
    assert [p.pair_id for p in ledger.list_pairs(include_removed=True)] == ["p1", "p2"]
    again = ledger.set_pair_status("p1", PairStatus.ACTIVE)
    assert again is not None and again.removed_at is None
    assert ledger.set_pair_status("nope", PairStatus.PAUSED) is None


def test_record_fill_once_and_exactly(ledger: Ledger) -> None:
    price = Decimal("0.1234567890123456789012345678")
    in_cest = datetime(2026, 11, 21, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    fill = make_fill(price=price, block_time=in_cest)
    assert ledger.record_fill(fill) is True
    assert ledger.record_fill(fill) is False
    assert rows(ledger, SOURCE_FILLS) == 1
    stored = ledger.get_fill(fill.fill_id)
    assert stored is not None and stored.price == price and str(stored.price) == str(price)
    assert stored.block_time == T0 and stored.block_time.tzinfo == UTC
    assert stored.detected_at == T0 and stored.exchange == fill.exchange
    assert stored.order_hash == fill.order_hash and len(stored.fill_id) == 133


def test_a_v2_market_fill_reads_back_as_one(ledger: Ledger) -> None:
    # The exchange column carries the market version: ExchangeV3 settles only v2 markets.
    fill = make_fill(exchange=Exchange.V3)
    assert ledger.record_fill(fill) is True
    stored = ledger.get_fill(fill.fill_id)
    assert stored is not None and stored.exchange is Exchange.V3
    assert stored.market_version is MarketVersion.V2
    assert make_fill().market_version is MarketVersion.V1  # fills recorded before v2: CTF


def test_fills_after_a_cursor_in_chain_order_without_retracted(ledger: Ledger) -> None:
    fills = [make_fill(1, 101), make_fill(0, 100), make_fill(5, 100), make_fill(0, 102)]
    for fill in fills:
        ledger.record_fill(fill)
    after = ledger.fills_after(fills[0].wallet, FillCursor(block=100, log_index=0), limit=10)
    assert [(f.block_number, f.log_index) for f in after] == [(100, 5), (101, 1), (102, 0)]
    assert all(type(f) is SourceFill for f in after)
    assert ledger.retract_fill(fills[2].fill_id) is True
    assert ledger.retract_fill(fills[2].fill_id) is False
    after = ledger.fills_after(fills[0].wallet, FillCursor(block=100, log_index=0), limit=1)
    assert [(f.block_number, f.log_index) for f in after] == [(101, 1)]
    assert len(ledger.list_fills(include_retracted=True)) == 4
    assert ledger.latest_fill_cursor(fills[0].wallet) == FillCursor(block=102, log_index=0)
    assert ledger.latest_fill_cursor(FOLLOWER) is None
    assert ledger.record_fill(fills[2]) is True  # back after the reorg
    assert ledger.record_fill(fills[2]) is False
    assert len(ledger.list_fills()) == 4


def test_a_fill_back_at_another_log_index_is_read_from_there(ledger: Ledger) -> None:
    # The fill id names the tx and the maker's order: a reorg may re-include the same fill in
    # another block at another log index, and the pairs must read it at its new place.
    fill = make_fill(3, 100)
    ledger.record_fill(fill)
    ledger.retract_fill(fill.fill_id)
    moved = fill.model_copy(update={"block_number": 104, "log_index": 9})
    assert ledger.record_fill(moved) is True
    [back] = ledger.fills_after(fill.wallet, FillCursor(block=100, log_index=3))
    assert (back.fill_id, back.block_number, back.log_index) == (fill.fill_id, 104, 9)
    assert ledger.latest_fill_cursor(fill.wallet) == FillCursor(block=104, log_index=9)
    assert ledger.record_fill(moved) is False


def test_a_fill_moved_by_a_reorg_without_a_retraction_is_moved(
    ledger: Ledger, clock: Clock
) -> None:
    # The tail retracts only fills missing from the new branch: one re-included elsewhere keeps
    # its id, and the ledger must not keep its old place.
    fill = make_fill(3, 100)
    ledger.record_fill(fill)
    clock.advance()
    moved = fill.model_copy(update={"block_number": 101, "log_index": 0, "detected_at": None})
    assert ledger.record_fill(moved) is True
    stored = ledger.get_fill(fill.fill_id)
    assert stored is not None and (stored.block_number, stored.log_index) == (101, 0)
    assert stored.detected_at == T0  # first detected then, not re-detected
    assert ledger.record_fill(moved) is False
    assert len(ledger.list_fills(include_retracted=True)) == 1


def test_order_flow_is_idempotent_at_every_step(ledger: Ledger, clock: Clock) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    fill = make_fill()
    decision = fill.order_hash  # the first mirror decision of the fill's source order
    assert ledger.record_intent(make_intent(fill)) is True
    assert ledger.record_intent(make_intent(fill)) is False
    clock.advance()
    assert ledger.mark_posted("p1", decision, ORDER_HASH) is True
    posted = ledger.get_order("p1", decision)
    clock.advance()
    assert ledger.mark_posted("p1", decision, ORDER_HASH) is False
    assert ledger.get_order("p1", decision) == posted
    assert ledger.record_outcome("p1", filled(fill)) is True
    done = ledger.get_order("p1", decision)
    clock.advance()
    assert ledger.record_outcome("p1", filled(fill)) is False
    assert ledger.get_order("p1", decision) == done
    assert rows(ledger, MIRROR_ORDERS) == 1
    assert done is not None and done.status is OrderStatus.FILLED
    assert (done.decision_id, done.order_hash) == (decision, fill.order_hash)
    assert (done.order_id, done.filled_shares_micro, done.fee_micro) == (ORDER_HASH, 10 * MICRO, 12)
    assert done.limit_price == Decimal("0.51") and done.intended_shares_micro == 10 * MICRO


def test_terminal_outcome_is_never_overwritten(ledger: Ledger) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    fill = make_fill()
    decision = fill.order_hash
    ledger.record_intent(make_intent(fill))
    ledger.mark_posted("p1", decision, ORDER_HASH)
    ledger.record_outcome("p1", filled(fill))
    late_failure = filled(fill, outcome=MirrorOutcome.FAILED, reason="late", filled_shares_micro=0)
    assert ledger.record_outcome("p1", late_failure) is False
    assert ledger.record_intent(make_intent(fill)) is False
    # A skip under the same key (never sent by a pair, which skips fills) changes nothing.
    assert ledger.record_skip("p1", decision, fill.token_id, fill.side, "late") is False
    assert ledger.mark_posted("p1", decision, "0x" + "ef" * 32) is False
    order = ledger.get_order("p1", decision)
    assert order is not None and order.status is OrderStatus.FILLED and order.reason == ""
    assert order.order_id == ORDER_HASH and order.filled_shares_micro == 10 * MICRO


def test_a_skip_never_hides_a_posted_order(ledger: Ledger) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    fill, other = make_fill(0), make_fill(1)
    ledger.record_intent(make_intent(fill))
    ledger.mark_posted("p1", fill.order_key, ORDER_HASH)
    assert ledger.record_skip("p1", fill.order_key, fill.token_id, fill.side, "guard") is False
    order = ledger.get_order("p1", fill.order_key)
    assert order is not None and order.status is OrderStatus.POSTED
    ledger.record_intent(make_intent(other))
    assert ledger.record_skip("p1", other.order_key, other.token_id, other.side, "slippage")
    assert not ledger.record_skip("p1", other.order_key, other.token_id, other.side, "slippage")
    skipped = ledger.get_order("p1", other.order_key)
    assert skipped is not None
    assert (skipped.status, skipped.reason) == (OrderStatus.SKIPPED, "slippage")


def test_skips_are_kept_per_fill_and_decisions_per_source_order(ledger: Ledger) -> None:
    # Two fills of one source order: the first skipped, the second mirrored, then a top-up.
    first, second = make_fill(0, 100), make_fill(1, 101, order_hash=order_hash(100))
    assert first.order_hash == second.order_hash != ""
    assert ledger.record_skip(
        "p1", first.fill_id, first.token_id, first.side, "below minimum", first.order_hash
    )
    assert ledger.record_intent(make_intent(second)) is True
    assert ledger.record_intent(make_intent(second, top_up=2)) is True
    orders = ledger.list_orders(order_hash=first.order_hash)
    assert [(o.decision_id, o.status) for o in reversed(orders)] == [
        (first.fill_id, OrderStatus.SKIPPED),
        (first.order_hash, OrderStatus.INTENT),
        (f"{first.order_hash}/2", OrderStatus.INTENT),
    ]
    assert {o.order_hash for o in orders} == {first.order_hash}
    assert ledger.list_orders(order_hash=make_fill(5).order_hash) == []


def test_order_hash_is_a_source_order_hash_or_empty(ledger: Ledger) -> None:
    # A fill without an order hash is its own order, keyed by its fill id: no hash to name.
    legacy = make_fill(2, order_hash="", fill_id="0x" + "9" * 64 + ":2")
    assert ledger.record_fill(legacy)
    stored = ledger.get_fill(legacy.fill_id)
    assert stored is not None and stored.order_hash == ""
    ledger.record_intent(make_intent(legacy))
    ledger.record_skip("p1", "0xabc:3", legacy.token_id, legacy.side, "late", legacy.order_key)
    assert {o.order_hash for o in ledger.list_orders()} == {""}


def test_outcome_without_intent_and_order_queries(ledger: Ledger, clock: Clock) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    first, second = make_fill(0), make_fill(1)
    failed = filled(first, outcome=MirrorOutcome.FAILED, order_id=None, reason="market closed")
    assert ledger.record_outcome("p1", failed) is True
    clock.advance(60)
    ledger.record_skip("p1", second.fill_id, second.token_id, second.side, "buys only")
    assert [o.decision_id for o in ledger.list_orders(pair_id="p1")] == [
        second.fill_id,
        first.order_hash,
    ]
    assert [o.reason for o in ledger.list_orders(statuses=[OrderStatus.FAILED])] == [
        "market closed"
    ]
    assert len(ledger.list_orders(since=T0 + timedelta(seconds=30))) == 1
    assert len(ledger.list_orders(until=T0 + timedelta(seconds=30))) == 1
    assert ledger.list_orders(pair_id="p2") == []


def test_posting_without_intent_is_an_error(ledger: Ledger) -> None:
    with pytest.raises(UnknownOrderError):
        ledger.mark_posted("p1", "0x" + "0" * 64, ORDER_HASH)


def test_orders_do_not_wait_for_the_registry(ledger: Ledger) -> None:
    # The CLI starts a pair's workflow before its registry write commits.
    assert ledger.record_intent(make_intent(make_fill(), pair_id="not-yet-registered")) is True


def test_executions_once_and_tx_hash_added_later(ledger: Ledger) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    fill = make_fill()
    ledger.record_intent(make_intent(fill))
    trade = Execution(
        pair_id="p1",
        decision_id=fill.order_hash,
        order_id=ORDER_HASH,
        trade_id="trade-1",
        side=fill.side,
        shares_micro=4 * MICRO,
        price=Decimal("0.505"),
        notional_micro=2_020_000,
        fee_micro=3,
        executed_at=T0,
    )
    assert ledger.record_execution(trade) is True
    assert ledger.record_execution(trade) is False
    settled = trade.model_copy(update={"tx_hash": "0x" + "12" * 32})
    assert ledger.record_execution(settled) is False
    assert ledger.record_execution(trade) is False  # a later call without it keeps the hash
    assert ledger.list_executions(pair_id="p1") == [settled]
    assert ledger.list_executions(decision_id=fill.order_hash) == [settled]
    assert ledger.list_executions(decision_id=fill.fill_id) == []
    assert rows(ledger, EXECUTIONS) == 1
    orphan = trade.model_copy(update={"decision_id": "0xnone", "trade_id": "trade-2"})
    with pytest.raises(IntegrityError):
        ledger.record_execution(orphan)


def test_claims_move_forward_only(ledger: Ledger, clock: Clock) -> None:
    def claim(status: ClaimStatus, **changes: object) -> ClaimUpdate:
        return ClaimUpdate(follower=FOLLOWER, condition_id=CONDITION, status=status, **changes)

    waiting = ledger.upsert_claim(claim(ClaimStatus.WAITING))
    clock.advance()
    assert ledger.upsert_claim(claim(ClaimStatus.WAITING)) == waiting
    tx = "0x" + "34" * 32
    sent = ledger.upsert_claim(claim(ClaimStatus.SENT, tx_hash=tx))
    assert (sent.status, sent.tx_hash, sent.updated_at) == (ClaimStatus.SENT, tx, clock.now)
    clock.advance()
    assert ledger.upsert_claim(claim(ClaimStatus.WAITING)) == sent
    assert ledger.upsert_claim(claim(ClaimStatus.SENT, tx_hash=tx)) == sent
    done = ledger.upsert_claim(claim(ClaimStatus.REDEEMED, payout_micro=9 * MICRO, gas_used=90_000))
    assert (done.status, done.tx_hash, done.payout_micro) == (ClaimStatus.REDEEMED, tx, 9 * MICRO)
    assert done.completed_at == clock.now
    clock.advance()
    assert ledger.upsert_claim(claim(ClaimStatus.LOST, payout_micro=0)) == done
    assert ledger.get_claim(FOLLOWER, CONDITION) == done
    assert ledger.list_claims(statuses=[ClaimStatus.REDEEMED]) == [done]
    assert rows(ledger, CLAIMS) == 1


def test_alerts_are_queued_once_and_delivered_once(ledger: Ledger) -> None:
    critical, blocked = AlertLevel.CRITICAL, AlertKind.BLOCKED
    assert ledger.record_alert("blocked:p1:1", critical, blocked, "p1 blocked", "p1")
    assert not ledger.record_alert("blocked:p1:1", critical, blocked, "again")
    assert ledger.record_alert("gas:0x2", "high", "low_gas", "0.1 POL left")
    pending = ledger.pending_alerts()
    assert [(a.dedup_key, a.level, a.message) for a in pending] == [
        ("blocked:p1:1", AlertLevel.CRITICAL, "p1 blocked"),
        ("gas:0x2", AlertLevel.HIGH, "0.1 POL left"),
    ]
    assert ledger.mark_alert_delivered(pending[0].id) is True
    assert ledger.mark_alert_delivered(pending[0].id) is False
    assert [a.dedup_key for a in ledger.pending_alerts()] == ["gas:0x2"]
    newest_first = ledger.list_alerts()
    assert newest_first[1].delivered_at == T0 and newest_first[0].delivered_at is None
    assert rows(ledger, ALERTS) == 2
    with pytest.raises(ValueError):
        ledger.record_alert("x", "urgent", "other", "not a level")
