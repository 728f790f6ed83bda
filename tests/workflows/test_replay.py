"""Recorded histories replay against the current workflow code (no non-determinism)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "resources" / "histories"


@pytest.mark.parametrize(
    "name",
    [
        "pair_workflow",
        "mirror_order_workflow",
        "pair_workflow_v2",
        "mirror_order_workflow_v2",
        "pair_workflow_v3",  # with the exchange-minimum patches
        "mirror_order_workflow_v3",
    ],
)
async def test_recorded_history_replays(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(f"replay-{name}", path.read_text())
    assert len(history.events) > 10  # a real recording, not an empty file
    replayer = Replayer(
        workflows=[PairWorkflow, MirrorOrderWorkflow], data_converter=pydantic_data_converter
    )
    await replayer.replay_workflow(history)
