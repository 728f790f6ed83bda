"""What the dashboard reads from Temporal: the pair listing, one pair's state and the server's
version (the task queue's pollers come from `adapters.temporal.task_queue_pollers`).

Invariants:
- Read-only: list, query and system-info calls only; nothing here signals, updates,
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
from datetime import datetime, timedelta

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.temporal import FOLLOWER_WALLET, PAIR_ID, PAIR_STATUS, SOURCE_WALLET
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


async def list_pairs(client: Client, task_queue: str) -> list[PairListing]:
    """Return every running pair of a task queue, by pair id, from one visibility query."""
    listings = []
    async for execution in client.list_workflows(pairs_query(task_queue)):
        attributes = execution.typed_search_attributes
        pair_id = attributes.get(PAIR_ID) or execution.id.removeprefix("pair/")
        listings.append(
            PairListing(
                pair_id=pair_id,
                workflow_id=execution.id,
                run_id=execution.run_id,
                source=attributes.get(SOURCE_WALLET) or "",
                follower=attributes.get(FOLLOWER_WALLET) or "",
                status=attributes.get(PAIR_STATUS) or "unknown",
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


async def server_version(client: Client) -> str:
    """Return the Temporal server's version."""
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    return info.server_version or "unknown"
