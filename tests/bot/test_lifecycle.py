"""One poller per token, and no replay of what arrived while the bot was down."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.lock import BotAlreadyRunningError, InstanceLock, lock_path
from tests.bot.conftest import OWNER, TOKEN, BotFactory
from tests.bot.fake_api import FakeBotApi

pytestmark = [pytest.mark.devserver]


async def test_updates_sent_while_the_bot_was_down_are_drained_not_replayed(
    api: FakeBotApi, make_bot: BotFactory
) -> None:
    api.message(OWNER, "/stopall")
    api.message(OWNER, "/addpair")
    async with make_bot().running():
        await api.ask(OWNER, "/site", "Dashboard:")
        await api.settle()
    assert api.dropped == 2
    texts = api.texts(OWNER)
    assert len(texts) == 1 and texts[0].startswith("Dashboard:")  # only the fresh /site
    assert api.methods().index("deleteWebhook") < api.methods().index("getUpdates")


async def test_a_second_instance_refuses_to_start_and_says_who_holds_the_token(
    api: FakeBotApi, make_bot: BotFactory
) -> None:
    async with make_bot().running():
        calls = api.methods().count("getMe")
        with pytest.raises(BotAlreadyRunningError) as refused:
            async with make_bot().running():
                pytest.fail("a second poller started")
        assert f"pid {os.getpid()} on host {socket.gethostname()}" in str(refused.value)
        assert TOKEN not in str(refused.value)
        assert api.methods().count("getMe") == calls  # the second one never called Telegram
        await api.ask(OWNER, "/site", "Dashboard:")  # the first one still answers
    async with make_bot().running():  # released on stop: a new instance starts
        await api.ask(OWNER, "/site", "Dashboard:")


def test_the_lock_is_per_token_and_its_file_name_hides_the_token(tmp_path: Path) -> None:
    first = lock_path(tmp_path, TOKEN)
    assert TOKEN not in first.name and TOKEN.split(":")[0] not in first.name
    with (
        InstanceLock(first),
        InstanceLock(lock_path(tmp_path, "999:other-token")),
        pytest.raises(BotAlreadyRunningError, match="another bot instance"),
    ):
        InstanceLock(first).acquire()
    with InstanceLock(first):  # free again
        pass
