"""`projectk backup` / `projectk restore`: the ledger and the vault in one archive.

Archive (gzip tar, mode 0600): `manifest.json`; `ledger.sqlite3` (a SQLite ledger, copied with
SQLite's online backup API) or `ledger.jsonl` (a PostgreSQL ledger, dumped by `ledger_dump`);
`vault.json` when a vault exists, byte for byte as on disk.

Invariants:
- The vault goes into the archive still encrypted, exactly as stored; no passphrase is needed to
  back up or restore, and no secret and no database password is written to the manifest.
- Restore checks the archive first (format, version, SHA-256 of every member, schema revision
  known to this ProjectK) and changes nothing unless every check passes.
- Restore refuses to replace an existing ledger (a SQLite file, or any ledger table in the
  PostgreSQL schema) or vault file unless `force` is given.
- After a restore the ledger is migrated to this ProjectK's newest revision.
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from pydantic import BaseModel, ConfigDict

from adapters.ledger import create_ledger_engine, current_revision, normalize_url, upgrade
from adapters.ledger import dump as ledger_dump
from adapters.ledger.engine import MIGRATIONS_DIR
from adapters.vault import Vault
from projectk.settings import Settings

FORMAT = "projectk-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "ledger.sqlite3"
DUMP_MEMBER = "ledger.jsonl"
VAULT_MEMBER = "vault.json"


class BackupError(RuntimeError):
    """A backup or restore cannot proceed; the message says why and what to do."""


class RestoreRefusedError(BackupError):
    """Restoring would overwrite existing data and `--force` was not given."""


class Manifest(BaseModel):
    """What an archive holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = FORMAT
    version: int = VERSION
    created_at: datetime
    ledger_backend: str  # "sqlite" or "postgresql"
    ledger_revision: str
    ledger_rows: dict[str, int] | None = None  # per table, for a PostgreSQL dump
    vault_entries: int | None = None  # None: no vault was backed up
    sha256: dict[str, str]  # member name -> hex digest


@dataclass(frozen=True)
class LedgerTarget:
    """Where the configured ledger lives."""

    url: str
    backend: str
    sqlite_path: Path | None


def ledger_target(settings: Settings) -> LedgerTarget:
    """Return the configured ledger's backend and, for SQLite, its file."""
    parsed = normalize_url(settings.resolved_db_url)
    backend = parsed.get_backend_name()
    path = Path(parsed.database) if backend == "sqlite" and parsed.database else None
    if backend == "sqlite" and (path is None or str(path) == ":memory:"):
        raise BackupError("an in-memory SQLite ledger cannot be backed up or restored")
    return LedgerTarget(settings.resolved_db_url, backend, path)


def default_archive_path(settings: Settings, now: datetime | None = None) -> Path:
    """Return `<data_dir>/backups/projectk-<UTC time>.tar.gz`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return settings.data_dir / "backups" / f"projectk-{stamp}.tar.gz"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sqlite_copy(path: Path) -> bytes:
    # The online backup API copies a consistent snapshot even while the worker writes (WAL).
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / SQLITE_MEMBER
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        finally:
            target.close()
            source.close()
        return copy.read_bytes()


def _ledger_member(target: LedgerTarget) -> tuple[str, bytes, str, dict[str, int] | None]:
    engine = create_ledger_engine(target.url)
    try:
        revision = current_revision(engine)
        if revision is None:
            raise BackupError("the ledger has no schema yet; nothing to back up (`db upgrade`)")
        if target.sqlite_path is not None:
            return SQLITE_MEMBER, _sqlite_copy(target.sqlite_path), revision, None
        out = io.StringIO()
        rows = ledger_dump.dump(engine, out)
        return DUMP_MEMBER, out.getvalue().encode("utf-8"), revision, rows
    finally:
        engine.dispose()


def create_backup(settings: Settings, archive: Path, *, force: bool = False) -> Manifest:
    """Write the ledger and the (encrypted) vault into `archive`; return its manifest."""
    if archive.exists() and not force:
        raise RestoreRefusedError(f"{archive} exists; choose another path or pass --force")
    target = ledger_target(settings)
    if target.sqlite_path is not None and not target.sqlite_path.is_file():
        raise BackupError(f"no ledger at {target.sqlite_path}; nothing to back up")
    name, data, revision, rows = _ledger_member(target)
    members = {name: data}
    vault = Vault(settings.resolved_vault_path)
    entries = None
    if vault.path.is_file():
        entries = len(vault.entries())  # also refuses a vault with unsafe permissions
        members[VAULT_MEMBER] = vault.path.read_bytes()
    manifest = Manifest(
        created_at=datetime.now(UTC).replace(microsecond=0),
        ledger_backend=target.backend,
        ledger_revision=revision,
        ledger_rows=rows,
        vault_entries=entries,
        sha256={member: _sha256(content) for member, content in members.items()},
    )
    members[MANIFEST] = manifest.model_dump_json(indent=2).encode("utf-8")
    _write_archive(archive, members)
    return manifest


def _write_archive(archive: Path, members: dict[str, bytes]) -> None:
    archive.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=archive.parent, prefix=f".{archive.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name in (MANIFEST, *sorted(set(members) - {MANIFEST})):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(members[name]), 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                tar.addfile(info, io.BytesIO(members[name]))
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_archive(archive: Path) -> tuple[Manifest, dict[str, bytes]]:
    """Return an archive's manifest and members, verified; raise `BackupError` if unusable."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = {}
            for info in tar.getmembers():
                handle = tar.extractfile(info) if info.isfile() else None
                if handle is None:
                    raise BackupError(f"{archive}: unexpected entry {info.name!r}")
                members[info.name] = handle.read()
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} is not a readable ProjectK backup: {exc}") from None
    try:
        manifest = Manifest.model_validate_json(members.pop(MANIFEST, b""))
    except ValueError:
        raise BackupError(f"{archive} has no valid {MANIFEST}") from None
    if manifest.format != FORMAT or manifest.version > VERSION:
        raise BackupError(f"{archive} is a {manifest.format} v{manifest.version} archive")
    if set(members) != set(manifest.sha256):
        raise BackupError(f"{archive}: members {sorted(members)} differ from the manifest")
    for name, content in members.items():
        if _sha256(content) != manifest.sha256[name]:
            raise BackupError(f"{archive}: {name} is damaged (SHA-256 mismatch)")
    return manifest, members


