"""What a run cost Temporal, read from the server itself: billable actions and history timings.

- Actions: the Temporal server counts every billable action it serves in its `action` metric
  (labelled by namespace and action type: `grpc_StartWorkflowExecution`,
  `grpc_RecordActivityTaskHeartbeat`, `command_ScheduleActivityTask`, `command_StartTimer`, ...).
  The dev server exposes it on `--metrics-port`; a benchmark gives each measured pair count its own
  namespace and differences two readings.
- Timings: the stages of one mirrored fill come from event times the server wrote into the pair's
  and the mirror's histories.

Invariant: pure parsing apart from `read_actions`, which only reads the metrics endpoint.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def metric_namespace(namespace: str) -> str:
    """Return a namespace as the server writes it in metric labels (`bench-1` -> `bench_1`)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", namespace)


def parse_actions(text: str, namespace: str) -> dict[str, float]:
    """Return the `action` counters of one namespace from a Prometheus text page, by type."""
    wanted = metric_namespace(namespace)
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("action{"):
            continue
        labels, _, value = line.rpartition(" ")
        fields = dict(_LABEL.findall(labels))
        if fields.get("namespace") != wanted:
            continue
        kind = fields.get("action_type", "unknown")
        counts[kind] = counts.get(kind, 0.0) + float(value)
    return counts


def actions_between(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """Return the actions counted between two readings, by type (types with none left out)."""
    delta = {kind: round(after[kind] - before.get(kind, 0.0)) for kind in after}
    return {kind: n for kind, n in sorted(delta.items()) if n > 0}


async def read_actions(metrics_url: str, namespace: str) -> dict[str, float]:
    """Read the server's action counters of one namespace."""

    def get() -> str:
        with urllib.request.urlopen(metrics_url, timeout=10) as answer:  # noqa: S310 - our dev server
            return str(answer.read().decode())

    return parse_actions(await asyncio.to_thread(get), namespace)


# -- history timings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FillStages:
    """Where one mirrored fill's latency went, in seconds since the epoch."""

    block_at: float  # the source's block was available (the benchmark's clock)
    detected_at: float  # the pair's long poll completed with the fill
    child_started_at: float  # the mirror workflow started
    quoted_at: float  # quote completed: book, tick and minimum read
    signed_at: float  # sign_order completed (the intent is in the ledger before it)
    posted_at: float  # post_order completed: the CLOB answered

    def stages_ms(self) -> dict[str, float]:
        """Return the stage durations in milliseconds."""
        marks = [
            ("detect", self.block_at, self.detected_at),
            ("start_mirror", self.detected_at, self.child_started_at),
            ("quote", self.child_started_at, self.quoted_at),
            ("intent_sign", self.quoted_at, self.signed_at),
            ("post", self.signed_at, self.posted_at),
            ("total", self.block_at, self.posted_at),
        ]
        return {stage: (end - start) * 1000 for stage, start, end in marks}


def event_time(event: Any) -> float:
    """Return an event's server time in seconds since the epoch."""
    return float(event.event_time.ToMicroseconds()) / 1e6


def activity_completions(events: Iterable[Any]) -> list[tuple[str, float, int]]:
    """Return (activity type, completion time, event id) of each completed activity, in order."""
    scheduled: dict[int, str] = {}
    done: list[tuple[str, float, int]] = []
    for event in events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = (
                event.activity_task_scheduled_event_attributes.activity_type.name
            )
        elif event.HasField("activity_task_completed_event_attributes"):
            attrs = event.activity_task_completed_event_attributes
            name = scheduled.get(attrs.scheduled_event_id, "")
            done.append((name, event_time(event), event.event_id))
    return done


def child_initiated_id(events: Iterable[Any], child_id: str) -> int | None:
    """Return the event id at which a pair's history asked for a child, or None."""
    for event in events:
        if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            attrs = event.start_child_workflow_execution_initiated_event_attributes
            if attrs.workflow_id == child_id:
                return int(event.event_id)
    return None


def fill_stages(
    pair_events: list[Any], child_id: str, child_events: list[Any], block_at: float
) -> FillStages | None:
    """Return the stages of one mirrored fill, or None when a history lacks a step."""
    initiated = child_initiated_id(pair_events, child_id)
    if initiated is None or not child_events:
        return None
    polls = [
        at
        for name, at, event_id in activity_completions(pair_events)
        if name == "wait_for_fills" and event_id < initiated
    ]
    first: dict[str, float] = {}
    for name, at, _ in activity_completions(child_events):
        first.setdefault(name, at)
    if not polls or any(step not in first for step in ("quote", "sign_order", "post_order")):
        return None
    return FillStages(
        block_at=block_at,
        detected_at=polls[-1],
        child_started_at=event_time(child_events[0]),
        quoted_at=first["quote"],
        signed_at=first["sign_order"],
        posted_at=first["post_order"],
    )
