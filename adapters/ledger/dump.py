"""Logical dump and load of a ledger database through SQLAlchemy (used for PostgreSQL backups).

Dump format: JSON lines, one `{"table": NAME, "row": {COLUMN: VALUE}}` per row, tables in
foreign-key order; datetimes as `{"$dt": ISO}`, decimals as `{"$dec": TEXT}`, bytes as
`{"$b64": BASE64}`; JSON column values as they are.

Invariants:
- Only the ledger's own tables are read, written or dropped (the names in `LEDGER_METADATA`);
  anything else in the database or schema is left alone. The schema version table is not dumped:
  the revision travels in the backup manifest and the schema is rebuilt by the migrations.
- A dump is one consistent snapshot (one REPEATABLE READ transaction on PostgreSQL).
- Tables are reflected, not taken from the current models, so a dump of an older revision loads
  into a database migrated to that same revision.
- `load` runs in one transaction: it either loads every row or leaves the tables empty.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text

from adapters.ledger.engine import VERSION_TABLE
from adapters.ledger.tables import LEDGER_METADATA

LEDGER_TABLES = frozenset(LEDGER_METADATA.tables)


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$dt":
            return datetime.fromisoformat(str(raw))
        if tag == "$dec":
            return Decimal(str(raw))
        if tag == "$b64":
            return base64.b64decode(str(raw))
    return value


def existing_tables(connection: Connection) -> list[str]:
    """Return the ledger tables (and the version table) present in the database."""
    present = set(inspect(connection).get_table_names())
    return sorted(present & (LEDGER_TABLES | {VERSION_TABLE}))


def _reflect(connection: Connection) -> list[Table]:
    metadata = MetaData()
    names = [name for name in existing_tables(connection) if name != VERSION_TABLE]
    metadata.reflect(bind=connection, only=names)
    return list(metadata.sorted_tables)


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    for row in connection.execute(select(table).order_by(*order)).mappings():
        yield dict(row)


def dump(engine: Engine, out: IO[str]) -> dict[str, int]:
    """Write every ledger row to `out` as JSON lines; return the row count of each table."""
    counts: dict[str, int] = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        for table in _reflect(connection):
            counts[table.name] = 0
            for row in _rows(connection, table):
                record = {"table": table.name, "row": {k: _encode(v) for k, v in row.items()}}
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
                counts[table.name] += 1
    return counts


def drop_ledger_tables(engine: Engine) -> list[str]:
    """Drop the ledger's tables and its version table (nothing else); return their names."""
    with engine.begin() as connection:
        names = existing_tables(connection)
        metadata = MetaData()
        metadata.reflect(bind=connection, only=names)
        metadata.drop_all(bind=connection)
    return names


def load(engine: Engine, lines: IO[str]) -> dict[str, int]:
    """Insert the rows of a dump into the (migrated, empty) ledger; return the row counts."""
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        tables = {table.name: table for table in _reflect(connection)}
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            table = tables.get(record["table"])
            if table is None:
                raise ValueError(f"the dump has rows of an unknown table {record['table']!r}")
            row = {key: _decode(value) for key, value in record["row"].items()}
            connection.execute(table.insert().values(**row))
            counts[table.name] = counts.get(table.name, 0) + 1
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, tables.values())
    return counts


def _reset_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    # Rows were inserted with their ids, so each serial must continue after the largest one.
    for table in tables:
        if "id" not in table.columns:
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar()
        if sequence:
            largest = connection.execute(select(func.max(table.c.id))).scalar()
            connection.execute(
                text("SELECT setval(:seq, :value, :called)"),
                {"seq": sequence, "value": largest or 1, "called": largest is not None},
            )
