"""A real worker process killed (SIGKILL) and restarted while fills stream in loses and repeats
nothing: every fill gets exactly one mirror child, one ledger row, and the books add up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecution, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger, OrderStatus, create_ledger_engine, upgrade
from tests.fakes import make_fill
from tests.temporal_env import env_address
from tests.workflows.harness import pair_config, start_pair, wait_state

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

FILLS = 12


def _spawn_worker(tmp_path: Path, address: str, task_queue: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROJECTK_DATA_DIR": str(tmp_path),
        "PROJECTK_DB_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "PROJECTK_EXECUTOR_MODE": "paper",
        "PROJECTK_TEMPORAL_ADDRESS": address,
        "PROJECTK_TEMPORAL_TASK_QUEUE": task_queue,
    }
    log = (tmp_path / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=env, stdout=log, stderr=log
    )


async def test_worker_killed_mid_flow_loses_and_repeats_nothing(
    dev_env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    ledger = Ledger(engine)
    address = env_address(dev_env)
    proc = _spawn_worker(tmp_path, address, task_queue)
    try:
        handle = await start_pair(
            dev_env.client, task_queue, pair_config(task_queue), poll_timeout_s=5
        )
        fills = [make_fill(n) for n in range(1, FILLS + 1)]
        for n, fill in enumerate(fills, start=1):
            ledger.record_fill(fill)
            await asyncio.sleep(0.3)
            if n % 4 == 0:  # kill mid-stream, then start a fresh worker process
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                proc = _spawn_worker(tmp_path, address, task_queue)
        state = await wait_state(
            handle, lambda s: s.fills_seen == FILLS and not s.in_flight, timeout_s=120
        )
        # A child closes one workflow task after its report reached the pair; if the last kill
        # landed in between, the fresh worker finishes it (after the task timeout), so look while
        # a worker still runs.
        children, done = await _mirror_children(dev_env, task_queue)
    finally:
        proc.send_signal(signal.SIGTERM)
        exit_code = proc.wait(timeout=30)
    assert exit_code == 0  # SIGTERM is a graceful shutdown, not a crash
    assert state.mirrors_started == FILLS
    orders = ledger.list_orders(pair_id=task_queue)
    assert sorted(o.decision_id for o in orders) == sorted(f.order_hash for f in fills)
    assert all(o.status is OrderStatus.FILLED for o in orders)
    assert state.spent_micro == sum(o.notional_micro for o in orders)
    assert len(children) == FILLS
    assert len(done) == FILLS


async def _mirror_children(
    env: WorkflowEnvironment, task_queue: str, timeout_s: float = 60
) -> tuple[list[WorkflowExecution], list[WorkflowExecution]]:
    """Return the mirror children and the completed ones, once all completed or at timeout."""
    query = f'WorkflowType="MirrorOrderWorkflow" AND TaskQueue="{task_queue}"'
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:  # visibility is eventually consistent
        children = [w async for w in env.client.list_workflows(query)]
        done = [c for c in children if c.status == WorkflowExecutionStatus.COMPLETED]
        if len(done) == FILLS or asyncio.get_running_loop().time() > deadline:
            return children, done
        await asyncio.sleep(0.2)
