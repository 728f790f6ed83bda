"""Alembic environment of the ledger, driven by `adapters.ledger.engine` (no alembic.ini).

Invariants:
- Migrations run on the connection `upgrade` passes in `config.attributes["connection"]`, inside
  its transaction and lock; given only a URL (`sqlalchemy.url`), they open their own engine.
- Autogenerate compares against `LEDGER_METADATA` only, with type comparison on, renders the
  ledger's column types as plain SQL types, and SQLite gets batch mode so later migrations can
  alter tables there.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.tables import LEDGER_METADATA
from adapters.ledger.types import DECIMAL_TEXT_LENGTH, DecimalText, UtcDateTime


def _render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    # Write the ledger's column types as the SQL types they store, so no migration imports
    # application code (a migration must keep working after that code changes).
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(item, DecimalText):
        return f"sa.String(length={DECIMAL_TEXT_LENGTH})"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=LEDGER_METADATA,
        compare_type=True,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("ledger migrations need a connection or sqlalchemy.url")
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("ledger migrations run online only (projectk db upgrade)")
_run_online()
