"""Whole-ledger snapshots: taken while in use, put back in place of newer rows, on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.ledger import (
    Ledger,
    LedgerError,
    LedgerSnapshot,
    head_revision,
    ledger_backend,
    ledger_in_place,
    restore_snapshot,
    snapshot_ledger,
)
from projectk.models import PairStatus
from tests.adapters.ledger.conftest import make_config


def _pair_ids(ledger: Ledger) -> list[str]:
    return sorted(record.pair_id for record in ledger.list_pairs())


def test_a_restored_snapshot_replaces_what_was_written_after_it(
    ledger: Ledger, ledger_url: str
) -> None:
    ledger.upsert_pair(make_config("alpha"), PairStatus.ACTIVE)
    snapshot = snapshot_ledger(ledger_url)
    assert snapshot.backend == ledger_backend(ledger_url)
    assert snapshot.revision == head_revision()
    assert ledger_in_place(ledger_url) is not None
    ledger.upsert_pair(make_config("later"), PairStatus.ACTIVE)
    ledger.engine.dispose()

    restore_snapshot(ledger_url, snapshot)
    assert _pair_ids(ledger) == ["alpha"]
    ledger.upsert_pair(make_config("after"), PairStatus.ACTIVE)  # the ledger is usable again
    assert _pair_ids(ledger) == ["after", "alpha"]


def test_an_empty_database_holds_no_ledger_and_has_nothing_to_snapshot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert ledger_in_place(url) is None
    with pytest.raises(LedgerError, match="nothing to back up"):
        snapshot_ledger(url)
    assert not (tmp_path / "ledger.db").exists()  # looking created nothing
    with pytest.raises(LedgerError, match="in-memory"):
        ledger_backend("sqlite://")


def test_a_snapshot_of_another_backend_or_an_unknown_revision_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    for snapshot in (
        LedgerSnapshot("postgresql", head_revision(), b""),
        LedgerSnapshot("sqlite", "9999", b""),
    ):
        with pytest.raises(LedgerError):
            restore_snapshot(url, snapshot)
    assert not (tmp_path / "ledger.db").exists()
