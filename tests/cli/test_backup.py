"""`projectk backup` / `restore`: round trips on SQLite and PostgreSQL, refusal, damage."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.ledger import Ledger, open_ledger
from adapters.vault import Vault
from cli import main
from cli.tools.backup import (
    SQLITE_MEMBER,
    VAULT_MEMBER,
    BackupError,
    RestoreRefusedError,
    create_backup,
    read_archive,
    restore_backup,
)
from projectk.models import AlertLevel, PairStatus
from projectk.settings import Settings
from tests.pg import postgres_database, postgres_schema
from tests.settings_env import KEY_A, PASSPHRASE, make_settings
from tests.workflows.harness import pair_config

FOLLOWER_A = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


def _fill_ledger(settings: Settings, *pair_ids: str) -> None:
    ledger = open_ledger(settings)
    try:
        for pair_id in pair_ids:
            ledger.upsert_pair(pair_config(pair_id, follower=FOLLOWER_A), PairStatus.ACTIVE)
            ledger.record_alert(f"low-gas-{pair_id}", AlertLevel.HIGH, "low_gas", "gas", pair_id)
    finally:
        ledger.engine.dispose()


def _pair_ids(settings: Settings) -> list[str]:
    ledger = open_ledger(settings)
    try:
        return sorted(record.pair_id for record in Ledger(ledger.engine).list_pairs())
    finally:
        ledger.engine.dispose()


def test_sqlite_round_trip_restores_ledger_and_encrypted_vault(
    settings: Settings, vault: Vault, tmp_path: Path
) -> None:
    _fill_ledger(settings, "alpha", "beta")
    archive = tmp_path / "b.tar.gz"
    manifest = create_backup(settings, archive)
    assert manifest.ledger_backend == "sqlite" and manifest.vault_entries == 1
    assert archive.stat().st_mode & 0o777 == 0o600
    raw = archive.read_bytes()
    _, members = read_archive(archive)
    assert members[VAULT_MEMBER] == vault.path.read_bytes()  # the vault, still encrypted
    for secret in (PASSPHRASE, KEY_A.removeprefix("0x")):
        assert secret.encode() not in raw and secret.encode() not in members[VAULT_MEMBER]

    fresh = make_settings(tmp_path / "elsewhere")
    restored = restore_backup(fresh, archive)
    assert restored == manifest
    assert _pair_ids(fresh) == ["alpha", "beta"]
    account = Vault(fresh.resolved_vault_path).open_account("vault://follower", PASSPHRASE)
    assert account.address == FOLLOWER_A
    assert fresh.resolved_vault_path.stat().st_mode & 0o777 == 0o600


def test_restore_refuses_to_overwrite_without_force(
    settings: Settings, vault: Vault, tmp_path: Path
) -> None:
    _fill_ledger(settings, "alpha")
    archive = tmp_path / "b.tar.gz"
    create_backup(settings, archive)
    _fill_ledger(settings, "later")
    vault_before = vault.path.read_bytes()
    with pytest.raises(RestoreRefusedError, match="--force"):
        restore_backup(settings, archive)
    assert _pair_ids(settings) == ["alpha", "later"]  # untouched
    assert vault.path.read_bytes() == vault_before
    restore_backup(settings, archive, force=True)
    assert _pair_ids(settings) == ["alpha"]


def test_damaged_archive_is_refused_and_changes_nothing(
    settings: Settings, vault: Vault, tmp_path: Path
) -> None:
    _fill_ledger(settings, "alpha")
    archive = tmp_path / "b.tar.gz"
    create_backup(settings, archive)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for info in src.getmembers():
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == SQLITE_MEMBER:
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(info, io.BytesIO(data))
    fresh = make_settings(tmp_path / "elsewhere")
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(fresh, damaged)
    assert not fresh.resolved_vault_path.exists()
    assert not (tmp_path / "elsewhere" / "ledger.db").exists()


def test_backup_refuses_to_overwrite_an_archive(settings: Settings, tmp_path: Path) -> None:
    _fill_ledger(settings, "alpha")
    archive = tmp_path / "b.tar.gz"
    create_backup(settings, archive)
    with pytest.raises(RestoreRefusedError):
        create_backup(settings, archive)


def test_cli_backup_then_restore_refusal_and_force(
    settings: Settings, vault: Vault, tmp_path: Path
) -> None:
    _fill_ledger(settings, "alpha")
    archive = tmp_path / "cli.tar.gz"
    runner = CliRunner()
    made = runner.invoke(main, ["backup", "-o", str(archive)], obj={"settings": settings})
    assert made.exit_code == 0, made.output
    assert "vault (1)" in made.output
    refused = runner.invoke(main, ["restore", str(archive)], obj={"settings": settings})
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = runner.invoke(main, ["restore", "--force", str(archive)], obj={"settings": settings})
    assert forced.exit_code == 0, forced.output


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """Yield a fresh PostgreSQL database for this module (skip or fail when unreachable)."""
    with postgres_database() as url:
        yield url


@pytest.mark.postgres
def test_postgres_round_trip(pg_database: str, vault: Vault, tmp_path: Path) -> None:
    with postgres_schema(pg_database) as source_url, postgres_schema(pg_database) as target_url:
        source = make_settings(tmp_path / "src", db_url=source_url, vault_path=vault.path)
        _fill_ledger(source, "alpha", "beta")
        archive = tmp_path / "pg.tar.gz"
        manifest = create_backup(source, archive)
        assert manifest.ledger_backend == "postgresql"
        assert manifest.ledger_rows is not None
        assert manifest.ledger_rows["pairs"] == 2 and manifest.ledger_rows["alerts"] == 2

        target = make_settings(tmp_path / "dst", db_url=target_url)
        restore_backup(target, archive)
        assert _pair_ids(target) == ["alpha", "beta"]
        with pytest.raises(RestoreRefusedError):
            restore_backup(target, archive)
        _fill_ledger(target, "gamma")
        restore_backup(target, archive, force=True)
        assert _pair_ids(target) == ["alpha", "beta"]
        # New rows after a restore get fresh ids: the alert id sequence continues after the
        # restored rows instead of colliding with them.
        _fill_ledger(target, "delta")
        assert _pair_ids(target) == ["alpha", "beta", "delta"]
        assert len(Ledger(open_ledger(target).engine).list_alerts()) == 3
