"""Schema and engine: migrations from empty, no drift from the models, URL handling, the CLI."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

from adapters.ledger import (
    LedgerDatabaseError,
    LedgerError,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    open_ledger,
    upgrade,
)
from adapters.ledger.tables import LEDGER_METADATA
from cli import main
from projectk.models import PairStatus
from projectk.settings import Settings
from tests.adapters.ledger.conftest import make_config

TABLES = {"pairs", "source_fills", "mirror_orders", "executions", "claims", "alerts"}


def test_upgrade_from_empty_creates_every_table(ledger_url: str) -> None:
    engine = create_ledger_engine(ledger_url)
    try:
        assert current_revision(engine) is None
        assert upgrade(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert upgrade(engine) == head_revision()  # a second run is a no-op
    finally:
        engine.dispose()


def test_migrations_match_the_models(ledger_engine: Engine) -> None:
    with ledger_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, LEDGER_METADATA) == []


def test_processes_starting_together_migrate_once(ledger_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def migrate() -> None:
        engine = create_ledger_engine(ledger_url)
        try:
            barrier.wait()
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = create_ledger_engine(ledger_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'l.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:secret@db.example:5432/ledger",
        "postgresql://u:secret@db.example:5432/ledger",
        "postgresql+psycopg://u:secret@db.example:5432/ledger",
    ],
)
def test_postgres_urls_use_psycopg(url: str) -> None:
    parsed = normalize_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.database, parsed.password) == ("db.example", "ledger", "secret")


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db", "not a url"])
def test_other_databases_are_refused(url: str) -> None:
    with pytest.raises(LedgerError):
        create_ledger_engine(url)


def test_a_failing_database_reaches_callers_as_the_ledgers_own_error(tmp_path: Path) -> None:
    engine = create_ledger_engine("postgresql://u:hunter2@127.0.0.1:1/ledger")
    try:
        with pytest.raises(LedgerDatabaseError):
            current_revision(engine)
    finally:
        engine.dispose()
    (tmp_path / "ledger.db").mkdir()  # a directory where the SQLite file should be
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with pytest.raises(LedgerDatabaseError):
            current_revision(engine)
    finally:
        engine.dispose()


def test_open_ledger_creates_the_data_dir_and_migrates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "data")
    ledger = open_ledger(settings)
    try:
        assert (tmp_path / "new" / "data" / "ledger.db").is_file()
        assert current_revision(ledger.engine) == head_revision()
        ledger.upsert_pair(make_config(), PairStatus.ACTIVE)
        assert ledger.get_pair("p1") is not None
    finally:
        ledger.engine.dispose()


def test_open_ledger_refuses_a_database_from_a_newer_version(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(LedgerError, match="newer ProjectK"):
        upgrade(ledger_engine)


def test_cli_db_upgrade_then_current(ledger_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    settings = Settings(data_dir=tmp_path / "data", db_url=ledger_url)

    def invoke(*args: str) -> str:
        result = runner.invoke(main, ["db", *args], obj={"settings": settings})
        assert result.exit_code == 0, result.output
        return result.output

    before = invoke("current")
    assert "none (empty)" in before or "does not exist yet" in before
    assert f"revision {head_revision()}" in invoke("upgrade")
    assert "up to date" in invoke("current")
    assert f"revision {head_revision()}" in invoke("upgrade")


def test_cli_db_upgrade_uses_the_default_sqlite_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    result = CliRunner().invoke(main, ["db", "upgrade"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "ledger.db").is_file()


def test_cli_db_current_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    result = CliRunner().invoke(main, ["db", "current"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert "does not exist yet" in result.output
    assert not (tmp_path / "data").exists()


def test_cli_db_upgrade_reports_an_unreachable_server_without_the_password(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, db_url="postgresql://u:hunter2@127.0.0.1:1/ledger")
    result = CliRunner().invoke(main, ["db", "upgrade"], obj={"settings": settings})
    assert result.exit_code == 1
    assert "cannot open the ledger" in result.output
    assert "hunter2" not in result.output
