"""The task queue's pollers, read in one place: typed records from a real dev server, one
freshness rule, and the bot and the dashboard judging the same records alike."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.ledger import Ledger, worker_identity
from adapters.temporal import POLLER_FRESH, Poller, TaskKind, fresh_counts, task_queue_pollers
from bot.status import render
from bot.status import workers_check as bot_workers_check
from dashboard.checks import workers_check
from dashboard.overview import worker_banners
from projectk.health import Health
from tests.workflows.harness import fake_clients
from workers.registry import WORKFLOWS, activities_of

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


async def _until_both_kinds(client: Client, task_queue: str) -> list[Poller]:
    # A new worker's first polls reach the server within moments; wait for them, bounded.
    for _ in range(100):
        pollers = await task_queue_pollers(client, task_queue)
        if {p.kind for p in pollers} == set(TaskKind):
            return pollers
        await asyncio.sleep(0.1)
    raise AssertionError(f"no workflow and activity pollers on {task_queue}: {pollers}")


@pytest.mark.devserver
async def test_a_running_worker_reads_as_typed_fresh_pollers(
    dev_env: WorkflowEnvironment, task_queue: str, ledger: Ledger
) -> None:
    assert await task_queue_pollers(dev_env.client, task_queue) == []
    identity = worker_identity(f"{os.getpid()}@test", "ledger-one")
    async with Worker(
        dev_env.client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=activities_of(fake_clients(ledger)),
        identity=identity,
    ):
        pollers = await _until_both_kinds(dev_env.client, task_queue)
    now = datetime.now(UTC)
    assert {(p.identity, p.ledger_id) for p in pollers} == {(identity, "ledger-one")}
    assert all(p.last_access is not None and p.last_access.tzinfo is UTC for p in pollers)
    assert all(p.fresh(now) for p in pollers)
    assert all(fresh_counts(pollers, now).values())


def test_a_poller_is_fresh_for_two_minutes_and_never_without_a_last_access() -> None:
    assert Poller(TaskKind.WORKFLOW, "w", NOW - POLLER_FRESH).fresh(NOW)
    assert not Poller(TaskKind.WORKFLOW, "w", NOW - POLLER_FRESH - timedelta(seconds=1)).fresh(NOW)
    assert not Poller(TaskKind.ACTIVITY, "w", None).fresh(NOW)
    assert fresh_counts([], NOW) == {TaskKind.WORKFLOW: 0, TaskKind.ACTIVITY: 0}


POLLERS = st.lists(
    st.builds(
        Poller,
        kind=st.sampled_from(TaskKind),
        identity=st.sampled_from(["1@a", "2@b ledger=x"]),
        last_access=st.none() | st.integers(0, 600).map(lambda s: NOW - timedelta(seconds=s)),
    ),
    max_size=6,
)


@given(pollers=POLLERS)
def test_the_bot_and_the_dashboard_judge_the_same_pollers_alike(pollers: list[Poller]) -> None:
    bot = bot_workers_check("q", pollers, NOW)
    dashboard = workers_check(pollers, NOW)
    assert bot.health is dashboard.health
    assert (bot.health is Health.OK) is all(fresh_counts(pollers, NOW).values())
    assert render(bot).startswith("✅" if bot.health is Health.OK else "❌")
    if bot.health is Health.OK:
        assert worker_banners(pollers, NOW, has_pairs=True) == []
