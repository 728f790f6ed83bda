"""Who polls a task queue: Temporal's `DescribeTaskQueue`, read in one place for every front-end.

Invariants:
- Read-only: one describe call per task kind (workflow, activity), each bounded by a timeout;
  nothing here starts, signals or changes anything.
- Every poller comes back as a typed, frozen `Poller` whose last access is in UTC (None when
  Temporal did not say), so the records pickle (the dashboard's cache holds them) and every
  reader judges them by the same freshness rule (`Poller.fresh`, `POLLER_FRESH`).
- A worker may advertise the ledger it writes in its identity; `Poller.ledger_id` reads it in
  the ledger's own format (`adapters.ledger.ledger_id_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum, unique

from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from adapters.ledger import ledger_id_of

POLLER_FRESH = timedelta(minutes=2)  # a live worker long-polls at least every minute
DESCRIBE_TIMEOUT = timedelta(seconds=5)


@unique
class TaskKind(StrEnum):
    """Which tasks of the queue a poller asks for."""

    WORKFLOW = "workflow"  # workflow tasks: pair, mirror and claim workflows
    ACTIVITY = "activity"  # activity tasks: venue, chain, ledger and notification I/O


_QUEUE_TYPES = {
    TaskKind.WORKFLOW: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    TaskKind.ACTIVITY: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


@dataclass(frozen=True)
class Poller:
    """A worker polling the task queue, as Temporal last saw it."""

    kind: TaskKind
    identity: str  # the worker's identity, e.g. "pid@host ledger=<id>"
    last_access: datetime | None  # UTC; None when Temporal did not report it

    @property
    def ledger_id(self) -> str | None:
        """Return the ledger id the worker advertises in its identity (None if none)."""
        return ledger_id_of(self.identity)

    def fresh(self, now: datetime) -> bool:
        """Tell whether Temporal saw this poller within `POLLER_FRESH` before `now`."""
        return self.last_access is not None and now - self.last_access <= POLLER_FRESH


async def task_queue_pollers(client: Client, task_queue: str) -> list[Poller]:
    """Return the workers polling `task_queue` for workflow and then activity tasks."""
    found = []
    for kind, queue_type in _QUEUE_TYPES.items():
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                task_queue_type=queue_type,
            ),
            timeout=DESCRIBE_TIMEOUT,
        )
        found += [_poller(kind, info) for info in response.pollers]
    return found


def fresh_counts(pollers: Iterable[Poller], now: datetime) -> dict[TaskKind, int]:
    """Return how many fresh pollers each task kind has (0 for a kind nobody polls)."""
    counts = dict.fromkeys(TaskKind, 0)
    for poller in pollers:
        if poller.fresh(now):
            counts[poller.kind] += 1
    return counts


def _poller(kind: TaskKind, info: PollerInfo) -> Poller:
    seen = None
    if info.HasField("last_access_time"):
        # protobuf's ToDatetime gives a naive datetime in UTC.
        seen = info.last_access_time.ToDatetime().replace(tzinfo=UTC)
    return Poller(kind=kind, identity=info.identity, last_access=seen)
