"""Reading Temporal's cost from the server: the `action` counters and history event times."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from cli.tools.bench.temporal_cost import (
    actions_between,
    fill_stages,
    metric_namespace,
    parse_actions,
)


def _action(kind: str, namespace: str, value: int) -> str:
    labels = f'action_type="{kind}",namespace="{namespace}",operation="X",service_name="frontend"'
    return f"action{{{labels}}} {value}"


PAGE = "\n".join(
    [
        "# HELP action action counter",
        "# TYPE action counter",
        _action("command_ScheduleActivityTask", "bench_0_1000", 1000),
        _action("grpc_RecordActivityTaskHeartbeat", "bench_0_1000", 7000),
        _action("grpc_RecordActivityTaskHeartbeat", "bench_1_1", 5),
        'action_latency{namespace="bench_0_1000"} 99',
        'service_requests{namespace="bench_0_1000",operation="StartWorkflowExecution"} 12',
    ]
)


def test_actions_are_read_for_one_namespace_by_type() -> None:
    assert metric_namespace("bench-0-1000") == "bench_0_1000"
    assert parse_actions(PAGE, "bench-0-1000") == {
        "command_ScheduleActivityTask": 1000.0,
        "grpc_RecordActivityTaskHeartbeat": 7000.0,
    }
    assert parse_actions(PAGE, "bench-1-1") == {"grpc_RecordActivityTaskHeartbeat": 5.0}
    assert parse_actions(PAGE, "other") == {}


def test_actions_between_two_readings_keep_only_what_happened() -> None:
    before = {"a": 10.0, "b": 3.0}
    after = {"a": 10.0, "b": 7.0, "c": 2.0}
    assert actions_between(before, after) == {"b": 4, "c": 2}


def _event(event_id: int, at: float, **attrs: object) -> HistoryEvent:
    stamp = Timestamp()
    stamp.FromMicroseconds(round(at * 1e6))
    return HistoryEvent(event_id=event_id, event_time=stamp, **attrs)  # type: ignore[arg-type]


def _scheduled(event_id: int, at: float, name: str) -> HistoryEvent:
    return _event(
        event_id,
        at,
        event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        activity_task_scheduled_event_attributes={"activity_type": {"name": name}},
    )


def _completed(event_id: int, at: float, scheduled: int) -> HistoryEvent:
    return _event(
        event_id,
        at,
        event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        activity_task_completed_event_attributes={"scheduled_event_id": scheduled},
    )


def test_a_fills_stages_come_from_the_pair_and_mirror_histories() -> None:
    pair = [
        _scheduled(5, 100.0, "wait_for_fills"),
        _completed(7, 100.10, 5),  # an earlier poll
        _scheduled(9, 100.2, "wait_for_fills"),
        _completed(11, 100.25, 9),  # the poll that returned the fill
        _event(
            13,
            100.27,
            event_type=EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
            start_child_workflow_execution_initiated_event_attributes={"workflow_id": "m/1"},
        ),
        _scheduled(14, 100.28, "wait_for_fills"),
        _completed(16, 101.0, 14),  # a later poll: not this fill's
    ]
    child = [
        _event(1, 100.30, event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        _scheduled(5, 100.31, "quote"),
        _completed(7, 100.35, 5),
        _scheduled(9, 100.36, "sign_order"),
        _completed(11, 100.38, 9),
        _scheduled(13, 100.39, "post_order"),
        _completed(15, 100.45, 13),
    ]
    stages = fill_stages(pair, "m/1", child, block_at=100.2)
    assert stages is not None
    ms = stages.stages_ms()
    assert round(ms["detect"]) == 50 and round(ms["start_mirror"]) == 50
    assert round(ms["quote"]) == 50 and round(ms["intent_sign"]) == 30
    assert round(ms["post"]) == 70 and round(ms["total"]) == 250
    assert fill_stages(pair, "m/other", child, block_at=100.2) is None
    assert fill_stages(pair, "m/1", child[:5], block_at=100.2) is None  # never posted
