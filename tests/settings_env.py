"""Settings for tests: a temporary data directory, never the test process's environment.

Settings are built with explicit values (`load_settings(**overrides)`), so a developer's own
PROJECTK_* variables cannot change a result.
"""

from __future__ import annotations

from pathlib import Path

from adapters.vault import ScryptParams
from projectk.settings import Settings, load_settings

PASSPHRASE = "correct horse battery staple"
KEY_A = "0x" + "11" * 32  # address 0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A
FAST_KDF = ScryptParams(n=2**4, r=8, p=1)  # tests only: the real cost is far higher


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
