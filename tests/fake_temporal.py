"""A Temporal client as the emergency stop sees it: running PairWorkflows to list and signal.

A signal to a workflow named in `refused` fails with the error given for it, as the server fails a
signal to a workflow that ended after it was listed, or one it cannot reach in time. Every signal
asked for is recorded, whether it was delivered or not. The listing can be made to break off, as a
paged listing does when the connection drops between pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.service import RPCError, RPCStatusCode

from projectk.contract import pair_workflow_id


def ended_error() -> RPCError:
    """Return what the server answers a signal to a workflow that has already ended."""
    return RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")


@dataclass(frozen=True)
class ListedExecution:
    """One row of a workflow listing (the client's `WorkflowExecution` as far as it is read)."""

    id: str


@dataclass
class Signalled:
    """A signal asked for: to which workflow, which signal, its argument, and if it arrived."""

    workflow_id: str
    name: str
    arg: Any
    delivered: bool


@dataclass
class FakeHandle:
    """A workflow handle whose signal is delivered or fails as its client says."""

    client: FakePairsTemporal
    id: str

    async def signal(
        self, signal: str, arg: Any = None, *, rpc_timeout: timedelta | None = None
    ) -> None:
        """Deliver the signal, or raise the error this workflow is set to fail with."""
        error = self.client.refused.get(self.id)
        self.client.signals.append(Signalled(self.id, signal, arg, delivered=error is None))
        if error is not None:
            raise error


@dataclass
class FakePairsTemporal:
    """Running PairWorkflows, named by pair, some of which refuse signals."""

    running: list[str]  # pair ids
    refused: dict[str, Exception] = field(default_factory=dict)  # workflow id -> error
    signals: list[Signalled] = field(default_factory=list)
    listing_breaks_after: int | None = None  # the listing fails after this many rows

    @classmethod
    def of(cls, running: list[str], refused: dict[str, Exception]) -> FakePairsTemporal:
        """Return a client whose pairs in `refused` (by pair id) fail their signals."""
        by_id = {pair_workflow_id(name): error for name, error in refused.items()}
        return cls(running=running, refused=by_id)

    async def list_workflows(self, query: str) -> AsyncIterator[ListedExecution]:
        """List the running pairs' workflows, whatever the query (it asks for exactly those)."""
        del query
        for listed, name in enumerate(self.running):
            if listed == self.listing_breaks_after:
                raise RPCError("connection reset", RPCStatusCode.UNAVAILABLE, b"")
            yield ListedExecution(pair_workflow_id(name))

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        """Return a handle to one workflow."""
        return FakeHandle(self, workflow_id)

    def delivered(self) -> list[str]:
        """Return the workflow ids a signal reached."""
        return [s.workflow_id for s in self.signals if s.delivered]

    def attempted(self) -> list[str]:
        """Return the workflow ids a signal was sent to."""
        return [s.workflow_id for s in self.signals]
