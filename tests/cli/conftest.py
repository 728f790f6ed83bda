"""Fixtures of the CLI and operator-tool tests: settings for a temporary data directory and a
fast vault holding one key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.vault import Vault
from projectk.settings import Settings
from tests.settings_env import FAST_KDF, KEY_A, PASSPHRASE, make_settings


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
