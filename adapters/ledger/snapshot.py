"""Whole-ledger snapshots for backups: take one, see whether a ledger is in place, put one back.

A SQLite ledger's snapshot is a copy of its database file, made with SQLite's online backup API;
a PostgreSQL ledger's is a JSON-lines dump of the ledger's own tables (see `dump`).

Invariants:
- A snapshot is consistent while a worker writes: the backup API copies one state of the file
  even in WAL mode, and the dump reads in one REPEATABLE READ transaction.
- A snapshot holds the ledger's rows and schema revision, never its URL or a password.
- Looking (`ledger_in_place`, `snapshot_ledger`) creates nothing, not even an empty SQLite file.
- `restore_snapshot` replaces only the ledger (the SQLite file's content, or the ledger's tables
  in the PostgreSQL schema) and leaves it migrated to this code's newest revision.
"""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from adapters.ledger import dump
from adapters.ledger.engine import (
    LedgerError,
    create_ledger_engine,
    current_revision,
    known_revision,
    normalize_url,
    upgrade,
)

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_COPY_NAME = "ledger.sqlite3"  # the temporary file a SQLite copy goes through


@dataclass(frozen=True)
class LedgerSnapshot:
    """One consistent copy of a whole ledger."""

    backend: str  # "sqlite": `data` is a SQLite database file; "postgresql": a JSON-lines dump
    revision: str  # the schema revision the rows were written at
    data: bytes
    rows: dict[str, int] | None = None  # rows per table, for a dump


def ledger_backend(url: str) -> str:
    """Return the backend of the ledger at `url`; refuse an in-memory SQLite ledger."""
    _sqlite_file(url)
    return normalize_url(url).get_backend_name()


def _sqlite_file(url: str) -> Path | None:
    # The database file of a SQLite ledger, None for PostgreSQL.
    parsed = normalize_url(url)
    if parsed.get_backend_name() != SQLITE:
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise LedgerError("an in-memory SQLite ledger cannot be backed up or restored")
    return Path(parsed.database)


def snapshot_ledger(url: str) -> LedgerSnapshot:
    """Return a consistent snapshot of the ledger at `url`; LedgerError if it has none yet."""
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        raise LedgerError(f"no ledger at {path}; nothing to back up")
    engine = create_ledger_engine(url)
    try:
        revision = current_revision(engine)
        if revision is None:
            raise LedgerError("the ledger has no schema yet; nothing to back up (`db upgrade`)")
        if path is not None:
            return LedgerSnapshot(SQLITE, revision, _copy_sqlite(path))
        out = io.StringIO()
        rows = dump.dump(engine, out)
        return LedgerSnapshot(POSTGRESQL, revision, out.getvalue().encode("utf-8"), rows)
    finally:
        engine.dispose()


def _copy_sqlite(path: Path) -> bytes:
    # The online backup API copies a consistent snapshot even while the worker writes (WAL).
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / _COPY_NAME
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        finally:
            target.close()
            source.close()
        return copy.read_bytes()


def ledger_in_place(url: str) -> str | None:
    """Describe the ledger already at `url` (a non-empty file or ledger tables), else None."""
    path = _sqlite_file(url)
    if path is not None:
        return f"ledger file {path}" if path.exists() and path.stat().st_size > 0 else None
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as connection:
            found = dump.existing_tables(connection)
    finally:
        engine.dispose()
    return "ledger tables in the PostgreSQL database" if found else None


def restore_snapshot(url: str, snapshot: LedgerSnapshot) -> None:
    """Replace the ledger at `url` with `snapshot`, then migrate it to the newest revision."""
    backend = ledger_backend(url)
    if snapshot.backend != backend:
        raise LedgerError(f"a {snapshot.backend} snapshot cannot go into a {backend} ledger")
    if not known_revision(snapshot.revision):
        raise LedgerError(f"ledger revision {snapshot.revision} is unknown to this ProjectK")
    path = _sqlite_file(url)
    if path is not None:
        _restore_sqlite(path, snapshot.data)
    else:
        engine = create_ledger_engine(url)
        try:
            dump.drop_ledger_tables(engine)
            upgrade(engine, snapshot.revision)
            dump.load(engine, io.StringIO(snapshot.data.decode("utf-8")))
        finally:
            engine.dispose()
    upgrade(url)


def _restore_sqlite(path: Path, data: bytes) -> None:
    # Copy into the target through the backup API: it replaces the content page by page under
    # SQLite's locks, so a WAL file beside the target cannot resurrect old rows.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        copy = Path(tmp) / _COPY_NAME
        copy.write_bytes(data)
        source = sqlite3.connect(copy)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
