"""Bulk loads: many rows of history written at once, for benchmarks and backfills.

Invariants:
- Inputs are the ledger's typed models (`PairRecord`, `FillRecord`, `OrderEntry`), never raw
  rows; they become rows here, by the same rules as `Ledger`'s single writes.
- A load is one transaction: every row is written or none is.
- Each row goes in with ON CONFLICT DO NOTHING on its natural key: a row already there is kept
  as it is, so repeating a load writes nothing new. A load never moves a recorded state forward;
  live flows write through `Ledger`.
- At most `BATCH_ROWS` rows go into one statement, so memory stays bounded for any input size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine, Table

from adapters.ledger.ledger import ORDER_KEY, dialect_insert, pair_values
from adapters.ledger.records import FillRecord, OrderEntry, PairRecord, source_order_of
from adapters.ledger.tables import MIRROR_ORDERS, PAIRS, SOURCE_FILLS
from adapters.ledger.types import utcnow

BATCH_ROWS = 10_000
Row = dict[str, Any]


def load_history(
    engine: Engine,
    *,
    pairs: Iterable[PairRecord] = (),
    fills: Iterable[FillRecord] = (),
    orders: Iterable[OrderEntry] = (),
) -> None:
    """Write registry entries, source fills and mirror order flows into the (migrated) ledger in
    one transaction, keeping the rows already there."""
    now = utcnow()
    with engine.begin() as connection:
        _load(connection, PAIRS, [PAIRS.c.pair_id], map(_pair_row, pairs))
        fill_rows = (_fill_row(fill, now) for fill in fills)
        _load(connection, SOURCE_FILLS, [SOURCE_FILLS.c.fill_id], fill_rows)
        _load(connection, MIRROR_ORDERS, ORDER_KEY, map(_order_row, orders))


def _load(connection: Connection, table: Table, key: list[Any], rows: Iterator[Row]) -> None:
    stmt = dialect_insert(connection, table).on_conflict_do_nothing(index_elements=key)
    while batch := list(islice(rows, BATCH_ROWS)):
        connection.execute(stmt, batch)


def _pair_row(record: PairRecord) -> Row:
    return {
        **pair_values(record.config),
        "status": record.status.value,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "removed_at": record.removed_at,
    }


def _fill_row(fill: FillRecord, now: datetime) -> Row:
    return {
        **fill.model_dump(),
        "side": fill.side.value,
        "exchange": fill.exchange.value,
        "detected_at": fill.detected_at or now,
        "order_hash": source_order_of(fill.order_hash),
    }


def _order_row(entry: OrderEntry) -> Row:
    row = entry.model_dump(include=set(OrderEntry.model_fields))  # a record's id is the ledger's
    row.update(
        side=entry.side.value,
        status=entry.status.value,
        order_type=entry.order_type.value if entry.order_type else None,
        order_hash=source_order_of(entry.order_hash),
    )
    return row
