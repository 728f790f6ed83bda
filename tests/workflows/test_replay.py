"""Recorded histories replay against the current workflow code (no non-determinism)."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests import RESOURCES
from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow

HISTORIES = RESOURCES / "histories"


RECORDED = sorted(path.stem for path in HISTORIES.glob("*.json"))


def test_both_workflows_have_a_recording() -> None:
    assert any(name.startswith("pair_workflow") for name in RECORDED)
    assert any(name.startswith("mirror_order_workflow") for name in RECORDED)


@pytest.mark.parametrize("name", RECORDED)
async def test_recorded_history_replays(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(f"replay-{name}", path.read_text())
    assert len(history.events) > 10  # a real recording, not an empty file
    replayer = Replayer(
        workflows=[PairWorkflow, MirrorOrderWorkflow], data_converter=pydantic_data_converter
    )
    await replayer.replay_workflow(history)
