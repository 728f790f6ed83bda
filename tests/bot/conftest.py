"""Fixtures of the bot tests: a fake Bot API, a vault with the follower's key, a fake clock, and
the real bot (PTB stack, PairService on the dev server) aimed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.ledger import Ledger
from adapters.vault import ScryptParams, Vault
from bot.addpair import PairDefaults
from bot.alerts import AlertRhythm
from bot.app import ProjectKBot
from bot.config import BotConfig
from bot.status import StatusProbe
from control.pairs import PairRules, PairService
from projectk.models import MICRO
from tests.bot.fake_api import FakeBotApi, serve_fake_api
from tests.workflows.harness import fake_clients, registry_worker

TOKEN = "123456:TEST-token-that-must-never-be-logged"
OWNER = 1001
OTHER_OWNER = 1002
STRANGER = 666
FOLLOWER_KEY = "0x" + "4c" * 32  # test key; its address is the follower
FOLLOWER = Account.from_key(FOLLOWER_KEY).address
OTHER_KEY = "0x" + "5d" * 32
SOURCE = "0x1111111111111111111111111111111111111111"
CEILING_PUSD = 1000


@dataclass
class FakeClock:
    """A monotonic and a wall clock that move only when told."""

    seconds: float = 0.0
    origin: datetime = field(default_factory=lambda: datetime(2026, 11, 21, 12, tzinfo=UTC))

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        return self.seconds

    def wall(self) -> datetime:
        """Return the fake UTC time."""
        return self.origin + timedelta(seconds=self.seconds)

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self.seconds += seconds


@pytest.fixture
def clock() -> FakeClock:
    """Return a fake clock at 2026-11-21 12:00 UTC."""
    return FakeClock()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """Yield a fake Bot API that accepts TOKEN."""
    async with serve_fake_api(TOKEN) as fake:
        yield fake


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    """Return a vault holding vault://follower (the follower's key) and vault://other."""
    vault = Vault(tmp_path / "vault.json", kdf=ScryptParams(n=2**10))
    vault.add("follower", FOLLOWER_KEY, "test passphrase")
    vault.add("other", OTHER_KEY, "test passphrase")
    return vault


def bot_config(api: FakeBotApi, data_dir: Path, **changes: Any) -> BotConfig:
    """Return a bot configuration aimed at the fake API, with quick loops."""
    config = BotConfig(
        token=SecretStr(TOKEN),
        base_url=api.base_url,
        base_file_url=api.base_url.replace("/bot", "/file/bot"),
        owner_ids=frozenset({OWNER, OTHER_OWNER}),
        dashboard_url="http://dashboard.test:8501",
        data_dir=data_dir,
        task_queue="unused",
        conversation_timeout_s=180.0,
        alert_poll_s=0.05,
        rhythm=AlertRhythm(debounce_s=300, batch_s=3600),
        defaults=PairDefaults(budget_ceiling_micro=CEILING_PUSD * MICRO),
        sweep_s=0.05,
        poll_timeout_s=1.0,
    )
    return replace(config, **changes)


BotFactory = Callable[..., ProjectKBot]


@pytest.fixture
def service(
    dev_env: WorkflowEnvironment, ledger: Ledger, vault: Vault, task_queue: str
) -> PairService:
    """Return the PairService the bot uses: dev server, test ledger, test vault."""
    rules = PairRules(
        budget_ceiling_micro=CEILING_PUSD * MICRO, task_queue=task_queue, poll_timeout_s=5
    )
    return PairService(dev_env.client, ledger, vault, rules)


@pytest.fixture
def make_bot(
    api: FakeBotApi,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    service: PairService,
    clock: FakeClock,
    task_queue: str,
    tmp_path: Path,
) -> BotFactory:
    """Return a factory of real bots on the fake API, the dev server and the test ledger."""

    def make(**changes: Any) -> ProjectKBot:
        probe = StatusProbe(dev_env.client, ledger, task_queue)  # real time: real pollers
        config = bot_config(api, tmp_path / "data", task_queue=task_queue, **changes)
        return ProjectKBot(
            config, service, ledger, probe, monotonic=clock.monotonic, wall=clock.wall
        )

    return make


@asynccontextmanager
async def pair_worker(client: Client, task_queue: str, ledger: Ledger) -> AsyncIterator[Worker]:
    """Run PairWorkflow with its real activities over an empty fill feed (no mirror children:
    the bot steers pairs, it never needs an order to be placed)."""
    async with registry_worker(client, task_queue, fake_clients(ledger)) as running:
        yield running