def _known_revision(revision: str) -> bool:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    return any(script.revision == revision for script in scripts.walk_revisions())


def _occupied(target: LedgerTarget, vault_path: Path) -> list[str]:
    found = []
    if target.sqlite_path is not None:
        if target.sqlite_path.exists() and target.sqlite_path.stat().st_size > 0:
            found.append(f"ledger file {target.sqlite_path}")
    else:
        engine = create_ledger_engine(target.url)
        try:
            with engine.connect() as connection:
                if ledger_dump.existing_tables(connection):
                    found.append("ledger tables in the PostgreSQL database")
        finally:
            engine.dispose()
    if vault_path.exists():
        found.append(f"vault file {vault_path}")
    return found


def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> Manifest:
    """Put an archive's ledger and vault in place; refuse to overwrite unless `force`."""
    manifest, members = read_archive(archive)
    target = ledger_target(settings)
    if manifest.ledger_backend != target.backend:
        raise BackupError(
            f"{archive} holds a {manifest.ledger_backend} ledger but PROJECTK_DB_URL is "
            f"{target.backend}; restore it into the same kind of database"
        )
    if not _known_revision(manifest.ledger_revision):
        raise BackupError(
            f"{archive} is at ledger revision {manifest.ledger_revision}, unknown to this "
            "ProjectK (made by a newer version?)"
        )
    vault_path = settings.resolved_vault_path
    occupied = _occupied(target, vault_path)
    if occupied and not force:
        raise RestoreRefusedError(
            f"restoring would overwrite the {' and the '.join(occupied)}; "
            "stop the worker, bot and dashboard, then pass --force to replace them"
        )
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _restore_ledger(target, manifest, members)
    if VAULT_MEMBER in members:
        _restore_vault(vault_path, members[VAULT_MEMBER])
    return manifest


def _restore_ledger(target: LedgerTarget, manifest: Manifest, members: dict[str, bytes]) -> None:
    if target.sqlite_path is not None:
        _restore_sqlite(target.sqlite_path, members[SQLITE_MEMBER])
    else:
        engine = create_ledger_engine(target.url)
        try:
            ledger_dump.drop_ledger_tables(engine)
            upgrade(engine, manifest.ledger_revision)
            ledger_dump.load(engine, io.StringIO(members[DUMP_MEMBER].decode("utf-8")))
        finally:
            engine.dispose()
    upgrade(target.url)


def _restore_sqlite(path: Path, data: bytes) -> None:
    # Copy into the target through the backup API: it replaces the content page by page under
    # SQLite's locks, so a WAL file beside the target cannot resurrect old rows.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        copy = Path(tmp) / SQLITE_MEMBER
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


def _restore_vault(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp: mode 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Vault(tmp).entries()  # parses: a damaged vault never replaces a good one
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(manifest: Manifest) -> str:
    """Return a one-line summary of a manifest for the operator."""
    vault = "no vault" if manifest.vault_entries is None else f"vault ({manifest.vault_entries})"
    rows = f", {sum(manifest.ledger_rows.values())} rows" if manifest.ledger_rows else ""
    return (
        f"{manifest.ledger_backend} ledger at revision {manifest.ledger_revision}{rows}, {vault}, "
        f"made {manifest.created_at.isoformat()}"
    )
