"""/stopall signals every pair even when one signal fails, and its answer names each pair it could
not stop with the error, so the owner knows what is still trading."""

from __future__ import annotations

from typing import cast

import pytest
from temporalio.client import Client

from adapters.ledger import Ledger
from adapters.vault import Vault
from control.pairs import PairRules, PairService
from projectk.contract import pair_workflow_id
from projectk.models import MICRO, PairConfig, PairStatus
from tests.bot.conftest import CEILING_PUSD, FOLLOWER, OWNER, SOURCE, BotFactory
from tests.bot.fake_api import FakeBotApi
from tests.fake_temporal import FakePairsTemporal, ended_error

pytestmark = [pytest.mark.devserver]

NAMES = ["alpha", "beta", "gamma"]


@pytest.fixture
def temporal() -> FakePairsTemporal:
    """Return a Temporal whose pair beta ended after it was listed."""
    return FakePairsTemporal.of(NAMES, refused={"beta": ended_error()})


@pytest.fixture
def service(temporal: FakePairsTemporal, ledger: Ledger, vault: Vault) -> PairService:
    """Return the bot's PairService on the fake Temporal, with NAMES registered."""
    for name in NAMES:
        config = PairConfig(
            pair_id=name,
            source=SOURCE,
            follower=FOLLOWER,
            key_ref="vault://follower",
            budget_micro=100 * MICRO,
            shared_funder=True,
        )
        ledger.upsert_pair(config, PairStatus.ACTIVE)
    rules = PairRules(budget_ceiling_micro=CEILING_PUSD * MICRO, task_queue="unused")
    return PairService(cast(Client, temporal), ledger, vault, rules)


async def test_stopall_lists_the_pairs_it_could_not_stop(
    api: FakeBotApi, make_bot: BotFactory, temporal: FakePairsTemporal, ledger: Ledger
) -> None:
    async with make_bot().running():
        answer = await api.ask(OWNER, "/stopall", "Emergency stop")

    assert sorted(temporal.attempted()) == sorted(pair_workflow_id(n) for n in NAMES)
    assert "sent to 2 pair(s): alpha, gamma" in answer
    assert "NOT stopped" in answer and "beta: workflow execution already completed" in answer
    beta = ledger.get_pair("beta")
    assert beta is not None and beta.status is PairStatus.ACTIVE
