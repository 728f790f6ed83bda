"""Schema and engine: migrations from empty and from older revisions holding rows, no drift from
the models, URL handling, the CLI."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, inspect, text

from adapters.ledger import (
    MIGRATIONS_DIR,
    Ledger,
    LedgerDatabaseError,
    LedgerError,
    OrderStatus,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    open_ledger,
    upgrade,
)
from adapters.ledger.tables import LEDGER_METADATA
from cli import main
from projectk.models import PairStatus, Side
from projectk.settings import Settings
from tests.adapters.ledger.conftest import TOKEN, make_config, make_fill

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


OLD_TX = "0x" + "a1" * 32
OLD_FILL = f"{OLD_TX}:7"  # a fill id of revision 0002: "<tx hash>:<log index>"
OLD_SKIP = "0x" + "b2" * 32 + ":0"
POSTED = "0x" + "c3" * 32  # the follower's order hash
T = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _seed_0002(engine: Engine) -> None:
    """Write a source fill, its mirror order with one trade, and a skip, as revision 0002 did."""
    at = T.replace(tzinfo=None) if engine.dialect.name == "sqlite" else T  # UTC wall time
    order: dict[str, Any] = {
        "pair_id": "p1",
        "token_id": TOKEN,
        "side": "BUY",
        "intended_shares_micro": 10_000_000,
        "intended_notional_micro": 5_100_000,
        "filled_shares_micro": 0,
        "notional_micro": 0,
        "fee_micro": 0,
        "created_at": at,
        "updated_at": at,
    }
    filled = {
        "fill_id": OLD_FILL,
        "status": "filled",
        "reason": "",
        "order_id": POSTED,
        "order_type": "FAK",
        "limit_price": "0.51",
        "filled_shares_micro": 10_000_000,
        "notional_micro": 5_100_000,
    }
    skipped = {"fill_id": OLD_SKIP, "status": "skipped", "reason": "late"}
    trade = {
        "order_id": POSTED,
        "trade_id": "trade-1",
        "pair_id": "p1",
        "fill_id": OLD_FILL,
        "side": "BUY",
        "shares_micro": 10_000_000,
        "price": "0.51",
        "notional_micro": 5_100_000,
        "fee_micro": 0,
        "executed_at": at,
        "created_at": at,
    }
    with engine.begin() as connection:
        old = MetaData()
        old.reflect(connection, only=["source_fills", "mirror_orders", "executions"])
        tables = old.tables
        fill = make_fill(7, fill_id=OLD_FILL, tx_hash=OLD_TX, block_time=T, detected_at=T)
        row = fill.model_dump(exclude={"order_hash"})
        row.update(side="BUY", exchange=fill.exchange.value, price="0.5", block_time=at)
        connection.execute(tables["source_fills"].insert(), [{**row, "detected_at": at}])
        connection.execute(tables["mirror_orders"].insert(), [{**order, **filled}])
        connection.execute(tables["mirror_orders"].insert(), [{**order, **skipped}])
        connection.execute(tables["executions"].insert(), [trade])


def _alembic(engine: Engine, step: str, revision: str) -> None:
    # Alembic's own command, for the downgrade the ledger itself never runs.
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


def test_upgrade_from_0002_keeps_every_row_under_the_new_names(ledger_url: str) -> None:
    engine = create_ledger_engine(ledger_url)
    try:
        assert upgrade(engine, "0002") == "0002"
        _seed_0002(engine)
        assert upgrade(engine) == head_revision()
        ledger = Ledger(engine)

        fill = ledger.get_fill(OLD_FILL)
        assert fill is not None
        assert (fill.order_hash, fill.log_index, fill.block_time) == ("", 7, T)
        order = ledger.get_order("p1", OLD_FILL)  # a mirror of 0002 keeps its fill as decision
        assert order is not None
        assert (order.decision_id, order.order_hash, order.status) == (
            OLD_FILL,
            "",
            OrderStatus.FILLED,
        )
        assert (order.order_id, order.limit_price, order.created_at) == (POSTED, Decimal("0.51"), T)
        [trade] = ledger.list_executions(pair_id="p1", decision_id=OLD_FILL)
        assert (trade.trade_id, trade.notional_micro, trade.executed_at) == (
            "trade-1",
            5_100_000,
            T,
        )
        [skip] = ledger.list_orders(pair_id="p1", statuses=[OrderStatus.SKIPPED])
        assert (skip.decision_id, skip.reason) == (OLD_SKIP, "late")
        assert order.id < skip.id  # row ids kept: failure streaks count in their order

        # Trades still need their mirror order, and today's longer ids fit.
        orphan = trade.model_copy(update={"decision_id": "0x" + "0" * 64, "trade_id": "t-2"})
        with pytest.raises(LedgerDatabaseError):
            ledger.record_execution(orphan)
        new = make_fill(0, block=200)
        assert len(new.fill_id) == 133 and ledger.record_fill(new)
        assert ledger.get_fill(new.fill_id) is not None
        assert ledger.record_skip("p1", new.fill_id, TOKEN, Side.BUY, "late", new.order_hash)
        assert ledger.list_orders(order_hash=new.order_hash)[0].decision_id == new.fill_id
    finally:
        engine.dispose()


def test_downgrade_to_0002_gives_the_old_names_back(ledger_url: str) -> None:
    engine = create_ledger_engine(ledger_url)
    try:
        upgrade(engine, "0002")
        _seed_0002(engine)
        upgrade(engine)
        _alembic(engine, "downgrade", "0002")
        assert current_revision(engine) == "0002"
        with engine.connect() as connection:
            orders = connection.execute(text("SELECT fill_id FROM mirror_orders ORDER BY id"))
            assert list(orders.scalars()) == [OLD_FILL, OLD_SKIP]
            trades = connection.execute(text("SELECT fill_id FROM executions"))
            assert list(trades.scalars()) == [OLD_FILL]
        assert upgrade(engine) == head_revision()
        assert Ledger(engine).list_executions(decision_id=OLD_FILL)[0].trade_id == "trade-1"
    finally:
        engine.dispose()


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
