"""A pair removed a moment ago can be added again under the same name: `add` waits for the old
workflow to end (it ends when a worker handles the removal) instead of failing on Temporal's
"already started"; with no worker to end it, the refusal is clear and changes nothing. A removal
that Temporal cannot confirm is refused too."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from adapters.vault import ScryptParams, Vault
from control.pairs import PairError, PairRules, PairService
from projectk.contract import pair_workflow_id
from projectk.models import PairStatus
from sandbox.accounts import account
from tests.fakes import GatedVenue, MemoryFeed
from tests.workflows.harness import pair_config, worker

HOT = account(1)  # a public anvil test account: the follower, its key in the vault
KEY, FOLLOWER = HOT.private_key, HOT.address


def _service(env: WorkflowEnvironment, ledger: Ledger, tmp_path: Path, queue: str) -> PairService:
    vault = Vault(tmp_path / "vault.json", kdf=ScryptParams(n=16))
    vault.add("hot", KEY, "pw")
    rules = PairRules(budget_ceiling_micro=10**12, task_queue=queue, poll_timeout_s=5)
    return PairService(env.client, ledger, vault, rules)


@pytest.mark.devserver
async def test_a_just_removed_pair_is_added_again_once_its_workflow_ended(
    dev_env: WorkflowEnvironment, ledger: Ledger, tmp_path: Path, task_queue: str
) -> None:
    service = _service(dev_env, ledger, tmp_path, task_queue)
    config = pair_config(task_queue, follower=FOLLOWER, key_ref="vault://hot")
    handle = dev_env.client.get_workflow_handle(pair_workflow_id(config.pair_id))
    async with worker(dev_env.client, task_queue, ledger, MemoryFeed(), GatedVenue()):
        await service.add(config)
        first = (await handle.describe()).run_id
        await service.remove(config.pair_id)
        await service.add(config)  # at once: the removed run is still ending
        latest = await handle.describe()
        await service.state(config.pair_id)  # the new run answers
    removed = dev_env.client.get_workflow_handle(handle.id, run_id=first)
    assert (await removed.describe()).status == WorkflowExecutionStatus.COMPLETED
    assert latest.run_id != first and latest.status == WorkflowExecutionStatus.RUNNING
    record = ledger.get_pair(config.pair_id)
    assert record is not None and record.status is PairStatus.ACTIVE
    await handle.terminate("test over")


@pytest.mark.devserver
async def test_with_no_worker_to_end_the_removed_run_the_add_is_refused_clearly(
    dev_env: WorkflowEnvironment, ledger: Ledger, tmp_path: Path, task_queue: str
) -> None:
    service = _service(dev_env, ledger, tmp_path, task_queue)
    config = pair_config(task_queue, follower=FOLLOWER, key_ref="vault://hot")
    await service.add(config)  # no worker on this queue: the workflow runs, nothing handles it
    await service.remove(config.pair_id)
    with pytest.raises(PairError, match="removed but its workflow has not ended yet"):
        await service.add(config, removal_wait_s=0.5)
    record = ledger.get_pair(config.pair_id)
    assert record is not None and record.status is PairStatus.REMOVED  # nothing changed
    handle = dev_env.client.get_workflow_handle(pair_workflow_id(config.pair_id))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate("test over")


class _UnreachableHandle:
    id = "pair/unreachable"

    async def describe(self) -> None:
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")


class _UnreachableClient:
    def get_workflow_handle(self, workflow_id: str) -> _UnreachableHandle:
        return _UnreachableHandle()


async def test_a_removal_temporal_cannot_confirm_is_refused_and_changes_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    # Not knowing whether the workflow runs is not "it does not run": marking the ledger removed
    # while the workflow went on trading would be the worst outcome.
    config = pair_config("p1", follower=FOLLOWER, key_ref="vault://hot")
    ledger.upsert_pair(config, PairStatus.ACTIVE)
    vault = Vault(tmp_path / "vault.json", kdf=ScryptParams(n=16))
    rules = PairRules(budget_ceiling_micro=10**12, task_queue="q", poll_timeout_s=5)
    service = PairService(cast(Client, _UnreachableClient()), ledger, vault, rules)
    with pytest.raises(PairError, match=r"could not read workflow .*connection refused"):
        await service.remove("p1")
    record = ledger.get_pair("p1")
    assert record is not None and record.status is PairStatus.ACTIVE
