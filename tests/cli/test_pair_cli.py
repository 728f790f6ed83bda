"""`projectk pair …` and `projectk stop --all` against a real dev server and worker process.

Bad input: a clear message, a non-zero exit, no registry row and no workflow started.
The secret key never appears in output, in the ledger file or in any workflow history.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import open_ledger
from adapters.temporal import connect_address
from adapters.vault import ScryptParams, Vault
from cli import main
from projectk.models import PairStatus
from projectk.settings import load_settings
from tests.temporal_env import env_address

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

PASS = "pair-cli-passphrase"
KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
FOLLOWER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SOURCE = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
OTHER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


class Operator:
    """Runs `projectk` commands with one data directory, task queue and dev server."""

    def __init__(self, data_dir: Path, address: str, task_queue: str) -> None:
        self.env = {
            "PROJECTK_DATA_DIR": str(data_dir),
            "PROJECTK_TEMPORAL_ADDRESS": address,
            "PROJECTK_TEMPORAL_TASK_QUEUE": task_queue,
            "PROJECTK_VAULT_PASSPHRASE": PASS,
            "PROJECTK_EXECUTOR_MODE": "paper",
            "PROJECTK_BUDGET_CEILING_PUSD": "1000",
        }
        self.data_dir = data_dir
        self.address = address
        self.outputs: list[str] = []

    def run(self, *args: str) -> Result:
        result = CliRunner().invoke(main, list(args), env=self.env)
        self.outputs += [result.stdout, result.stderr]
        return result

    def add(self, name: str, *flags: str, **overrides: str) -> Result:
        opts = {"source": SOURCE, "follower": FOLLOWER, "key-ref": "vault://hot", "budget": "100"}
        opts.update(overrides)
        args = ["pair", "add", name, *flags]
        for key, value in opts.items():
            args += [f"--{key}", value]
        return self.run(*args)

    def workflow_ids(self) -> list[str]:
        async def ids() -> list[str]:
            client = await connect_address(self.address, "default")
            query = f'TaskQueue="{self.env["PROJECTK_TEMPORAL_TASK_QUEUE"]}"'
            return [w.id async for w in client.list_workflows(query)]

        return asyncio.run(ids())


@pytest.fixture
def operator(dev_env: WorkflowEnvironment, task_queue: str, tmp_path: Path) -> Iterator[Operator]:
    """Yield an operator with a vault key `hot` and a worker process on its task queue."""
    op = Operator(tmp_path / "data", env_address(dev_env), task_queue)
    vault = Vault(load_settings(data_dir=op.data_dir).resolved_vault_path, kdf=ScryptParams(n=16))
    vault.add("hot", KEY, PASS)
    vault.add("other", OTHER_KEY, PASS)
    log_path = tmp_path / "worker.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"],
            env={**os.environ, **op.env},
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 60
    while "worker polling task queue" not in log_path.read_text():  # ready to answer queries
        assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
        time.sleep(0.1)
    yield op
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"source": "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bC"}, "checksum"),
        ({"source": "not-an-address"}, "not an Ethereum address"),
        ({"follower": SOURCE}, "different wallets"),
        ({"budget": "-5"}, "budget must be a number"),
        ({"budget": "0"}, "greater than 0"),
        ({"budget": "5000"}, "ceiling"),
        ({"key-ref": "vault://missing"}, "not in the vault"),
        ({"key-ref": "vault://other"}, "neither the follower"),
        ({"key-ref": "hot"}, "vault://NAME"),
        ({"slippage-bps": "9000"}, "slippage_bps"),
        ({"exit-slippage-bps": "9000"}, "exit_slippage_bps"),
        ({"max-buy-age": "later"}, "max buy age (seconds) must be a whole number"),
        ({"max-sell-age": "0"}, "max sell age must be at least 1 second"),
        ({"max-book-distance": "1.5"}, "max book distance must be a price between 0 and 1"),
        ({"max-market-exposure": "lots"}, "max market exposure must be a number"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    operator: Operator, overrides: dict[str, str], message: str
) -> None:
    result = operator.add("bad", **overrides)
    assert result.exit_code != 0
    assert message in result.output + result.stderr
    assert open_ledger(load_settings(data_dir=operator.data_dir)).list_pairs() == []
    assert operator.workflow_ids() == []


def test_operator_registers_steers_and_stops_a_pair(operator: Operator) -> None:
    assert operator.add("alpha").exit_code == 0
    assert operator.workflow_ids() == ["pair/alpha"]
    ledger = open_ledger(load_settings(data_dir=operator.data_dir))
    record = ledger.get_pair("alpha")
    assert record is not None and record.status is PairStatus.ACTIVE

    again = operator.add("alpha")
    assert again.exit_code != 0 and "already exists" in again.stderr

    listed = operator.run("pair", "list")
    assert "alpha" in listed.output and "100.00 pUSD" in listed.output
    assert operator.run("pair", "pause", "alpha").exit_code == 0
    shown = operator.run("pair", "show", "alpha")
    assert shown.exit_code == 0 and '"status": "paused"' in shown.output
    assert operator.run("pair", "resume", "alpha").exit_code == 0
    assert operator.run("pair", "budget", "alpha", "250").exit_code == 0
    assert '"budget_micro": 250000000' in operator.run("pair", "show", "alpha").output
    guards = ["pair", "guards", "alpha", "--max-sell-age", "600", "--max-book-distance", "0.05"]
    assert operator.run(*guards).exit_code == 0
    after = operator.run("pair", "show", "alpha").output
    assert '"max_sell_age_s": 600' in after and '"max_book_distance": "0.05"' in after
    assert '"budget_micro": 250000000' in after  # the rest of the configuration is kept
    bad = operator.run("pair", "guards", "alpha", "--max-book-distance", "2")
    assert bad.exit_code != 0 and "max book distance must be a price" in bad.stderr
    assert '"max_sell_age_s": 600' in operator.run("pair", "show", "alpha").output

    stopped = operator.run("stop", "--all")
    # Every running pair of the namespace is stopped (other tests' pairs share this dev server).
    assert stopped.exit_code == 0 and "pair(s)" in stopped.output
    assert '"status": "stopped"' in operator.run("pair", "show", "alpha").output

    assert operator.run("pair", "remove", "alpha", "--yes").exit_code == 0
    removed = ledger.get_pair("alpha")
    assert removed is not None and removed.status is PairStatus.REMOVED
    assert operator.run("pair", "pause", "nope").exit_code != 0

    _assert_key_never_leaked(operator)


def test_a_guard_turned_off_on_a_running_pair_stays_off(operator: Operator) -> None:
    assert operator.add("offpair").exit_code == 0
    turned_off = operator.run("pair", "guards", "offpair", "--max-book-distance", "off")
    assert turned_off.exit_code == 0, turned_off.stderr
    assert '"max_book_distance": null' in operator.run("pair", "show", "offpair").output


def test_a_wallet_is_shared_only_by_pairs_all_marked_shared(operator: Operator) -> None:
    assert operator.add("solo").exit_code == 0
    refused = operator.add("second", "--shared-funder")
    assert refused.exit_code != 0
    assert "solo" in refused.stderr and FOLLOWER in refused.stderr
    assert "--shared-funder" in refused.stderr
    assert operator.workflow_ids() == ["pair/solo"]

    assert operator.run("pair", "remove", "solo", "--yes").exit_code == 0  # its wallet is free
    assert operator.add("one", "--shared-funder").exit_code == 0
    unmarked = operator.add("two")
    assert unmarked.exit_code != 0 and "register this pair with --shared-funder" in unmarked.stderr
    assert operator.add("two", "--shared-funder").exit_code == 0
    ledger = open_ledger(load_settings(data_dir=operator.data_dir))
    assert [record.pair_id for record in ledger.list_pairs()] == ["one", "two"]


def _assert_key_never_leaked(operator: Operator) -> None:
    secret = KEY[2:].lower()
    assert all(secret not in text.lower() for text in operator.outputs)
    ledger_file = operator.data_dir / "ledger.db"
    assert secret.encode() not in ledger_file.read_bytes().lower()

    workflow_ids = operator.workflow_ids()

    async def histories() -> str:
        client = await connect_address(operator.address, "default")
        parts = []
        for workflow_id in workflow_ids:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            parts.append(history.to_json())
        return "".join(parts).lower()

    assert secret not in asyncio.run(histories())
