"""Dashboard fixtures: the app under Streamlit's AppTest, pointed at a test ledger and Temporal.

The dashboard reads its settings from `PROJECTK_*` variables like in production, so each test
sets them (monkeypatch) to its own ledger file, task queue and Temporal address. Streamlit's
data cache is process-wide, so it is cleared before each test.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.fills import FillFeed
from adapters.ledger import Ledger
from adapters.ledger.summaries import worker_identity
from adapters.polymarket import Venue
from projectk.models import PairState, PairStatus
from sandbox.runtime import free_port
from tests.fakes import GatedVenue, MemoryFeed, make_fill
from tests.temporal_env import env_address
from tests.workflows.harness import fake_clients, pair_config, start_pair, wait_state
from workers.registry import WORKFLOWS, activities_of

APP = Path(__file__).parents[2] / "dashboard" / "app.py"
PAGES = ("views/overview.py", "views/pair.py", "views/orders.py", "views/claims.py")
RUN_TIMEOUT_S = 60


@pytest.fixture
def dashboard_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, task_queue: str
) -> Iterator[dict[str, str]]:
    """Point the dashboard's settings at this test's ledger and task queue; clear its caches."""
    for name in list(os.environ):
        if name.startswith("PROJECTK_"):
            monkeypatch.delenv(name)
    env = {
        "PROJECTK_DATA_DIR": str(tmp_path / "data"),
        "PROJECTK_DB_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "PROJECTK_TEMPORAL_TASK_QUEUE": task_queue,
        "PROJECTK_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # down unless a test sets it
        "PROJECTK_RPC_URLS": f"http://127.0.0.1:{free_port()}",
        "PROJECTK_DASHBOARD_REFRESH_S": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    yield env
    st.cache_data.clear()


async def run_app(at: AppTest) -> AppTest:
    """Run the app in a thread, so workers on the test's event loop can answer its queries."""
    return await asyncio.to_thread(at.run, timeout=RUN_TIMEOUT_S)


def new_app() -> AppTest:
    """Return the dashboard app under test."""
    return AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)


@asynccontextmanager
async def tagged_worker(
    client: Client,
    task_queue: str,
    ledger: Ledger,
    feed: FillFeed,
    venue: Venue,
    ledger_id: str | None,
) -> AsyncIterator[Worker]:
    """Run the test worker advertising `ledger_id` in its identity, like the real worker."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(fake_clients(ledger, feed, venue)),
        identity=worker_identity(f"{os.getpid()}@test", ledger_id),
    ) as running:
        yield running


SOURCE_B = "0x3333333333333333333333333333333333333333"
NEWEST_PRICE = Decimal("0.50")  # pair B's fill is the token's newest source fill


@dataclass
class Live:
    """Two running pairs and what their workflows report."""

    a: str
    b: str
    states: dict[str, PairState]
    before_orders: Path  # a copy of the ledger taken before any order was written


@pytest.fixture
async def live(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    ledger: Ledger,
    dashboard_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> AsyncIterator[Live]:
    """Run pair A (three buys) and pair B (one buy) to rest, with a worker that stays up."""
    monkeypatch.setenv("PROJECTK_TEMPORAL_ADDRESS", env_address(dev_env))
    a, b = pair_config(f"{task_queue}-a"), pair_config(f"{task_queue}-b", source=SOURCE_B)
    for config in (a, b):
        ledger.upsert_pair(config, PairStatus.ACTIVE)
    fills = [make_fill(n, price=p) for n, p in ((1, "0.50"), (2, "0.40"), (3, "0.45"))]
    fills.append(make_fill(10, wallet=SOURCE_B, price=str(NEWEST_PRICE)))
    copy = tmp_path / "copy.db"
    _backup(Path(dashboard_env["PROJECTK_DB_URL"].removeprefix("sqlite:///")), copy)
    feed = MemoryFeed()
    for fill in fills:
        ledger.record_fill(fill)
    feed.push(*fills)
    client = dev_env.client
    async with tagged_worker(client, task_queue, ledger, feed, GatedVenue(), ledger.ledger_id()):
        handles = {c.pair_id: await start_pair(client, task_queue, c) for c in (a, b)}
        states = {
            a.pair_id: await wait_state(
                handles[a.pair_id], lambda s: s.mirrors_started == 3 and not s.in_flight
            ),
            b.pair_id: await wait_state(
                handles[b.pair_id], lambda s: s.mirrors_started == 1 and not s.in_flight
            ),
        }
        await _visible(dev_env, task_queue, 2)
        yield Live(a.pair_id, b.pair_id, states, copy)


def _backup(source: Path, target: Path) -> None:
    # The SQLite backup API copies what is committed, WAL included.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def _visible(env: WorkflowEnvironment, task_queue: str, count: int) -> None:
    query = f'WorkflowType="PairWorkflow" AND TaskQueue="{task_queue}"'
    for _ in range(100):
        if len([w async for w in env.client.list_workflows(query)]) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never showed {count} pairs")
