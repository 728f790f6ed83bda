"""Start and stop a whole sandbox (anvil + the CLOB server process) from Python or the CLI.

Invariants: each Sandbox uses its own state directory and free loopback ports, so several can run
side by side (tests); ``stop`` ends exactly the processes this Sandbox started, by pid; the state
file (``state.json``) is written only once the CLOB answers and holds what ``status --json`` prints.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from sandbox.chain import AnvilProcess
from sandbox.node import SANDBOX_DIR, ensure_node_modules

STATE_FILE = "state.json"
READY_FILE = "ready.json"


def default_data_dir() -> Path:
    """Return $PROJECTK_DATA_DIR or ~/.projectk."""
    return Path(os.environ.get("PROJECTK_DATA_DIR") or Path.home() / ".projectk")


def free_port() -> int:
    """Return a currently free loopback TCP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class SandboxOptions:
    """How to run a sandbox."""

    block_time_s: float = 0.0
    demo_markets: bool = True
    market_maker: bool = True
    mm_interval_s: float = 1.0
    gtd_security_s: int = 60
    page_limit: int = 100
    faults: dict[str, Any] = field(default_factory=dict)
    detached: bool = False


class Sandbox:
    """One running sandbox; use ``with``/``async with`` or start()/stop()."""

    def __init__(
        self, options: SandboxOptions | None = None, state_dir: Path | None = None
    ) -> None:
        self.options = options or SandboxOptions()
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="projectk-sandbox-"))
        self.anvil: AnvilProcess | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Start anvil and the server; return the state (also written to state.json)."""
        ensure_node_modules()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ready = self.state_dir / READY_FILE
        ready.unlink(missing_ok=True)
        self.anvil = AnvilProcess(
            free_port(), log_path=self.state_dir / "anvil.log", detached=self.options.detached
        )
        self.anvil.start()
        try:
            self.server = self._spawn_server(ready)
            self.info = self._wait_ready(ready, timeout_s)
        except BaseException:
            self.stop()
            raise
        self.info["pids"] = {
            "anvil": self.anvil.proc.pid if self.anvil.proc else None,
            "server": self.server.pid,
        }
        self.info["state_dir"] = str(self.state_dir)
        if not self.options.detached:
            atexit.register(self.stop)  # never leave children behind if the caller forgets
        (self.state_dir / STATE_FILE).write_text(json.dumps(self.info, indent=2))
        return self.info

    def _spawn_server(self, ready: Path) -> subprocess.Popen[bytes]:
        assert self.anvil is not None
        o = self.options
        cmd = [
            sys.executable,
            "-m",
            "sandbox.server",
            "--rpc-url",
            self.anvil.url,
            "--ready-file",
            str(ready),
            "--block-time",
            str(o.block_time_s),
            "--mm-interval",
            str(o.mm_interval_s),
            "--gtd-security",
            str(o.gtd_security_s),
            "--page-limit",
            str(o.page_limit),
            "--faults",
            json.dumps(o.faults),
        ]
        cmd += [] if o.demo_markets else ["--no-demo-markets"]
        cmd += [] if o.market_maker else ["--no-market-maker"]
        log = open(self.state_dir / "server.log", "ab")  # noqa: SIM115 - handed to the child
        env = {**os.environ, "PYTHONPATH": str(SANDBOX_DIR.parent)}
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=SANDBOX_DIR.parent,
            env=env,
            start_new_session=o.detached,
        )

    def _wait_ready(self, ready: Path, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.server is not None and self.server.poll() is not None:
                tail = (self.state_dir / "server.log").read_text()[-3000:]
                raise RuntimeError(f"sandbox server exited with {self.server.returncode}:\n{tail}")
            if ready.exists():
                data: dict[str, Any] = json.loads(ready.read_text())
                return data
            time.sleep(0.05)
        raise TimeoutError(f"sandbox not ready after {timeout_s}s (see {self.state_dir})")

    def stop(self) -> None:
        """Stop the server and anvil (only the processes this object started)."""
        if self.server is not None:
            _terminate(self.server)
            self.server = None
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None
        atexit.unregister(self.stop)

    # -- conveniences for tests and tools -----------------------------------------------------
    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call an admin route (GET without body, POST with)."""
        url = f"{self.info['admin_url']}{path}"
        with httpx.Client(timeout=60, trust_env=False) as http:
            resp = http.post(url, json=body) if body is not None else http.get(url)
        resp.raise_for_status()
        return resp.json()

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Change fault injection at run time (``reset=True`` first clears everything)."""
        result: dict[str, Any] = self.admin("/faults", changes)
        return result

    def reorg(self, depth: int, drop: tuple[str, ...] = (), shift: int = 1) -> dict[str, Any]:
        """Roll back ``depth`` blocks and re-include their transactions except ``drop``.

        Returns ``{"old_head", "new_head", "dropped", "reincluded": {old_hash: new_hash}}``.
        """
        body = {"depth": depth, "drop": list(drop), "shift": shift}
        result: dict[str, Any] = self.admin("/reorg", body)
        return result

    def create_market(self, question: str, slug: str | None = None, **spec: Any) -> dict[str, Any]:
        """Create and list a new binary market; return its description."""
        result: dict[str, Any] = self.admin(
            "/markets", {"question": question, "slug": slug, **spec}
        )
        return result

    def fund(
        self, address: str, pusd: str = "0", pol: str | None = None, approve: bool = False
    ) -> None:
        """Mint pUSD, set POL and optionally approve the exchanges for any address."""
        self.admin("/fund", {"address": address, "pusd": pusd, "pol": pol, "approve": approve})

    def split(self, market: str, address: str, amount: str) -> None:
        """Give an unlocked (test) account ``amount`` Yes and No shares of a market."""
        self.admin("/split", {"market": market, "address": address, "amount": amount})

    def resolve(self, market: str, outcome: str) -> dict[str, Any]:
        """Resolve a market (condition id or slug) to Yes or No."""
        result: dict[str, Any] = self.admin("/resolve", {"market": market, "outcome": outcome})
        return result

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Sandbox:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
