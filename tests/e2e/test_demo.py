"""`projectk demo` (the README's first command), end to end, run twice in the same data directory:
the second run starts from a clean chain state and mirrors again, also when the first run's dev
server was left running (as a demo killed hard leaves it).

Found by hand: the second run used to fail ("workflow already started"), and once that was fixed,
mirrored nothing, because the first run's ledger put the new pairs' cursor past the new chain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli.tools import devserver
from cli.tools.demo import (
    DemoError,
    DemoOptions,
    demo_lock,
    demo_settings,
    forget_previous_chain,
    run_demo,
)
from projectk.settings import load_settings
from sandbox.runtime import free_port

REPORT = re.compile(r"^\s+(demo-\S+)\s+(\w+)\s+fills\s+(\d+)\s+mirrors\s+(\d+)")


def _last_report(lines: list[str]) -> dict[str, tuple[int, int]]:
    report: dict[str, tuple[int, int]] = {}
    for line in lines:
        match = REPORT.match(line)
        if match:
            report[match[1]] = (int(match[3]), int(match[4]))
    return report


@pytest.mark.sandbox
@pytest.mark.devserver
@pytest.mark.slow
async def test_the_demo_mirrors_the_scripted_trader_each_time_it_runs(tmp_path: Path) -> None:
    base = load_settings(
        data_dir=tmp_path,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        dashboard_url=f"http://127.0.0.1:{free_port()}",
    )
    server = devserver.DevServerConfig.from_settings(demo_settings(base))
    for run in range(2):
        if run == 1:
            # The first demo's server brought back up, with its pairs still running on the
            # first chain: as a demo killed hard leaves it.
            await devserver.start(server)
        lines: list[str] = []
        try:
            await run_demo(base, DemoOptions(duration_s=35, block_time_s=1), lines.append)
        finally:
            devserver.stop(server)
        report = _last_report(lines)
        assert set(report) == {"demo-fixed", "demo-proportional"}, lines
        for fills, mirrors in report.values():
            assert fills >= 3 and mirrors == fills, lines
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
