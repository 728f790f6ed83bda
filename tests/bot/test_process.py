"""`projectk bot` as operators run it: a separate process, logging at DEBUG, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.bot.conftest import OWNER, TOKEN
from tests.bot.fake_api import FakeBotApi
from tests.temporal_env import env_address

pytestmark = [pytest.mark.slow, pytest.mark.devserver]


async def test_projectk_bot_answers_refuses_a_twin_and_never_logs_the_token(
    api: FakeBotApi, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PROJECTK_TELEGRAM_TOKEN": TOKEN,
        "PROJECTK_TELEGRAM_BASE_URL": api.base_url,
        "PROJECTK_TELEGRAM_OWNER_IDS": f"{OWNER}, 1002",
        "PROJECTK_DATA_DIR": str(tmp_path),
        "PROJECTK_TEMPORAL_ADDRESS": env_address(dev_env),
        "PROJECTK_DASHBOARD_URL": "http://dash.example:8501",
    }
    command = [sys.executable, "-m", "cli", "-v", "bot"]
    pipe = asyncio.subprocess.PIPE
    bot = await asyncio.create_subprocess_exec(*command, env=env, stdout=pipe, stderr=pipe)
    try:
        await api.wait_polling()
        await api.ask(OWNER, "/site", "Dashboard: http://dash.example:8501")
        twin = await asyncio.create_subprocess_exec(*command, env=env, stdout=pipe, stderr=pipe)
        _, twin_err = await asyncio.wait_for(twin.communicate(), 60)
        assert twin.returncode == 1
        assert f"another bot instance already polls this token (pid {bot.pid}" in twin_err.decode()
    finally:
        bot.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(bot.communicate(), 60)
    assert bot.returncode == 0, err.decode()[-2000:]
    logs = (out + err + twin_err).decode()
    assert "bot polling as @projectk_test_bot" in logs and "bot stopped" in logs
    assert TOKEN not in logs
