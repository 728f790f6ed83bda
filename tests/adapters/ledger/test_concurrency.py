"""Duplicate writes racing from threads (as retried activities do) leave exactly one row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import Table, func, select

from adapters.ledger import (
    AlertLevel,
    ClaimStatus,
    ClaimUpdate,
    Execution,
    Ledger,
    OrderStatus,
)
from adapters.ledger.tables import ALERTS, CLAIMS, EXECUTIONS, MIRROR_ORDERS, PAIRS, SOURCE_FILLS
from projectk.models import MICRO, MirrorOutcome, MirrorReport, PairStatus
from tests.adapters.ledger.conftest import FOLLOWER, T0, make_config, make_fill, make_intent

THREADS = 8
T = TypeVar("T")


def race(call: Callable[[], T]) -> list[T]:
    """Run `call` from THREADS threads released at the same instant; return every result."""
    barrier = threading.Barrier(THREADS)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = call()
        except BaseException as exc:
            errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def rows(ledger: Ledger, table: Table) -> int:
    with ledger.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_racing_registrations_and_fills_write_one_row(ledger: Ledger) -> None:
    configs = race(lambda: ledger.upsert_pair(make_config(), PairStatus.ACTIVE).config)
    assert configs == [make_config()] * THREADS and rows(ledger, PAIRS) == 1
    fill = make_fill()
    assert sorted(race(lambda: ledger.record_fill(fill))) == [False] * (THREADS - 1) + [True]
    assert rows(ledger, SOURCE_FILLS) == 1


def test_racing_order_writes_write_one_row(ledger: Ledger) -> None:
    ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
    fill = make_fill()
    assert race(lambda: ledger.record_intent(make_intent(fill))).count(True) == 1
    decision = fill.order_hash
    report = MirrorReport(decision_id=decision, outcome=MirrorOutcome.UNFILLED, reason="killed")
    assert race(lambda: ledger.record_outcome("p1", report)).count(True) == 1
    order = ledger.get_order("p1", decision)
    assert order is not None and order.status is OrderStatus.UNFILLED
    assert rows(ledger, MIRROR_ORDERS) == 1
    trade = Execution(
        pair_id="p1",
        decision_id=decision,
        order_id="0x" + "ab" * 32,
        trade_id="t1",
        side=fill.side,
        shares_micro=MICRO,
        price=Decimal("0.5"),
        notional_micro=MICRO // 2,
        executed_at=T0,
    )
    assert race(lambda: ledger.record_execution(trade)).count(True) == 1
    assert rows(ledger, EXECUTIONS) == 1


def test_racing_alerts_and_claims_write_one_row(ledger: Ledger) -> None:
    new = race(lambda: ledger.record_alert("k1", AlertLevel.HIGH, "low_gas", "low gas"))
    assert new.count(True) == 1 and rows(ledger, ALERTS) == 1
    alert_id = ledger.pending_alerts()[0].id
    assert race(lambda: ledger.mark_alert_delivered(alert_id)).count(True) == 1
    claim = ClaimUpdate(follower=FOLLOWER, condition_id="0x" + "cd" * 32, status=ClaimStatus.SENT)
    assert len(set(race(lambda: ledger.upsert_claim(claim)))) == 1
    assert rows(ledger, CLAIMS) == 1
