"""Run PairWorkflow and MirrorOrderWorkflow on a test environment with injected fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.chain import BalanceReader
from activities.claims import ClaimChainPort
from activities.fills import FillFeed
from adapters.ledger import Ledger
from adapters.polymarket import MarketDirectory, Venue
from adapters.temporal import pair_search_attributes
from projectk.contract import pair_workflow_id
from projectk.messages import PairWorkflowInput
from projectk.models import FillCursor, Guards, PairConfig, PairState, PairStatus, Sizing
from tests.fakes import FOLLOWER, SOURCE, FakeChain, GatedVenue, MemoryFeed
from tests.workflows.claims.fakes import FakeClaimChain
from workers.registry import WORKFLOWS, Clients, activities_of
from workflows.pair import PairWorkflow


def pair_config(pair_id: str = "p1", **changes: Any) -> PairConfig:
    """Return a valid pair configuration with test defaults."""
    base: dict[str, Any] = {
        "pair_id": pair_id,
        "source": SOURCE,
        "follower": FOLLOWER,
        "key_ref": "vault://follower",
        "budget_micro": 100_000_000,
        "sizing": Sizing(fixed_micro=5_000_000),
        "guards": Guards(max_fill_age_s=10**9),
    }
    base.update(changes)
    return PairConfig(**base)


def fake_clients(
    ledger: Ledger,
    feed: FillFeed | None = None,
    venue: Venue | None = None,
    chain: BalanceReader | None = None,
    claims: ClaimChainPort | None = None,
    markets: MarketDirectory | None = None,
) -> Clients:
    """Return the worker's clients: the given ones, and fakes for the rest (but the ledger)."""
    fake = FakeClaimChain()
    return Clients(
        ledger=ledger,
        feed=feed or MemoryFeed(),
        venue=venue or GatedVenue(),
        chain=chain or FakeChain(),
        claims=claims or fake,
        markets=markets or (claims if isinstance(claims, FakeClaimChain) else fake),
    )


@asynccontextmanager
async def worker(
    client: Client, task_queue: str, ledger: Ledger, feed: FillFeed, venue: Venue
) -> AsyncIterator[Worker]:
    """Run a worker with every workflow and activity (the registry's), over fakes."""
    async with registry_worker(client, task_queue, fake_clients(ledger, feed, venue)) as running:
        yield running


@asynccontextmanager
async def registry_worker(
    client: Client, task_queue: str, clients: Clients
) -> AsyncIterator[Worker]:
    """Run a worker with the registry's workflows and activities over the given clients."""
    async with Worker(
        client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=activities_of(clients)
    ) as running:
        yield running


async def start_pair(
    client: Client,
    task_queue: str,
    config: PairConfig,
    poll_timeout_s: float = 5.0,
    start_cursor: FillCursor | None = None,
    mirror_timeout_s: float = 3_600.0,
) -> WorkflowHandle[PairWorkflow, PairState]:
    """Start a PairWorkflow the way PairService does."""
    return await client.start_workflow(
        PairWorkflow.run,
        PairWorkflowInput(
            config=config,
            poll_timeout_s=poll_timeout_s,
            start_cursor=start_cursor,
            mirror_timeout_s=mirror_timeout_s,
        ),
        id=pair_workflow_id(config.pair_id),
        task_queue=task_queue,
        search_attributes=pair_search_attributes(config, PairStatus.ACTIVE),
    )


async def wait_state(
    handle: WorkflowHandle[PairWorkflow, PairState],
    check: Callable[[PairState], bool],
    timeout_s: float = 20.0,
) -> PairState:
    """Poll the pair's state query until `check` holds, or fail with the last state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    state = await handle.query(PairWorkflow.state)
    while not check(state):
        if loop.time() > deadline:
            raise AssertionError(f"pair state never matched; last state: {state}")
        await asyncio.sleep(0.1)
        state = await handle.query(PairWorkflow.state)
    return state


async def eventually(check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    """Poll `check` until it returns something truthy, and return that; fail at the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not (result := check()):
        if loop.time() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.1)
    return result
