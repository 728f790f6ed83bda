"""/addpair through the real PTB stack: the happy path starts a pair, bad answers are refused
one by one with nothing written, the conversation expires, and other commands end it."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from projectk.contract import pair_workflow_id
from projectk.models import MICRO, PairStatus, SizingMode
from tests.bot.conftest import FOLLOWER, OWNER, SOURCE, BotFactory, FakeClock, pair_worker
from tests.bot.fake_api import FakeBotApi

pytestmark = [pytest.mark.devserver]


async def test_happy_path_registers_the_pair_and_starts_its_workflow(
    api: FakeBotApi,
    make_bot: BotFactory,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
) -> None:
    async with pair_worker(dev_env.client, task_queue, ledger), make_bot().running():
        await api.ask(OWNER, "/addpair", "Name of the pair?")
        await api.ask(OWNER, task_queue, "Source wallet")
        await api.ask(OWNER, SOURCE, "Follower wallet")
        await api.ask(OWNER, FOLLOWER, "Budget in pUSD")
        await api.ask(OWNER, "250", "Follower key in the vault")
        await api.ask(OWNER, "vault://follower", "Sizing?")
        await api.ask(OWNER, "proportional 0.5", "slippage_bps = 300")
        summary = await api.ask(
            OWNER,
            "slippage_bps=200 buys_only=yes max_sell_age=600 max_market_exposure=30",
            "Register and start",
        )
        assert "slippage 200 bps" in summary and "buys only" in summary
        assert "sells up to 600 s" in summary and "max per market 30.00 pUSD" in summary
        assert ledger.list_pairs() == []  # nothing before the confirmation
        await api.ask(OWNER, "yes", "registered and running")

    record = ledger.get_pair(task_queue)
    assert record is not None and record.status is PairStatus.ACTIVE
    config = record.config
    assert (config.source, config.follower, config.key_ref) == (
        SOURCE,
        FOLLOWER,
        "vault://follower",
    )
    assert config.budget_micro == 250 * MICRO
    assert config.sizing.mode is SizingMode.PROPORTIONAL
    assert config.guards.slippage_bps == 200 and config.guards.buys_only
    assert config.guards.max_sell_age_s == 600
    assert config.guards.max_market_exposure_micro == 30 * MICRO
    handle = dev_env.client.get_workflow_handle(pair_workflow_id(task_queue))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await handle.terminate("test over")


def _bad_checksum(address: str) -> str:
    i = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


REFUSALS = [
    # (step question that must be asked again, bad answer, reason shown)
    ("Name of the pair?", "bad name!", "pair id must be 1-64 letters"),
    ("Source wallet", "0x1234", "not an Ethereum address"),
    ("Source wallet", _bad_checksum(FOLLOWER), "checksum does not match"),
    ("Follower wallet", SOURCE, "another wallet than the source"),
    ("Budget in pUSD", "lots", "budget must be a number"),
    ("Budget in pUSD", "0", "budget must be greater than 0"),
    ("Budget in pUSD", "-5", "budget must be a number"),
    ("Budget in pUSD", "1.0000001", "more than 6 decimals"),
    ("Budget in pUSD", "5000", "above the configured ceiling of 1000 pUSD"),
    ("Follower key in the vault", "vault://missing", "is not in the vault"),
    ("Follower key in the vault", "vault://other", "neither the follower"),
    ("Follower key in the vault", "vault://no spaces", "key_ref must look like vault://NAME"),
    ("Sizing?", "banana 5", "answer a mode and an amount"),
    ("Sizing?", "fixed lots", "fixed amount must be a number"),
    ("Sizing?", "proportional 20", "less than or equal to 10"),
    ("Guards:", "slippage_bps=9000", "less than or equal to 5000"),
    ("Guards:", "stop_loss=5", "unknown guard 'stop_loss'"),
    ("Guards:", "buys_only=maybe", "buys_only must be yes or no"),
    ("Guards:", "order_type=GTD", "order_type must be one of FAK, FOK, GTC"),
    ("Guards:", "max_book_distance=1", "max book distance must be a price between 0 and 1"),
    ("Guards:", "max_sell_age=0", "max sell age must be at least 1 second"),
    ("Guards:", "max_buy_age=soon", "max buy age (seconds) must be a whole number"),
    ("Guards:", "exit_slippage_bps=9000", "less than or equal to 5000"),
    ("Guards:", "max_market_exposure=lots", "max market exposure must be a number"),
    ("Guards:", "shared_funder=perhaps", "shared_funder must be yes or no"),
    ("Register and start it?", "perhaps", "Please answer yes or no"),
]
GOOD = {
    "Name of the pair?": "alpha",
    "Source wallet": SOURCE,
    "Follower wallet": FOLLOWER,
    "Budget in pUSD": "100",
    "Follower key in the vault": "follower",
    "Sizing?": "fixed 5",
    "Guards:": "ok",
}


async def test_each_invalid_answer_is_refused_and_nothing_is_written(
    api: FakeBotApi,
    make_bot: BotFactory,
    dev_env: WorkflowEnvironment,
    ledger: Ledger,
    task_queue: str,
) -> None:
    name = f"bad-{task_queue}"
    good = {**GOOD, "Name of the pair?": name}
    async with make_bot().running():
        await api.ask(OWNER, "/addpair", "Name of the pair?")
        for question, bad, reason in REFUSALS:
            reply = await api.ask(OWNER, bad, reason)
            assert question in reply, (bad, reply)  # the same question, asked again
            if question in good and (question, bad) == _last_bad(question):
                await api.ask(OWNER, good[question], _next_question(question))
        await api.ask(OWNER, "no", "Cancelled; nothing was saved.")
        await api.ask(OWNER, name, "No question is open")
    assert ledger.list_pairs(include_removed=True) == []
    query = f'WorkflowId="{pair_workflow_id(name)}"'
    workflows = [w async for w in dev_env.client.list_workflows(query)]
    assert workflows == []


def _last_bad(question: str) -> tuple[str, str]:
    return next((q, bad) for q, bad, _ in reversed(REFUSALS) if q == question)


def _next_question(question: str) -> str:
    order = [q for q in GOOD] + ["Register and start it?"]
    return order[order.index(question) + 1]


async def test_the_conversation_expires_after_180_seconds_without_an_answer(
    api: FakeBotApi, make_bot: BotFactory, clock: FakeClock
) -> None:
    async with make_bot().running():
        await api.ask(OWNER, "/addpair", "Name of the pair?")
        clock.advance(170)
        await api.ask(OWNER, "alpha", "Source wallet")  # an answer restarts the 180 s
        clock.advance(179)
        await api.settle()
        assert not any("expired" in text for text in api.texts(OWNER))
        clock.advance(2)
        text = await api.wait_text(OWNER, "expired")
        assert text.startswith("⌛ /addpair expired after 180 s") and "nothing was saved" in text
        await api.ask(OWNER, SOURCE, "No question is open")


async def test_a_second_addpair_does_not_start_another_and_other_commands_end_it(
    api: FakeBotApi, make_bot: BotFactory
) -> None:
    async with make_bot().running():
        await api.ask(OWNER, "/addpair alpha", "Source wallet")  # the name given up front
        await api.ask(OWNER, "/addpair", "An /addpair is already open")
        await api.ask(OWNER, SOURCE, "Follower wallet")  # still the first conversation
        await api.ask(OWNER, "/site", "/addpair ended; nothing was saved.")
        await api.ask(OWNER, FOLLOWER, "No question is open")
        await api.ask(OWNER, "/addpair", "Name of the pair?")
        await api.ask(OWNER, "/cancel", "/addpair cancelled; nothing was saved.")
        await api.ask(OWNER, "/cancel", "Nothing to cancel.")
