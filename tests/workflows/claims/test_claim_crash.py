"""A real worker process (`python -m cli worker`, sandbox mode) is killed with SIGKILL right
after it sent a redeem transaction; a fresh worker finishes the claim without a second
transaction. Anvil's automine is off while the transaction is in flight, so the kill lands
between "sent" and "mined" for certain."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from web3 import Web3

from adapters.ledger import ClaimStatus, Ledger, create_ledger_engine, upgrade
from sandbox.runtime import Sandbox
from tests.temporal_env import env_address
from tests.workflows.claims.conftest import PASSPHRASE, demo_account, hold_yes_and_no
from tests.workflows.claims.test_claims_sandbox import assert_redeemed_once, snapshot, start
from tests.workflows.harness import eventually

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]


def spawn_worker(
    tmp_path: Path, sb: Sandbox, address: str, task_queue: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROJECTK_DATA_DIR": str(tmp_path),
        "PROJECTK_DB_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "PROJECTK_EXECUTOR_MODE": "sandbox",
        "PROJECTK_SANDBOX_CLOB_URL": sb.info["clob_url"],
        "PROJECTK_RPC_URLS": sb.info["rpc_url"],
        "PROJECTK_VAULT_PATH": str(tmp_path / "vault.json"),
        "PROJECTK_VAULT_PASSPHRASE": PASSPHRASE,
        "PROJECTK_TEMPORAL_ADDRESS": address,
        "PROJECTK_TEMPORAL_TASK_QUEUE": task_queue,
    }
    log = (tmp_path / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=env, stdout=log, stderr=log
    )


@contextmanager
def automine_off(w3: Web3) -> Iterator[None]:
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        yield
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


def pending(w3: Web3, tx_hash: str) -> Any:
    try:
        return w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except Exception:  # "not found" has several exception types across nodes
        return None


async def test_worker_killed_after_sending_the_redeem_sends_no_second_one(
    claim_sandbox: Sandbox,
    sync_w3: Web3,
    dev_env: WorkflowEnvironment,
    task_queue: str,
    tmp_path: Path,
    vault_for: Any,
) -> None:
    account = demo_account(claim_sandbox, 2)
    held = hold_yes_and_no(claim_sandbox, sync_w3, account["address"])
    await asyncio.to_thread(claim_sandbox.resolve, held.condition_id, "Yes")
    vault_for(account["private_key"])
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    ledger = Ledger(engine)
    before = snapshot(sync_w3, held.follower)
    address = env_address(dev_env)
    proc = spawn_worker(tmp_path, claim_sandbox, address, task_queue)
    try:
        with automine_off(sync_w3):
            handle = await start(dev_env, task_queue, held)

            def sent() -> str | None:
                claim = ledger.get_claim(held.follower, held.condition_id)
                if claim is None or claim.status is not ClaimStatus.SENT or not claim.tx_hash:
                    return None
                return claim.tx_hash if pending(sync_w3, claim.tx_hash) else None

            tx_hash = await eventually(sent, timeout_s=60)
            proc.send_signal(signal.SIGKILL)  # dies while waiting for the receipt
            proc.wait()
            sync_w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        proc = spawn_worker(tmp_path, claim_sandbox, address, task_queue)
        result = await asyncio.wait_for(handle.result(), timeout=90)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        engine.dispose()
    assert result.tx_hash == tx_hash
    assert_redeemed_once(sync_w3, ledger, held, result, before)
