"""Secrets never reach Telegram or the logs: key-like messages are refused and deleted, and the
bot token never appears in a log line, whoever logs it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import Ledger
from bot.guard import looks_secret
from bot.logs import protect_token
from bot.main import BotStartError, run_bot
from projectk.logs import MASK
from projectk.settings import Settings
from tests.bot.conftest import FOLLOWER, FOLLOWER_KEY, OWNER, SOURCE, STRANGER, TOKEN, BotFactory
from tests.bot.fake_api import FakeBotApi, serve_fake_api
from tests.temporal_env import env_address

MNEMONIC = "abandon " * 11 + "about"


@pytest.mark.parametrize(
    "text",
    [
        FOLLOWER_KEY,
        FOLLOWER_KEY[2:],
        f"my key is {FOLLOWER_KEY[2:].upper()} thanks",
        MNEMONIC,
        "1. " + " 2. ".join(MNEMONIC.split()),
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
    ],
)
def test_keys_and_mnemonics_are_recognised(text: str) -> None:
    assert looks_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        FOLLOWER,
        SOURCE,
        "/budget alpha 250",
        "fixed 5",
        "slippage_bps=200 max_order=20 daily_loss_limit=50 buys_only=yes",
        "please pause the pair until the market opens again tomorrow morning, thank you very much",
        "vault://follower",
    ],
)
def test_ordinary_answers_are_not_mistaken_for_secrets(text: str) -> None:
    assert not looks_secret(text)


@pytest.mark.devserver
async def test_a_key_pasted_in_chat_is_refused_deleted_and_not_taken_as_an_answer(
    api: FakeBotApi, make_bot: BotFactory, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_bot().running():
        await api.ask(OWNER, "/addpair keytest", "Source wallet")
        await api.ask(OWNER, SOURCE, "Follower wallet")
        await api.ask(OWNER, FOLLOWER, "Budget")
        await api.ask(OWNER, "100", "Follower key in the vault")
        mark = len(api.sent)
        pasted = api.message(OWNER, FOLLOWER_KEY)
        await api.wait_text(OWNER, "looks like a private key", since=mark)
        pasted_words = api.message(OWNER, MNEMONIC)
        await api.wait_text(OWNER, "looks like a private key", since=mark + 1)
        await api.ask(OWNER, "vault://follower", "Sizing?")  # the question still stood
        stranger_paste = api.message(STRANGER, FOLLOWER_KEY)
        await api.wait_text(STRANGER, "looks like a private key")
    assert api.deleted == [(OWNER, pasted), (OWNER, pasted_words), (STRANGER, stranger_paste)]
    sent = "\n".join(s.text for s in api.sent)
    assert FOLLOWER_KEY[2:] not in sent and MNEMONIC not in sent
    assert FOLLOWER_KEY[2:] not in caplog.text and "abandon abandon" not in caplog.text
    assert ledger.list_pairs() == []


@pytest.mark.devserver
async def test_the_token_never_reaches_a_log_line(
    api: FakeBotApi, make_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_bot().running():
        await api.ask(OWNER, "/help", "ProjectK commands")
        await api.ask(STRANGER, "/help", "private bot")
        logging.getLogger("some.library").info("calling https://api/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"request to /bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            logging.getLogger("some.library").exception("failure")
    assert "Application started" in caplog.text  # PTB's lines were captured…
    assert f"/bot{MASK}/getMe" in caplog.text
    assert TOKEN not in caplog.text  # …and none of them, nor ours, holds the token
    assert all(TOKEN not in (r.exc_text or "") for r in caplog.records)
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("telegram.ext.ExtBot").getEffectiveLevel() >= logging.INFO


def test_redaction_covers_handlers_added_later(capsys: pytest.CaptureFixture[str]) -> None:
    protect_token(TOKEN)
    handler = logging.StreamHandler()
    logger = logging.getLogger("late.handler")
    logger.addHandler(handler)
    try:
        logger.warning("token %s in args and %s in message", TOKEN, "x")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert TOKEN not in err and f"token {MASK} in args" in err


@pytest.mark.devserver
async def test_a_rejected_token_fails_the_start_without_printing_it(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with serve_fake_api("999:another-token") as api:
        settings = Settings(
            telegram_token=SecretStr(TOKEN),
            telegram_base_url=api.base_url,
            telegram_owner_ids=[OWNER],
            data_dir=tmp_path,
            temporal_address=env_address(dev_env),
        )
        with pytest.raises(BotStartError) as refused:
            await run_bot(settings)
    assert "rejected PROJECTK_TELEGRAM_TOKEN" in str(refused.value)
    assert TOKEN not in str(refused.value)
