"""`projectk` starts light: the root loads none of the heavy libraries its commands use and lists
every command with the command's own summary; `wallet list` needs no chain library; a library
that a command loads as it runs adds nothing to the command's output.

Each check runs in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from click.testing import CliRunner

from adapters.ledger import open_ledger
from adapters.vault import Vault
from cli import COMMANDS
from cli.lazy import LazyGroup
from tests.settings_env import FAST_KDF, KEY_A, PASSPHRASE, make_settings

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


@dataclass(frozen=True)
class Fresh:
    """What a new interpreter printed, and every module it had loaded by the end."""

    output: str
    errors: str
    modules: set[str]


def _fresh_run(code: str, cwd: Path, env: dict[str, str] | None = None) -> Fresh:
    """Run `code` in a new interpreter with no PROJECTK_* variable but those in `env`."""
    listing = cwd / "modules.json"
    report = f"import json, sys; open({str(listing)!r}, 'w').write(json.dumps(sorted(sys.modules)))"
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
    return Fresh(done.stdout, done.stderr, set(json.loads(listing.read_text())))


def _heavy(modules: set[str]) -> set[str]:
    return {name for name in modules if name.partition(".")[0] in HEAVY}


def test_importing_the_cli_loads_no_heavy_library(tmp_path: Path) -> None:
    modules = _fresh_run("import cli", tmp_path).modules
    assert "cli" in modules
    assert _heavy(modules) == set()


def test_root_help_imports_no_command_module(tmp_path: Path) -> None:
    code = "from cli import main\nmain(['--help'], standalone_mode=False)"
    run = _fresh_run(code, tmp_path)
    assert all(f"  {entry.name} " in run.output for entry in COMMANDS)
    assert _heavy(run.modules) == set()
    assert {name for name in run.modules if name.startswith(("cli.", "sandbox"))} == {"cli.lazy"}


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
    run = _fresh_run(code, tmp_path, {"PROJECTK_DATA_DIR": str(data_dir)})
    assert run.output.startswith(f"vault://hot\t{KEY_A_ADDRESS}\tprivate_key\t")
    assert _heavy(run.modules) == set()


def test_a_library_loaded_as_the_command_runs_adds_nothing_to_its_output(tmp_path: Path) -> None:
    data_dir, archive = tmp_path / "data", tmp_path / "backup.tar"
    open_ledger(make_settings(data_dir)).engine.dispose()
    code = f"from cli import main\nmain(['backup', '-o', {str(archive)!r}], standalone_mode=False)"
    run = _fresh_run(code, tmp_path, {"PROJECTK_DATA_DIR": str(data_dir)})
    assert "alembic" in {name.partition(".")[0] for name in run.modules}
    assert run.output.startswith(f"backup written to {archive}: ")
    assert run.errors == ""
