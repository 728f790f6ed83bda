"""Bulk loads: typed history goes in at once, reads back as written, and never overwrites."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.ledger import (
    FillRecord,
    Ledger,
    OrderEntry,
    OrderRecord,
    OrderStatus,
    PairRecord,
    load_history,
)
from projectk.models import MICRO, PairStatus, SourceFill
from tests.adapters.ledger.conftest import T0, make_config, make_fill, make_intent


def _recorded(fill: SourceFill) -> FillRecord:
    return FillRecord.model_validate(fill.model_dump())


def _filled(fill: SourceFill, pair_id: str = "p1") -> OrderEntry:
    return OrderEntry(
        pair_id=pair_id,
        decision_id=fill.order_key,
        order_hash=fill.order_hash,
        token_id=fill.token_id,
        side=fill.side,
        status=OrderStatus.FILLED,
        order_id="0x" + f"{fill.log_index:02x}" * 32,
        intended_shares_micro=10 * MICRO,
        filled_shares_micro=10 * MICRO,
        notional_micro=5 * MICRO,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=3),
    )


def test_loaded_history_reads_back_as_written(ledger: Ledger) -> None:
    removed_at = T0 + timedelta(hours=1)
    pairs = [
        PairRecord(
            config=make_config("p1"), status=PairStatus.ACTIVE, created_at=T0, updated_at=T0
        ),
        PairRecord(
            config=make_config("p2"),
            status=PairStatus.REMOVED,
            created_at=T0,
            updated_at=removed_at,
            removed_at=removed_at,
        ),
    ]
    fills = [make_fill(log_index=i, detected_at=T0) for i in range(3)]
    load_history(
        ledger.engine,
        pairs=pairs,
        fills=map(_recorded, fills),
        orders=(_filled(fill) for fill in fills),
    )
    assert ledger.list_pairs(include_removed=True) == pairs
    assert ledger.get_fill(fills[1].fill_id) == _recorded(fills[1])
    order = ledger.get_order("p1", fills[2].order_key)
    assert order is not None
    assert OrderEntry.model_validate(order.model_dump(exclude={"id"})) == _filled(fills[2])


def test_a_repeated_load_keeps_the_rows_already_there(ledger: Ledger) -> None:
    fill = make_fill()
    ledger.record_intent(make_intent(fill))
    before = ledger.get_order("p1", fill.order_key)
    assert before is not None and before.status is OrderStatus.INTENT
    record = OrderRecord(id=999, **_filled(fill).model_dump())  # a record's id is not loaded
    for _ in range(2):
        load_history(ledger.engine, fills=[_recorded(fill)], orders=[record, _filled(fill, "p2")])
    assert ledger.get_order("p1", fill.order_key) == before
    loaded = ledger.get_order("p2", fill.order_key)
    assert loaded is not None and loaded.id != 999
    assert len(ledger.list_fills()) == 1


def test_a_load_that_fails_midway_writes_nothing(ledger: Ledger) -> None:
    def orders() -> Iterator[OrderEntry]:
        yield _filled(make_fill())
        raise RuntimeError("the source of the backfill broke")

    config = make_config("p1")
    pair = PairRecord(config=config, status=PairStatus.ACTIVE, created_at=T0, updated_at=T0)
    with pytest.raises(RuntimeError, match="broke"):
        load_history(ledger.engine, pairs=[pair], fills=[_recorded(make_fill())], orders=orders())
    assert ledger.list_pairs() == [] and ledger.list_fills() == []
