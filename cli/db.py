"""`projectk db`: look at and migrate the ledger database.

Invariants:
- Only `db upgrade` changes the schema, and only through the shipped Alembic migrations.
- `db current` never creates or changes anything (not even an empty SQLite file).
- URLs are shown with their password hidden.
"""

from __future__ import annotations

from pathlib import Path

import click

from adapters.ledger import (
    LedgerDatabaseError,
    LedgerError,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    open_ledger,
    redact,
)
from cli.common import UserError, get_settings


@click.group()
def db() -> None:
    """Manage the ledger database (SQLite file or PostgreSQL)."""


@db.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create or migrate the ledger to the newest schema."""
    url = get_settings(ctx).resolved_db_url
    try:
        ledger = open_ledger(get_settings(ctx))
    except (LedgerError, LedgerDatabaseError) as exc:
        raise UserError(f"cannot open the ledger at {_shown(url)}: {_first_line(exc)}") from None
    try:
        revision = current_revision(ledger.engine)
    finally:
        ledger.engine.dispose()
    click.echo(f"ledger {_shown(url)} is at revision {revision}, the newest")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the ledger's schema revision and whether it is up to date."""
    url = get_settings(ctx).resolved_db_url
    head = head_revision()
    if _missing_sqlite_file(url):
        click.echo(f"ledger {_shown(url)} does not exist yet (head is {head}); run `db upgrade`")
        return
    try:
        engine = create_ledger_engine(url)
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
    except (LedgerError, LedgerDatabaseError) as exc:
        raise UserError(f"cannot read the ledger at {_shown(url)}: {_first_line(exc)}") from None
    state = "up to date" if revision == head else f"behind head {head}; run `db upgrade`"
    click.echo(f"ledger {_shown(url)} is at revision {revision or 'none (empty)'}: {state}")


def _shown(url: str) -> str:
    try:
        return redact(normalize_url(url))
    except LedgerError:  # unparsable: show nothing of it rather than risk showing a secret
        return "<invalid database URL>"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _missing_sqlite_file(url: str) -> bool:
    try:
        parsed = normalize_url(url)
    except LedgerError as exc:
        raise UserError(str(exc)) from None
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not Path(database).exists()
    )
