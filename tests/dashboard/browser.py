"""Drive Debian's headless Chromium over the DevTools protocol: open a page, wait until
Streamlit has rendered it, read what is on screen and save a screenshot.

Streamlit draws the page from a websocket after load, so `chromium --screenshot` alone captures
an empty skeleton; this waits for the app to settle instead. Needs the `chromium` package
(`apt-get install -y chromium`); `find_chromium` returns None without it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets

BROWSERS = ("chromium", "chromium-browser")
SETTLED = """(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = document.querySelector('[data-testid="stStatusWidget"]');
  const skeleton = document.querySelector('[data-testid="stSkeleton"]');
  return !!app && !busy && !skeleton && !!document.querySelector('h1');
})()"""
READ = """JSON.stringify({
  errors: [...document.querySelectorAll(
    '[data-testid="stException"], [data-testid="stAlertContentError"]')].map(e => e.innerText),
  metrics: [...document.querySelectorAll('[data-testid="stMetric"]')].map(e => e.innerText),
  title: (document.querySelector('h1') || {}).innerText || '',
  tables: document.querySelectorAll('[data-testid="stDataFrame"]').length,
})"""


@dataclass(frozen=True)
class PageShot:
    """What the browser saw."""

    errors: list[str]
    metrics: list[str]
    title: str
    tables: int


def find_chromium() -> str | None:
    """Return the Chromium binary, or None when it is not installed."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


async def capture(url: str, png: Path, timeout_s: float = 60.0, settle_s: float = 2.0) -> PageShot:
    """Open `url` in headless Chromium, wait for Streamlit to settle, screenshot it to `png`."""
    binary = find_chromium()
    assert binary, "chromium is not installed (apt-get install -y chromium)"
    # Chromium's helper processes may still be writing the profile while it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--headless=new",
            "--no-sandbox",  # containers and root: the sandbox needs privileges they lack
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1800,1000",
            "--remote-debugging-port=0",
            # Closed network: no background fetches, updates or sync.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped whole, helpers included
        )
        try:
            socket_url = await _page_socket(Path(profile), timeout_s)
            async with websockets.connect(socket_url, max_size=None) as ws:
                cdp = _Cdp(ws)
                await cdp.call("Page.navigate", url=url)
                await _settle(cdp, timeout_s, settle_s)
                seen = json.loads(await cdp.evaluate(READ))
                shot = await cdp.call("Page.captureScreenshot", format="png")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            await proc.wait()
    await asyncio.to_thread(_save, png, base64.b64decode(shot["data"]))
    return PageShot(**seen)


def _save(png: Path, data: bytes) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(data)


class _Cdp:
    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        await self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:  # skip events until our answer arrives
            answer = json.loads(await self._ws.recv())
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


async def _page_socket(profile: Path, timeout_s: float) -> str:
    # With --remote-debugging-port=0 Chromium writes the port it chose into the profile.
    port_file = profile / "DevToolsActivePort"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not port_file.exists() or not port_file.read_text().strip():
        if loop.time() > deadline:
            raise TimeoutError("chromium did not open its DevTools port")
        await asyncio.sleep(0.1)
    port = port_file.read_text().split()[0]
    async with httpx.AsyncClient() as client:
        targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
    page = next(t for t in targets if t["type"] == "page")
    socket_url: str = page["webSocketDebuggerUrl"]
    return socket_url


async def _settle(cdp: _Cdp, timeout_s: float, settle_s: float) -> None:
    # Settled = rendered and idle for `settle_s` in a row (Streamlit may rerun once on load).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    quiet_since: float | None = None
    while True:
        if await cdp.evaluate(SETTLED):
            quiet_since = quiet_since or loop.time()
            if loop.time() - quiet_since >= settle_s:
                return
        else:
            quiet_since = None
        if loop.time() > deadline:
            raise TimeoutError("the dashboard never finished rendering")
        await asyncio.sleep(0.25)
