"""Steering commands through the real PTB stack against running PairWorkflows: owners steer,
strangers are refused, /stopall stops every pair, /rmpairall asks first."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from control.pairs import PairService
from projectk.models import MICRO, PairConfig, PairState, PairStatus
from tests.bot.conftest import (
    FOLLOWER,
    OWNER,
    SOURCE,
    STRANGER,
    BotFactory,
    pair_worker,
)
from tests.bot.fake_api import FakeBotApi
from tests.fakes import make_fill

pytestmark = [pytest.mark.devserver]


def config(name: str) -> PairConfig:
    """Return a valid pair signed by the test vault's follower key (several of them share the
    follower's wallet, so they are marked shared)."""
    return PairConfig(
        pair_id=name,
        source=SOURCE,
        follower=FOLLOWER,
        key_ref="vault://follower",
        budget_micro=100 * MICRO,
        shared_funder=True,
    )


async def until_state(
    service: PairService, name: str, check: Callable[[PairState], bool]
) -> PairState:
    """Poll a pair's live state until `check` holds."""
    for _ in range(100):
        state = await service.state(name)
        if check(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"state of {name} never matched: {state}")


async def test_stopall_stops_every_pair_and_strangers_are_refused(
    api: FakeBotApi,
    make_bot: BotFactory,
    service: PairService,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    names = [f"{task_queue}-a", f"{task_queue}-b"]
    async with pair_worker(dev_env.client, task_queue, ledger), make_bot().running():
        for name in names:
            await service.add(config(name))
        with caplog.at_level(logging.WARNING, logger="bot.handlers"):
            refusal = await api.ask(STRANGER, "/stopall", "private bot")
        assert "logged" in refusal
        assert f"user {STRANGER}" in caplog.text and "/stopall" in caplog.text
        await api.ask(STRANGER, "/addpair", "private bot")
        await api.ask(STRANGER, "alpha", "private bot")  # no conversation was opened
        for name in names:
            assert (await service.state(name)).status is PairStatus.ACTIVE
        # Every running pair of the namespace is stopped: other tests' pairs may share it.
        await api.ask(OWNER, "/stopall", "Emergency stop sent to")
        for name in names:
            await until_state(service, name, lambda s: s.status is PairStatus.STOPPED)
            record = ledger.get_pair(name)
            assert record is not None and record.status is PairStatus.STOPPED
        await api.ask(OWNER, f"/resume {names[0]}", f"{names[0]} resumed")
        await until_state(service, names[0], lambda s: s.status is PairStatus.ACTIVE)


async def test_owners_list_inspect_pause_resume_and_budget_pairs(
    api: FakeBotApi,
    make_bot: BotFactory,
    service: PairService,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
) -> None:
    name = task_queue
    async with pair_worker(dev_env.client, task_queue, ledger), make_bot().running():
        await api.ask(OWNER, "/pairs", "No pairs yet")
        await service.add(config(name))
        listing = await api.ask(OWNER, "/pairs", "1 pair(s)")
        assert name in listing and "budget 100.00 pUSD" in listing
        state = await api.ask(OWNER, f"/pair {name}", f"Pair {name}: active")
        assert "left 100.00 pUSD" in state
        await api.ask(OWNER, "/pair", "Usage: /pair NAME")
        await api.ask(OWNER, "/pair nosuch", "no pair named 'nosuch'")
        await api.ask(OWNER, f"/pause {name}", f"{name} paused")
        await until_state(service, name, lambda s: s.status is PairStatus.PAUSED)
        await api.ask(OWNER, f"/pair {name}", f"Pair {name}: paused")
        await api.ask(OWNER, f"/resume {name}", f"{name} resumed")
        await until_state(service, name, lambda s: s.status is PairStatus.ACTIVE)
        await api.ask(OWNER, f"/budget {name} 300", "budget set to 300.00 pUSD")
        assert (await service.state(name)).config.budget_micro == 300 * MICRO
        await api.ask(OWNER, f"/budget {name} 5000", "above the configured ceiling")
        await api.ask(OWNER, f"/budget {name} lots", "budget must be a number")
        assert (await service.state(name)).config.budget_micro == 300 * MICRO


async def test_rmpair_and_rmpairall_with_confirmation(
    api: FakeBotApi,
    make_bot: BotFactory,
    service: PairService,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
) -> None:
    names = [f"{task_queue}-{n}" for n in "abc"]
    async with pair_worker(dev_env.client, task_queue, ledger), make_bot().running():
        for name in names:
            await service.add(config(name))
        await api.ask(OWNER, f"/rmpair {names[0]}", f"{names[0]} removed")
        question = await api.ask(OWNER, "/rmpairall", "Reply `yes` to remove")
        assert names[1] in question and names[2] in question and names[0] not in question
        await api.ask(OWNER, "no", "Cancelled; no pair was removed.")
        assert len(ledger.list_pairs()) == 2
        await api.ask(OWNER, "/rmpairall", "Reply `yes`")
        await api.ask(OWNER, "yes", "removed 2 pair(s)")
        assert ledger.list_pairs() == []
        await api.ask(OWNER, "/rmpairall", "There are no pairs to remove.")
    statuses = {r.pair_id: r.status for r in ledger.list_pairs(include_removed=True)}
    assert statuses == dict.fromkeys(names, PairStatus.REMOVED)


async def test_status_whereami_site_howto_help(
    api: FakeBotApi,
    make_bot: BotFactory,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
) -> None:
    async with make_bot().running():
        status = await api.ask(OWNER, "/status", "Temporal at")
        assert "reachable" in status and "0 workflow" in status  # no worker on this queue yet
        assert "no source fill detected yet" in status
        fill = make_fill(7, block_time=datetime.now(UTC) - timedelta(seconds=3))
        ledger.record_fill(fill)
        async with pair_worker(dev_env.client, task_queue, ledger):
            await asyncio.sleep(1)  # let the worker's pollers reach the server
            status = await api.ask(OWNER, "/status", "Temporal at")
            assert "✅ workers polling" in status, status
        assert f"newest fill in block {fill.block_number} detected 3." in status
        where = await api.ask(OWNER, "/whereami", "pid")
        assert f"pid {os.getpid()}" in where and "ProjectK bot" in where
        await api.ask(OWNER, "/site", "Dashboard: http://dashboard.test:8501")
        await api.ask(OWNER, "/howto", "projectk wallet add NAME")
        help_text = await api.ask(OWNER, "/help", "ProjectK commands")
        for command in ("/addpair", "/stopall", "/rmpairall", "/status", "/budget"):
            assert command in help_text
    commands = [params for method, params in api.calls if method == "setMyCommands"]
    assert commands and any(c["command"] == "stopall" for c in commands[0]["commands"])
