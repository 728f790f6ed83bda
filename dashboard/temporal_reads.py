"""What the dashboard reads from Temporal: the pair listing, one pair's state, the task queue's
pollers and the server's version.

Invariants:
- Read-only: list, describe, query and system-info calls only; nothing here signals, updates,
  starts or terminates a workflow.
- Pairs are listed with ONE visibility query over their search attributes (paged by the SDK),
  never one call per pair; only the Pair and System pages query a workflow's `state`.
- Workflows are addressed by the names in `projectk.contract`; no workflow code is imported.
- Results are small frozen values that pickle, so Streamlit's data cache can hold them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.ledger.summaries import ledger_id_of
from adapters.temporal import search
from projectk.contract import (
    PAIR_WORKFLOW,
    QUERY_STATE,
    pair_workflow_id,
)
from projectk.models import PairState

QUERY_TIMEOUT = timedelta(seconds=5)
RUNNING_PAIRS = f'WorkflowType="{PAIR_WORKFLOW}" AND ExecutionStatus="Running"'


def pairs_query(task_queue: str) -> str:
    """Return the visibility query of the running pairs served by one task queue."""
    # Scoped to the deployment's task queue: other deployments may share the namespace.
    return f'{RUNNING_PAIRS} AND TaskQueue="{task_queue}"'


class QueryUnanswered(RuntimeError):
    """Temporal answered, but no worker answered the workflow's query in time."""


@dataclass(frozen=True)
class PairListing:
    """A running pair as its search attributes describe it."""

    pair_id: str
    workflow_id: str
    run_id: str | None
    source: str
    follower: str
    status: str  # the PairStatus value the workflow last published
    started_at: datetime | None


@dataclass(frozen=True)
class Poller:
    """A worker polling the task queue, as Temporal last saw it."""

    kind: str  # "workflow" or "activity"
    identity: str
    last_access: datetime | None

    @property
    def ledger_id(self) -> str | None:
        """Return the ledger id the worker advertises in its identity (None if none)."""
        return ledger_id_of(self.identity)


async def list_pairs(client: Client, task_queue: str) -> list[PairListing]:
    """Return every running pair of a task queue, by pair id, from one visibility query."""
    listings = []
    async for execution in client.list_workflows(pairs_query(task_queue)):
        attributes = execution.typed_search_attributes
        pair_id = attributes.get(search.PAIR_ID) or execution.id.removeprefix("pair/")
        listings.append(
            PairListing(
                pair_id=pair_id,
                workflow_id=execution.id,
                run_id=execution.run_id,
                source=attributes.get(search.SOURCE_WALLET) or "",
                follower=attributes.get(search.FOLLOWER_WALLET) or "",
                status=attributes.get(search.PAIR_STATUS) or "unknown",
                started_at=execution.start_time,
            )
        )
    return sorted(listings, key=lambda listing: listing.pair_id)


async def pair_state(client: Client, pair_id: str) -> PairState | None:
    """Return a pair's live state from its workflow's `state` query (None: no such workflow)."""
    handle = client.get_workflow_handle(pair_workflow_id(pair_id))
    try:
        state: PairState = await handle.query(
            QUERY_STATE, result_type=PairState, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        if exc.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise QueryUnanswered(
                f"pair {pair_id}'s workflow did not answer its state query within "
                f"{QUERY_TIMEOUT.seconds} s: is a worker polling its task queue?"
            ) from None
        raise
    return state


async def pair_states(client: Client, pair_ids: Sequence[str]) -> dict[str, PairState]:
    """Return the live states of several pairs, queried together; pairs that fail are left out."""
    found = await asyncio.gather(*(pair_state(client, p) for p in pair_ids), return_exceptions=True)
    return {p: s for p, s in zip(pair_ids, found, strict=True) if isinstance(s, PairState)}


async def pollers(client: Client, task_queue: str) -> list[Poller]:
    """Return the workers polling the task queue for workflow and activity tasks."""
    found = []
    for kind, queue_type in (
        ("workflow", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        ("activity", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ):
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                task_queue_type=queue_type,
            )
        )
        for poller in response.pollers:
            seen = (
                poller.last_access_time.ToDatetime()
                if poller.HasField("last_access_time")
                else None
            )
            found.append(Poller(kind=kind, identity=poller.identity, last_access=_utc(seen)))
    return found


async def server_version(client: Client) -> str:
    """Return the Temporal server's version."""
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    return info.server_version or "unknown"


def _utc(value: datetime | None) -> datetime | None:
    # protobuf's ToDatetime gives a naive UTC datetime.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
