"""Payload encryption on a real dev server: the history holds only ciphertext, the worker runs
pairs with the codec on, and the operator's plain `temporal workflow signal` still stops them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from adapters.temporal import connect, connect_address
from adapters.temporal.codec import ENCRYPTED_ENCODING, EncryptionCodec, new_key
from projectk.contract import mirror_workflow_id
from projectk.models import PairState, PairStatus
from tests.fakes import GatedVenue, MemoryFeed, make_fill
from tests.settings_env import make_settings
from tests.temporal_env import env_address, temporal_cli_args
from tests.workflows.harness import pair_config, start_pair, wait_state, worker
from workflows.pair import PairWorkflow

pytestmark = [pytest.mark.devserver]


async def _history_bytes(client: Client, workflow_id: str) -> tuple[bytes, list[bytes]]:
    # The raw history as the server stores it, and the encoding of every payload in it.
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    encodings = []
    for event in history.events:
        attributes = event.workflow_execution_started_event_attributes
        encodings += [p.metadata["encoding"] for p in attributes.input.payloads]
        completed = event.activity_task_completed_event_attributes
        encodings += [p.metadata["encoding"] for p in completed.result.payloads]
    return raw, encodings


async def _encrypted_pair(
    client: Client, task_queue: str, marker: str
) -> WorkflowHandle[PairWorkflow, PairState]:
    config = pair_config(task_queue, key_ref=f"vault://{marker}")
    return await start_pair(client, task_queue, config)


async def test_history_is_ciphertext_and_the_worker_runs_with_the_codec(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger, tmp_path: Path
) -> None:
    # The application's way: `connect(settings)` with PROJECTK_PAYLOAD_KEY set.
    settings = make_settings(
        tmp_path, temporal_address=env_address(dev_env), payload_key=new_key(), payload_key_id="t"
    )
    secure = await connect(settings)
    assert isinstance(secure.data_converter.payload_codec, EncryptionCodec)
    marker = f"marker{uuid.uuid4().hex[:12]}"  # appears only inside workflow payloads
    feed, venue = MemoryFeed(), GatedVenue()
    fill = make_fill(1)
    feed.push(fill)
    async with worker(secure, task_queue, ledger, feed, venue):
        handle = await _encrypted_pair(secure, task_queue, marker)
        state = await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
        assert state.config.key_ref == f"vault://{marker}"
        assert len(venue.executed) == 1
        assert ledger.get_order(task_queue, fill.order_hash) is not None  # its first decision

        for workflow_id in (handle.id, mirror_workflow_id(task_queue, fill.order_hash)):
            raw, encodings = await _history_bytes(dev_env.client, workflow_id)
            assert marker.encode() not in raw
            assert encodings and set(encodings) == {ENCRYPTED_ENCODING}

        with pytest.raises(Exception, match=r"encrypted|encoding"):  # no key: cannot read
            await dev_env.client.get_workflow_handle(handle.id).query(PairWorkflow.state)
        await handle.signal(PairWorkflow.remove)
        await handle.result()


async def test_plain_cli_batch_signal_stops_encrypted_pairs(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    codec = EncryptionCodec("test", {"test": os.urandom(32)})
    secure = await connect_address(
        env_address(dev_env), dev_env.client.namespace, payload_codec=codec
    )
    async with worker(secure, task_queue, ledger, MemoryFeed(), GatedVenue()):
        handle = await _encrypted_pair(secure, task_queue, "ops")
        await wait_state(handle, lambda s: s.status is PairStatus.ACTIVE)
        query = f'WorkflowType="PairWorkflow" AND TaskQueue="{task_queue}"'
        for _ in range(100):
            if [w async for w in dev_env.client.list_workflows(query)]:
                break
            await asyncio.sleep(0.1)
        command = temporal_cli_args(
            dev_env, "workflow", "signal", "--query", query, "--name", "emergency_stop"
        )
        command += ["--input", json.dumps({"reason": "stop, encrypted"}), "--yes"]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        state = await wait_state(handle, lambda s: s.status is PairStatus.STOPPED, timeout_s=30)
        assert state.status_reason == "stop, encrypted"
