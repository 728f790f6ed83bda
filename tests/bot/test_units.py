"""Small pure pieces of the bot: message splitting, bounded Temporal calls, settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import BotConfig, BotConfigError, file_url_for
from bot.handlers import MESSAGE_LIMIT, chunks
from bot.timeouts import TemporalTimeoutError, bounded
from projectk.settings import Settings


def test_long_texts_are_split_at_line_breaks_within_telegrams_limit() -> None:
    lines = [f"• pair-{n:04d} — active, budget 100.00 pUSD" for n in range(400)]
    parts = chunks("\n".join(lines))
    assert len(parts) > 1 and all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing lost, no line cut
    assert chunks("x" * (MESSAGE_LIMIT + 5)) == ["x" * MESSAGE_LIMIT, "xxxxx"]
    assert chunks("") == [""]


async def test_a_temporal_call_that_hangs_is_cut_off() -> None:
    with pytest.raises(TemporalTimeoutError, match="did not answer within"):
        await bounded(asyncio.sleep(5), timeout_s=0.05)
    assert await bounded(asyncio.sleep(0, result=7)) == 7


def test_the_bot_needs_a_token_and_owners(tmp_path: Path) -> None:
    with pytest.raises(BotConfigError, match="PROJECTK_TELEGRAM_TOKEN is not set"):
        BotConfig.from_settings(Settings(data_dir=tmp_path, telegram_token=None))
    with pytest.raises(BotConfigError, match="PROJECTK_TELEGRAM_OWNER_IDS is empty"):
        BotConfig.from_settings(
            Settings(data_dir=tmp_path, telegram_token=SecretStr("1:a"), telegram_owner_ids=[])
        )
    config = BotConfig.from_settings(
        Settings(
            data_dir=tmp_path,
            telegram_token=SecretStr("1:a"),
            telegram_owner_ids=[5, 6],  # the env form is "5,6"
            telegram_alert_debounce_s=60,
            telegram_base_url="https://api.telegram.org/bot",
            telegram_base_file_url=None,
            telegram_conversation_timeout_s=180,
        )
    )
    assert config.owner_ids == {5, 6} and config.rhythm.debounce_s == 60
    assert config.base_file_url == "https://api.telegram.org/file/bot"
    assert config.conversation_timeout_s == 180
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
