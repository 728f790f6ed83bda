"""The README's Operations table, typed as a newcomer types it: `projectk dev up`, `projectk
sandbox up`, `projectk wallet add`, `projectk worker` and `projectk pair add`, each a process of
its own, with no `PROJECTK_*` setting but the vault passphrase the table shows. A source's BUY
and then its SELL on a sandbox market are both mirrored: the ledger has a FILLED mirror of each,
and what the pair holds is what the follower holds on chain after each of them.

Isolation is by `HOME` alone (not a ProjectK setting): the default data directory `~/.projectk`,
with the dev server's state, the sandbox's ready file, the vault and the ledger, is the test's
own. The dev server then binds its default ports (127.0.0.1:7233, UI :8233), as the README's
does; the session's own Temporal servers (`tests/temporal_env.py`) take free ephemeral ports, so
they never hold these. When another process holds them, the README path cannot run here and the
test says so instead of letting the commands reach someone else's server.

Found by hand: started this way, every SELL mirror failed, because the worker read the source's
balance from the default RPC URL (127.0.0.1:8545) instead of the running sandbox's chain. On that
code this test fails at "a FILLED SELL mirror", the worker log showing `token_balance` refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from web3 import Web3

from adapters.ledger import Ledger, OrderRecord, OrderStatus, create_ledger_engine
from projectk.models import MICRO, Side
from projectk.policy import SHARE_STEP_MICRO
from tests.e2e.sandbox_flow import balance, trade

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "readme passphrase, not a secret"
DEFAULT_PORTS = {7233: "Temporal gRPC", 8233: "Temporal UI"}  # `dev up` with no setting
PAIR = "readme"
MARKET = "projectk-demo-yes"  # quoted by the sandbox's market maker around 0.50
SOURCE_SHARES = 20  # the source BUYs at limit 0.52; the market maker asks 0.51
COMMAND_BOUND_S = 180.0  # one short command (a scrypt vault, a dev server start) on a busy machine
MIRROR_BOUND_S = 240.0  # a source trade seen on chain, mirrored, settled and booked
STOP_BOUND_S = 60.0
LOG_TAIL_LINES = 80
HTTPX_LINE = " INFO httpx: HTTP Request: "


def _projectk_command() -> list[str]:
    # The installed `projectk` script beside the interpreter, as `uv run projectk` finds it.
    script = Path(sys.executable).parent / "projectk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _readme_env(home: Path, *, passphrase: bool = False) -> dict[str, str]:
    """Return the environment of a newcomer's shell: a HOME of its own, no ProjectK setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTK_")}
    env["HOME"] = str(home)
    if passphrase:
        env["PROJECTK_VAULT_PASSPHRASE"] = PASSPHRASE
    return env


def projectk(home: Path, *args: str, stdin: str = "", passphrase: bool = False) -> str:
    """Run one `projectk` command to its end and return its output; fail on a non-zero exit."""
    done = subprocess.run(
        [*_projectk_command(), *args],
        cwd=REPO,
        env=_readme_env(home, passphrase=passphrase),
        input=stdin.encode(),
        capture_output=True,
        timeout=COMMAND_BOUND_S,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, f"projectk {' '.join(args)} exited {done.returncode}:\n{out}{err}"
    return out


def _held(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _tail(path: Path) -> str:
    # The last lines but httpx's one line per request (the chain tail polls several a second).
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} is missing)"
    return "\n".join([line for line in lines if HTTPX_LINE not in line][-LOG_TAIL_LINES:])


class Worker:
    """The `projectk worker` process, its output in a log file."""

    def __init__(self, home: Path) -> None:
        self.log = home / "worker.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*_projectk_command(), "worker"],
                cwd=REPO,
                env=_readme_env(home, passphrase=True),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def report(self) -> str:
        """Return the worker's state and the tail of its log, for a failure message."""
        code = self.proc.poll()
        alive = "running" if code is None else f"exited with {code}"
        return f"worker {alive}; last lines of {self.log}:\n{_tail(self.log)}"

    def stop(self) -> None:
        """Stop the worker as an operator does (SIGTERM), killing it only when it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_BOUND_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the worker ignored SIGTERM for {STOP_BOUND_S:g}s\n{self.report()}")


def eventually(worker: Worker, what: str, check: Callable[[], Any], bound_s: float) -> Any:
    """Poll `check` until it returns something truthy; fail with the worker's log otherwise."""
    deadline = time.monotonic() + bound_s
    last: Any = None
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            break
        try:
            last = check()
        except (AssertionError, subprocess.TimeoutExpired) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(1.0)
    pytest.fail(f"not within {bound_s:g}s: {what} (last: {last!r})\n{worker.report()}")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Return an empty HOME for the README's processes, once the default ports are known free."""
    taken = [f"127.0.0.1:{port} ({what})" for port, what in DEFAULT_PORTS.items() if _held(port)]
    if taken:
        # The README's `dev up` would refuse, and its worker and pair commands would talk to
        # whatever holds the port: not a test of the README path.
        pytest.skip(f"the README's default Temporal ports are held by another process: {taken}")
    home = tmp_path / "home"
    home.mkdir()
    return home


