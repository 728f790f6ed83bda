"""`projectk` starts light: the root loads none of the heavy libraries its commands use, lists
every command with the command's own summary, and `wallet list` needs no chain library.

Each check runs in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from adapters.vault import Vault
from cli import COMMANDS
from cli.lazy import LazyGroup
from tests.settings_env import FAST_KDF, KEY_A, PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
HEAVY = frozenset(
    {
        "alembic",
        "sqlalchemy",
        "temporalio",
        "web3",
        "eth_account",
        "httpx",
        "streamlit",
        "telegram",
        "py_clob_client_v2",
    }
)
KEY_A_ADDRESS = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


def _fresh_run(code: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """Run `code` in a new interpreter; return what it printed and the modules it had loaded."""
    report = "import json, sys; print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTK_")}
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {name for name in modules if name.partition(".")[0] in HEAVY}


def test_importing_the_cli_loads_no_heavy_library(tmp_path: Path) -> None:
    _, modules = _fresh_run("import cli", tmp_path)
    assert "cli" in modules
    assert _heavy(modules) == set()


def test_root_help_imports_no_command_module(tmp_path: Path) -> None:
    code = "from cli import main\nmain(['--help'], standalone_mode=False)"
    shown, modules = _fresh_run(code, tmp_path)
    assert all(f"  {entry.name} " in shown for entry in COMMANDS)
    assert _heavy(modules) == set()
    assert {name for name in modules if name.startswith(("cli.", "sandbox"))} == {"cli.lazy"}


def test_root_help_lists_each_command_as_the_command_itself_would() -> None:
    lazy = LazyGroup("projectk", lazy=COMMANDS)
    eager = click.Group("projectk", commands={entry.name: entry.load() for entry in COMMANDS})
    for entry in COMMANDS:
        assert eager.commands[entry.name].name == entry.name
    listed = CliRunner().invoke(lazy, ["--help"], terminal_width=200)
    expected = CliRunner().invoke(eager, ["--help"], terminal_width=200)
    assert listed.exit_code == 0
    assert listed.output == expected.output
    assert lazy.commands == {}


def test_wallet_list_needs_no_chain_database_or_temporal_library(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    Vault(data_dir / "vault.json", kdf=FAST_KDF).add("hot", KEY_A, PASSPHRASE)
    code = "from cli import main\nmain(['wallet', 'list'], standalone_mode=False)"
    env = {"PROJECTK_DATA_DIR": str(data_dir), "PROJECTK_VAULT_PASSPHRASE": PASSPHRASE}
    shown, modules = _fresh_run(code, tmp_path, env)
    assert shown.startswith(f"vault://hot\t{KEY_A_ADDRESS}\tprivate_key\t")
    assert _heavy(modules) == set()
