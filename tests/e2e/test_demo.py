"""`projectk demo` (the README's first command), end to end.

Run twice in the same data directory, it mirrors the scripted trader each time: the second run
starts from a clean chain state, also when the first run's dev server was left running (as a demo
killed hard leaves it). When its time is up it drains: its summary accounts for every source fill,
none left in flight, also on a busy machine. Stopped by SIGTERM, it stops everything it started.

Found by hand: the second run used to fail ("workflow already started"), and once that was fixed,
mirrored nothing, because the first run's ledger put the new pairs' cursor past the new chain. On
a busy machine the last fill used to be still in flight when the demo stopped.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.ledger import OrderStatus
from cli.tools import devserver
from cli.tools.demo import (
    DemoError,
    DemoOptions,
    demo_lock,
    demo_settings,
    forget_previous_chain,
    run_demo,
)
from cli.tools.demo_summary import DemoSummary
from projectk.settings import load_settings
from sandbox.runtime import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_BOUND_S = 300.0  # sandbox, dev server, two vault keys and a worker on a busy machine
STOP_BOUND_S = 120.0


def _listen_port() -> int:
    """Return a free loopback port below the kernel's ephemeral range.

    `free_port` hands out an ephemeral port: on a busy machine an outgoing connection can take it
    in the minute before the demo's dev server or dashboard binds it.
    """
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    rng = random.Random()
    for _ in range(100):
        port = rng.randrange(20000, low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port below the ephemeral range")


def _assert_accounts_for_every_fill(summary: DemoSummary, lines: list[str]) -> None:
    assert summary.drained, lines
    assert [p.pair_id for p in summary.pairs] == ["demo-fixed", "demo-proportional"]
    for pair in summary.pairs:
        skipped = pair.count(OrderStatus.SKIPPED)
        assert pair.fills_seen >= 3 and pair.in_flight == 0, lines
        assert pair.mirrored >= 1 and pair.mirrored + skipped == pair.fills_seen, lines
        assert all(o.reason for o in pair.orders if o.status is OrderStatus.SKIPPED), lines
        shown = f"  {pair.pair_id} ({pair.status}): {pair.fills_seen} source fills seen: "
        assert any(line.startswith(shown + f"{pair.mirrored} mirrored") for line in lines), lines
    assert any(line.startswith("summary (every fill settled") for line in lines), lines


@pytest.mark.sandbox
@pytest.mark.devserver
@pytest.mark.slow
async def test_the_demo_mirrors_the_scripted_trader_each_time_it_runs(tmp_path: Path) -> None:
    base = load_settings(
        data_dir=tmp_path,
        temporal_address=f"127.0.0.1:{_listen_port()}",
        temporal_ui_port=_listen_port(),
        dashboard_url=f"http://127.0.0.1:{_listen_port()}",
    )
    server = devserver.DevServerConfig.from_settings(demo_settings(base))
    for run in range(2):
        if run == 1:
            # The first demo's server brought back up, with its pairs still running on the
            # first chain: as a demo killed hard leaves it.
            await devserver.start(server)
        lines: list[str] = []
        try:
            summary = await run_demo(base, DemoOptions(duration_s=35, block_time_s=1), lines.append)
        finally:
            devserver.stop(server)
        _assert_accounts_for_every_fill(summary, lines)
        assert "Temporal dev server stopped" in lines
        left_running = [line for line in lines if "that an earlier demo left running" in line]
        assert len(left_running) == run, lines


def test_a_demo_forgets_only_the_previous_chains_records(tmp_path: Path) -> None:
    base = load_settings(data_dir=tmp_path, temporal_address=f"127.0.0.1:{free_port()}")
    settings = demo_settings(base)
    demo = settings.data_dir
    keep = [demo / "vault.json", demo / "worker.log", tmp_path / "ledger.db"]
    stale = [
        demo / "ledger.db",
        demo / "ledger.db-wal",
        demo / "detection.json",
        demo / "temporal" / "dev.db",
    ]
    for path in keep + stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert sorted(forget_previous_chain(settings, print)) == sorted(stale)
    assert all(path.exists() for path in keep) and not any(path.exists() for path in stale)


def test_only_a_demo_directory_is_ever_cleared(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    (tmp_path / "ledger.db").write_text("an operator's real ledger")
    with pytest.raises(DemoError, match="not a demo data directory"):
        forget_previous_chain(settings, print)
    assert (tmp_path / "ledger.db").read_text() == "an operator's real ledger"


async def test_a_second_demo_on_the_same_data_is_refused_before_it_changes_anything(
    tmp_path: Path,
) -> None:
    base = load_settings(data_dir=tmp_path, temporal_address=f"127.0.0.1:{free_port()}")
    ledger = demo_settings(base).data_dir / "ledger.db"
    ledger.parent.mkdir(parents=True)
    ledger.write_text("the running demo's ledger")
    lines: list[str] = []
    with demo_lock(ledger.parent), pytest.raises(DemoError, match="another demo is running"):
        await run_demo(base, DemoOptions(duration_s=1), lines.append)
    assert ledger.read_text() == "the running demo's ledger" and lines == []


def _demo_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTK_")}
    env.update(
        PROJECTK_DATA_DIR=str(data_dir),
        PROJECTK_TEMPORAL_ADDRESS=f"127.0.0.1:{_listen_port()}",
        PROJECTK_TEMPORAL_UI_PORT=str(_listen_port()),
        PROJECTK_DASHBOARD_URL=f"http://127.0.0.1:{_listen_port()}",
    )
    return env


def _wait_for(proc: subprocess.Popen[bytes], out: Path, text: str) -> str:
    deadline = time.monotonic() + STARTUP_BOUND_S
    while time.monotonic() < deadline:
        shown = out.read_text()
        if text in shown:
            return shown
        if proc.poll() is not None:
            pytest.fail(f"the demo ended ({proc.returncode}) before {text!r}:\n{shown}")
        time.sleep(0.5)
    pytest.fail(f"no {text!r} within {STARTUP_BOUND_S:g}s:\n{out.read_text()}")


def _live_ours(data_dir: Path) -> dict[int, str]:
    # Live processes (pid -> name) carrying `data_dir` in their environment, as everything the
    # demo starts does; zombies are dead.
    mark = f"PROJECTK_DATA_DIR={data_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ours = mark in (entry / "environ").read_bytes()
        except OSError:
            continue
        name, _, rest = stat.rpartition(")")
        if ours and rest.split()[0] not in ("Z", "X"):
            found[int(entry.name)] = name.partition("(")[2]
    return found


@pytest.fixture
def demo_dir(tmp_path: Path) -> Iterator[Path]:
    """Yield a data directory for a demo process; whatever it leaves running is killed."""
    yield tmp_path
    for pid in _live_ours(tmp_path):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.sandbox
@pytest.mark.devserver
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_a_demo_stopped_by_sigterm_stops_everything_it_started(demo_dir: Path) -> None:
    out, err = demo_dir / "demo.out", demo_dir / "demo.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "demo", "--duration", "300"],
            cwd=REPO,
            env=_demo_env(demo_dir),
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: the sandbox it starts lands in it
        )
    shown = _wait_for(proc, out, "registered pair demo-proportional")
    dev_pid = demo_dir / "demo" / "temporal" / "dev.pid"
    # The demo, its worker and dashboard, anvil, the sandbox server and the dev server.
    started = {proc.pid, int(dev_pid.read_text())}
    started |= {int(pid) for pid in re.findall(r"\bpid (\d+)", shown)}
    assert len(started) == 6 and started <= set(_live_ours(demo_dir)), shown
    proc.send_signal(signal.SIGTERM)  # as `kill` does: to the demo alone, not its group
    proc.wait(timeout=STOP_BOUND_S)
    shown = out.read_text()
    assert proc.returncode == 0 and "demo interrupted (stopped by SIGTERM)" in shown, shown
    deadline = time.monotonic() + 10
    while _live_ours(demo_dir) and time.monotonic() < deadline:
        time.sleep(0.2)  # a group's SIGKILL lands a moment after it is sent
    assert _live_ours(demo_dir) == {} and not dev_pid.exists()
    library_lines = [line for line in err.read_text().splitlines() if " INFO " in line]
    assert library_lines == [] and " INFO alembic" in (demo_dir / "demo" / "demo.log").read_text()
