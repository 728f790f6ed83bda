"""A real browser opens the dashboard served by `projectk dashboard`'s command line, with live
pairs on a dev server, and keeps a screenshot of the Overview as a test artifact."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.dashboard import streamlit_command
from sandbox.runtime import free_port
from tests.dashboard.browser import capture, find_chromium
from tests.dashboard.conftest import Live

pytestmark = [
    pytest.mark.slow,
    pytest.mark.devserver,
    pytest.mark.skipif(
        find_chromium() is None and os.environ.get("CI") != "true",
        reason="needs Debian's chromium (apt-get install -y chromium)",
    ),
]

ARTIFACTS = Path(__file__).parents[2] / "artifacts"
SCREENSHOT = ARTIFACTS / "dashboard-overview.png"


@pytest.fixture
def served(live: Live, tmp_path: Path) -> Iterator[str]:
    """Serve the dashboard on a free localhost port with the test's settings; yield its URL."""
    port = free_port()
    log = (tmp_path / "streamlit.log").open("wb")
    env = {**os.environ, "PROJECTK_DASHBOARD_REFRESH_S": "0"}
    proc = subprocess.Popen(
        streamlit_command("127.0.0.1", port), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


async def _healthy(url: str, timeout_s: float = 60.0) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout_s / 0.25)):
            try:
                if (await client.get(f"{url}/_stcore/health")).text == "ok":
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError(f"the dashboard at {url} never became healthy")


async def test_a_browser_sees_the_overview_with_live_pairs_and_no_error(
    live: Live, served: str
) -> None:
    await _healthy(served)
    seen = await capture(served, SCREENSHOT)
    assert seen.errors == []
    assert seen.title == "Overview"
    assert seen.tables == 1
    assert ["Pairs", "2", "2", "active"] in [m.split() for m in seen.metrics], seen.metrics
    assert SCREENSHOT.stat().st_size > 20_000  # a rendered page, not a blank skeleton
