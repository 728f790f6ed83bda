"""Fixtures of the operations tests: settings for a temporary data directory, a fast vault.

Settings are built with explicit values (`load_settings(**overrides)`), never from the test
process's environment, so a developer's own PROJECTK_* variables cannot change a result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from projectk.settings import Settings, load_settings
from projectk.vault import ScryptParams, Vault
from tests.pg import report_skips

PASSPHRASE = "correct horse battery staple"
KEY_A = "0x" + "11" * 32  # address 0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A
FAST_KDF = ScryptParams(n=2**4, r=8, p=1)  # tests only: the real cost is 2**15


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say at the end of the run why PostgreSQL tests were skipped, if they were."""
    report_skips(terminalreporter)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Return settings rooted in `data_dir`, independent of the environment's PROJECTK_* values."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "vault_passphrase": PASSPHRASE,
        "db_url": f"sqlite:///{data_dir / 'ledger.db'}",
        "vault_path": data_dir / "vault.json",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return settings whose data directory is a fresh temporary one."""
    return make_settings(tmp_path / "data")


@pytest.fixture
def vault(settings: Settings) -> Iterator[Vault]:
    """Yield the settings' vault, holding KEY_A as `follower` (cheap scrypt for speed)."""
    vault = Vault(settings.resolved_vault_path, kdf=FAST_KDF)
    vault.add("follower", KEY_A, PASSPHRASE)
    yield vault
