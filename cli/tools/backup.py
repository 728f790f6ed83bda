"""`projectk backup` / `projectk restore`: the ledger and the vault in one archive.

Archive (gzip tar, mode 0600): `manifest.json`; the ledger's snapshot (`adapters.ledger`) as
`ledger.sqlite3` (a SQLite ledger's database file) or `ledger.jsonl` (a PostgreSQL ledger's dump);
`vault.json` when a vault exists, byte for byte as on disk. This module archives, checks and puts
files in place; the ledger package does everything that speaks to the database.

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
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from adapters.ledger import (
    LedgerSnapshot,
    known_revision,
    ledger_backend,
    ledger_in_place,
    restore_snapshot,
    snapshot_ledger,
)
from adapters.vault import Vault
from projectk.settings import Settings

FORMAT = "projectk-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "ledger.sqlite3"
DUMP_MEMBER = "ledger.jsonl"
LEDGER_MEMBERS = {"sqlite": SQLITE_MEMBER, "postgresql": DUMP_MEMBER}  # by ledger backend
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


def default_archive_path(settings: Settings, now: datetime | None = None) -> Path:
    """Return `<data_dir>/backups/projectk-<UTC time>.tar.gz`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return settings.data_dir / "backups" / f"projectk-{stamp}.tar.gz"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create_backup(settings: Settings, archive: Path, *, force: bool = False) -> Manifest:
    """Write the ledger and the (encrypted) vault into `archive`; return its manifest."""
    if archive.exists() and not force:
        raise RestoreRefusedError(f"{archive} exists; choose another path or pass --force")
    snapshot = snapshot_ledger(settings.resolved_db_url)
    members = {LEDGER_MEMBERS[snapshot.backend]: snapshot.data}
    vault = Vault(settings.resolved_vault_path)
    entries = None
    if vault.path.is_file():
        entries = len(vault.entries())  # also refuses a vault with unsafe permissions
        members[VAULT_MEMBER] = vault.path.read_bytes()
    manifest = Manifest(
        created_at=datetime.now(UTC).replace(microsecond=0),
        ledger_backend=snapshot.backend,
        ledger_revision=snapshot.revision,
        ledger_rows=snapshot.rows,
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


def _occupied(db_url: str, vault_path: Path) -> list[str]:
    found = [ledger] if (ledger := ledger_in_place(db_url)) else []
    if vault_path.exists():
        found.append(f"vault file {vault_path}")
    return found


def restore_backup(settings: Settings, archive: Path, *, force: bool = False) -> Manifest:
    """Put an archive's ledger and vault in place; refuse to overwrite unless `force`."""
    manifest, members = read_archive(archive)
    db_url = settings.resolved_db_url
    snapshot = _archived_snapshot(archive, manifest, members, ledger_backend(db_url))
    vault_path = settings.resolved_vault_path
    occupied = _occupied(db_url, vault_path)
    if occupied and not force:
        raise RestoreRefusedError(
            f"restoring would overwrite the {' and the '.join(occupied)}; "
            "stop the worker, bot and dashboard, then pass --force to replace them"
        )
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    restore_snapshot(db_url, snapshot)
    if VAULT_MEMBER in members:
        _restore_vault(vault_path, members[VAULT_MEMBER])
    return manifest


def _archived_snapshot(
    archive: Path, manifest: Manifest, members: dict[str, bytes], backend: str
) -> LedgerSnapshot:
    # The archive's ledger, once it is known to fit the configured database and this code.
    if manifest.ledger_backend != backend:
        raise BackupError(
            f"{archive} holds a {manifest.ledger_backend} ledger but PROJECTK_DB_URL is "
            f"{backend}; restore it into the same kind of database"
        )
    if not known_revision(manifest.ledger_revision):
        raise BackupError(
            f"{archive} is at ledger revision {manifest.ledger_revision}, unknown to this "
            "ProjectK (made by a newer version?)"
        )
    member = LEDGER_MEMBERS[backend]
    if member not in members:
        raise BackupError(f"{archive} holds no {member}")
    return LedgerSnapshot(backend, manifest.ledger_revision, members[member], manifest.ledger_rows)


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
