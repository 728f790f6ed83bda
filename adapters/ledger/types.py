"""Column types that keep the ledger's value invariants on every backend.

Invariants:
- `UtcDateTime` values read back are timezone-aware UTC on SQLite and PostgreSQL alike; values
  written are converted to UTC first (a naive value is taken to be UTC already, as every chain
  and venue timestamp is).
- `DecimalText` stores a `Decimal` as its exact decimal string: no float ever sits between the
  value written and the value read, and `Decimal(read) == written` always holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

DECIMAL_TEXT_LENGTH = 64  # 28 significant digits, sign, point and exponent fit easily


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return `value` in UTC, taking a naive value to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A `DateTime(timezone=True)` that always hands back aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        # SQLite has no time zone storage: write the UTC wall time, read it back as UTC.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        return as_utc(value)


class DecimalText(TypeDecorator[Decimal]):
    """An exact decimal stored as text (SQLite's NUMERIC would round it through a float)."""

    impl = String(DECIMAL_TEXT_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"prices are stored from Decimal only, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"not a finite decimal: {value}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value))