def start_services(home: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    """Run `dev up` and `sandbox up` as the table says (each stopped on exit); return the
    sandbox's `status --json`."""
    started = projectk(home, "dev", "up")
    stack.callback(projectk, home, "dev", "down")
    # Started here, on the default port: the server every later command reaches with no setting.
    assert "Temporal dev server started" in started and "127.0.0.1:7233" in started, started
    stack.callback(projectk, home, "sandbox", "down")
    projectk(home, "sandbox", "up")  # returns once the sandbox runs in the background
    info: dict[str, Any] = json.loads(projectk(home, "sandbox", "status", "--json"))
    assert info["running"], info
    return info


def yes_token(info: dict[str, Any]) -> str:
    """Return the Yes token of the demo market the market maker quotes."""
    [market] = [m for m in info["markets"] if m["slug"] == MARKET]
    [token] = [t["token_id"] for t in market["tokens"] if t["outcome"] == "Yes"]
    return str(token)


def source_client(info: dict[str, Any], private_key: str) -> ClobClient:
    """Return the source's authenticated CLOB client on the sandbox."""
    client = ClobClient(info["clob_url"], info["chain_id"], key=private_key)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def pair_state(home: Path) -> dict[str, Any]:
    """Return the pair's live state as `projectk pair show` prints it."""
    state: dict[str, Any] = json.loads(projectk(home, "pair", "show", PAIR))
    return state


def settled(home: Path, w3: Web3, follower: str, token: str) -> tuple[int, int] | None:
    """Return (pair's shares, follower's shares on chain) once nothing is in flight and they
    agree; None before."""
    state = pair_state(home)
    held = int(state["positions"].get(token, {}).get("shares_micro", 0))
    on_chain = balance(w3, follower, token)
    return (held, on_chain) if not state["in_flight"] and held == on_chain else None


def filled(ledger: Ledger, side: Side) -> OrderRecord | None:
    """Return the pair's FILLED mirror order of a side, if the ledger has one."""
    orders = ledger.list_orders(pair_id=PAIR)
    return next((o for o in orders if o.side is side and o.status is OrderStatus.FILLED), None)


def register_pair(home: Path, stack: contextlib.ExitStack, info: dict[str, Any]) -> Worker:
    """Put the follower's key in the vault, start the worker and add the pair, as the table
    says; return the worker once it runs the pair."""
    source, follower = info["accounts"]["demo"][0], info["accounts"]["demo"][1]
    key = follower["private_key"]
    added = projectk(home, "wallet", "add", "follower", "--stdin", stdin=key, passphrase=True)
    assert added.split() == ["vault://follower", follower["address"]], added
    worker = Worker(home)
    stack.callback(worker.stop)
    projectk(
        home,
        *("pair", "add", PAIR, "--source", source["address"]),
        *("--follower", follower["address"], "--key-ref", "vault://follower"),
        *("--budget", "50"),
    )
    # Only a worker answers a query: once `pair show` answers, the worker runs the pair.
    eventually(worker, "`pair show` answered", lambda: pair_state(home), COMMAND_BOUND_S)
    return worker


def test_the_readme_commands_mirror_a_sources_buy_and_sell(home: Path) -> None:
    with contextlib.ExitStack() as stack:
        info = start_services(home, stack)
        worker = register_pair(home, stack, info)
        engine = create_ledger_engine(f"sqlite:///{home / '.projectk' / 'ledger.db'}")
        stack.callback(engine.dispose)
        ledger = Ledger(engine)
        w3 = Web3(Web3.HTTPProvider(info["rpc_url"]))
        source, follower = (a["address"] for a in info["accounts"]["demo"][:2])
        token = yes_token(info)
        client = source_client(info, info["accounts"]["demo"][0]["private_key"])

        def mirrored(side: Side) -> tuple[OrderRecord, tuple[int, int]]:
            # The side's FILLED mirror, then the pair's books and the chain agreeing on it.
            order = eventually(
                worker, f"a FILLED {side} mirror", lambda: filled(ledger, side), MIRROR_BOUND_S
            )
            agreed = eventually(
                worker,
                f"the pair's books and the chain agree after the {side}",
                lambda: settled(home, w3, follower, token),
                MIRROR_BOUND_S,
            )
            return order, agreed

        assert trade(client, token, "BUY", 0.52, SOURCE_SHARES).get("status") == "matched"
        buy, after_buy = mirrored(Side.BUY)
        assert buy.filled_shares_micro > 0 and after_buy == (buy.filled_shares_micro,) * 2, buy

        # The source sells all it holds (the CLOB takes sizes in whole share steps).
        holding = eventually(worker, "the source's shares", lambda: balance(w3, source, token), 60)
        size = (holding - holding % SHARE_STEP_MICRO) / MICRO
        assert trade(client, token, "SELL", 0.48, size).get("status") == "matched"
        sell, (left, _) = mirrored(Side.SELL)
        shown = (buy, sell, holding, left)
        assert left < SHARE_STEP_MICRO, shown  # so the follower is out, but for a dust below that
        assert sell.filled_shares_micro == buy.filled_shares_micro - left, shown
        mirrors = sorted((o.side, o.status) for o in ledger.list_orders(pair_id=PAIR))
        assert mirrors == [(Side.BUY, OrderStatus.FILLED), (Side.SELL, OrderStatus.FILLED)], mirrors
