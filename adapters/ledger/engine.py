"""Ledger engines and schema migrations.

Invariants:
- Nothing here runs at import: engines are built by `create_ledger_engine` when called.
- Only SQLite and PostgreSQL (through psycopg 3) are accepted; `postgres://` and `postgresql://`
  URLs are mapped to `postgresql+psycopg://`.
- SQLite connections run in WAL mode with a busy timeout and foreign keys enforced.
- The schema is changed only by the Alembic migrations shipped in `projectk/ledger/migrations`.
  `upgrade` holds a database-wide lock while it migrates (a PostgreSQL advisory lock, an exclusive
  SQLite transaction), so processes starting together migrate once and each sees the result.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import (
    Connection,
    Engine,
    String,
    column,
    create_engine,
    event,
    inspect,
    make_url,
    select,
    table,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from adapters.ledger.ledger import Ledger
from projectk.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10
VERSION_TABLE = "alembic_version"  # alembic's default, where the schema revision is kept
MIGRATION_LOCK_KEY = 0x5052_4A4B_4C44  # "PRJKLD": the advisory lock id of ledger migrations


class LedgerError(RuntimeError):
    """The ledger database cannot be used as it is; the message says why and what to do."""


# What any ledger call raises when the database itself fails: an unreachable server, a file
# locked past the busy timeout, a dropped connection, a violated constraint. It is SQLAlchemy's
# base error under the ledger's name, so callers catch it without importing the database library
# (a `DBAPIError` among them keeps the driver's own exception in `orig`).
LedgerDatabaseError = SQLAlchemyError


def normalize_url(url: str) -> URL:
    """Return the SQLAlchemy URL for `url`, with PostgreSQL URLs mapped to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError("the ledger URL cannot be parsed (see PROJECTK_DB_URL)") from None
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise LedgerError(
            f"unsupported ledger URL scheme {parsed.drivername!r}: "
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


def redact(url: str | URL) -> str:
    """Return the URL as text with its password hidden, fit for logs and messages."""
    parsed = url if isinstance(url, URL) else make_url(url)
    return parsed.render_as_string(hide_password=True)


def create_ledger_engine(url: str) -> Engine:
    """Build an engine for the ledger at `url` (SQLite file or PostgreSQL)."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL except on power loss
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    # WAL is stored in the file, so only the first connection to a new file switches it. That
    # switch needs an exclusive lock and does not wait on the busy timeout, hence the retries.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest migration revision this code ships."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise LedgerError("no ledger migrations found")
    return head


def known_revision(revision: str) -> bool:
    """Tell whether `revision` is one of the migrations this code ships (head or older)."""
    scripts = ScriptDirectory.from_config(_alembic_config())
    return any(script.revision == revision for script in scripts.walk_revisions())


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    # Read the version table directly: alembic's MigrationContext logs at INFO on every use.
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        version = column("version_num", String)
        return connection.execute(select(version).select_from(table(VERSION_TABLE))).scalar()


def upgrade(target: Engine | str, revision: str = "head") -> str | None:
    """Migrate the ledger at `target` to `revision`; return the revision it is at afterwards."""
    engine = target if isinstance(target, Engine) else create_ledger_engine(target)
    try:
        head = head_revision()
        if revision == "head" and current_revision(engine) == head:
            return head  # the common case: nothing to lock, nothing to log
        _migrate(engine, revision)
        return current_revision(engine)
    finally:
        if not isinstance(target, Engine):
            engine.dispose()


def _migrate(engine: Engine, revision: str) -> None:
    try:
        with engine.begin() as connection:
            _lock_for_migration(connection)
            command.upgrade(_alembic_config(connection), revision)
    except CommandError as exc:
        raise LedgerError(
            f"cannot migrate the ledger at {redact(engine.url)}: {exc} (if a newer ProjectK "
            "wrote this database, run that version)"
        ) from exc


def _lock_for_migration(connection: Connection) -> None:
    # Serialise migrations across processes; the lock ends with the migration's transaction.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    else:
        connection.exec_driver_sql("BEGIN EXCLUSIVE")


def open_ledger(settings: Settings) -> Ledger:
    """Open the configured ledger, creating the data directory and migrating the schema."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    parsed = normalize_url(settings.resolved_db_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_ledger_engine(settings.resolved_db_url)
    try:
        revision = upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    log.debug("ledger %s at revision %s", redact(engine.url), revision)
    return Ledger(engine)
