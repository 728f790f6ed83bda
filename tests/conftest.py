"""Shared fixtures: Temporal environments, a ledger per test, a task queue per test.

Temporal switch: `time_env` is the time-skipping test server (timers and long waits in
milliseconds), `dev_env` a real local dev server (continue-as-new limits, search attributes,
duplicate ids, the `temporal` CLI). Both are started once per session from the installed
binaries; nothing is downloaded. The venue sandbox fixtures (`tests.venue_sandbox`) start one
sandbox for the session on first use. Tests mirror the rooms of the code: `kernel/`, `adapters/…`,
`workflows/`, `workers/`, `cli/`, `bot/`, `dashboard/`, `sandbox/`, and `e2e/` for the whole path.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger, create_ledger_engine, upgrade
from tests.pg import report_skips
from tests.temporal_env import dev_server_env, time_skipping_env

pytest_plugins = ["tests.venue_sandbox"]

SUGGEST_CAN_AFTER_EVENTS = 60  # the dev server suggests continue-as-new early, to test it


@pytest.fixture(scope="session")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """Yield the session's time-skipping Temporal test server."""
    async with time_skipping_env() as env:
        yield env


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """Yield the session's local Temporal dev server (continue-as-new suggested early)."""
    config = {"limit.historyCount.suggestContinueAsNew": SUGGEST_CAN_AFTER_EVENTS}
    async with dev_server_env(extra_dynamic_config=config) as env:
        yield env


@pytest.fixture
def task_queue() -> str:
    """Return a task queue no other test uses."""
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """Yield a migrated SQLite ledger in a temporary directory."""
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    yield Ledger(engine)
    engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say at the end of the run why PostgreSQL tests were skipped, if they were."""
    report_skips(terminalreporter)
