"""/addpair's guard step without Telegram or Temporal: the new guard answers, and the refusal of
a funder that other live pairs hold (the bot's global funder included), answered in place."""

from __future__ import annotations

from typing import cast

import pytest
from temporalio.client import Client

from adapters.ledger import Ledger
from adapters.vault import Vault
from bot.addpair import AddPairFlow, PairDefaults, Step
from control.pairs import PairRules, PairService
from projectk.models import MICRO, PairConfig, PairStatus
from tests.bot.conftest import CEILING_PUSD, FOLLOWER, SOURCE

FUNDER = "0x3333333333333333333333333333333333333333"  # the bot's global funder in these tests
OTHER_FOLLOWER = "0x4444444444444444444444444444444444444444"


def flow(ledger: Ledger, vault: Vault, funder: str | None = None) -> AddPairFlow:
    """Return an /addpair flow whose service reads the test ledger and vault (no Temporal:
    nothing here gets as far as the confirmation)."""
    rules = PairRules(budget_ceiling_micro=CEILING_PUSD * MICRO, task_queue="unused")
    service = PairService(cast(Client, None), ledger, vault, rules)
    return AddPairFlow(service, PairDefaults(CEILING_PUSD * MICRO, funder=funder))


async def to_guards(addpair: AddPairFlow) -> str:
    """Answer every question before the guards; return the guards question."""
    addpair.start("beta")
    for answer in (SOURCE, FOLLOWER, "100", "vault://follower"):
        await addpair.answer(answer)
    reply = await addpair.answer("fixed 5")
    assert addpair.step is Step.GUARDS
    return reply.text


def other_pair(shared: bool) -> PairConfig:
    """Return a live pair at the bot's global funder."""
    return PairConfig(
        pair_id="alpha",
        source=SOURCE,
        follower=OTHER_FOLLOWER,
        funder=FUNDER,
        key_ref="vault://other",
        budget_micro=50 * MICRO,
        shared_funder=shared,
    )


async def test_the_guard_step_shows_and_takes_the_new_guards(ledger: Ledger, vault: Vault) -> None:
    addpair = flow(ledger, vault)
    question = await to_guards(addpair)
    for line in (
        "max_buy_age = 120 s",
        "max_sell_age = none",
        "exit_slippage_bps = 500",
        "max_book_distance = 0.10",
        "max_market_exposure = none (per market: Yes and No together, including orders in flight)",
        "shared_funder = no",
    ):
        assert line in question
    refused = await addpair.answer("max_book_distance=1.2")
    assert "max book distance must be a price between 0 and 1" in refused.text
    assert addpair.step is Step.GUARDS
    summary = await addpair.answer(
        "max_buy_age=30 max_sell_age=900 exit_slippage_bps=700 max_book_distance=off "
        "max_market_exposure=40"
    )
    assert addpair.step is Step.CONFIRM
    assert "buys up to 30 s, sells up to 900 s; max book distance off" in summary.text
    assert "(exits 700 bps)" in summary.text and "max per market 40.00 pUSD" in summary.text


async def test_the_global_funder_of_an_unshared_pair_is_refused_with_the_reason(
    ledger: Ledger, vault: Vault
) -> None:
    ledger.upsert_pair(other_pair(shared=False), PairStatus.ACTIVE)
    addpair = flow(ledger, vault, funder=FUNDER)
    await to_guards(addpair)
    for answer in ("ok", "shared_funder=yes"):
        reply = await addpair.answer(answer)
        assert addpair.step is Step.GUARDS, answer  # the same question again
        assert "alpha" in reply.text and FUNDER in reply.text
        assert "PROJECTK_POLYMARKET_FUNDER" in reply.text
        assert "projectk pair add --funder" in reply.text
        assert "shared_funder=yes` to mark" not in reply.text  # it would not help
        assert "Guards:" in reply.text


async def test_a_shared_global_funder_is_accepted_once_this_pair_is_marked_shared(
    ledger: Ledger, vault: Vault
) -> None:
    ledger.upsert_pair(other_pair(shared=True), PairStatus.ACTIVE)
    addpair = flow(ledger, vault, funder=FUNDER)
    await to_guards(addpair)
    reply = await addpair.answer("ok")
    assert addpair.step is Step.GUARDS
    assert "answer `shared_funder=yes` to mark this pair shared" in reply.text
    summary = await addpair.answer("shared_funder=yes")
    assert addpair.step is Step.CONFIRM
    assert f"funder   {FUNDER} (shared with other pairs)" in summary.text


@pytest.mark.parametrize("shared", [False, True])
async def test_a_removed_pair_leaves_its_funder_free(
    ledger: Ledger, vault: Vault, shared: bool
) -> None:
    ledger.upsert_pair(other_pair(shared=shared), PairStatus.REMOVED)
    addpair = flow(ledger, vault, funder=FUNDER)
    await to_guards(addpair)
    await addpair.answer("ok")
    assert addpair.step is Step.CONFIRM
