"""`projectk demo` (the README's first command), end to end, run twice in the same data directory:
the second run starts from a clean chain state and mirrors again.

Found by hand: the second run used to fail ("workflow already started"), and once that was fixed,
mirrored nothing, because the first run's ledger put the new pairs' cursor past the new chain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from projectk.demo import DemoOptions, forget_previous_chain, run_demo
from projectk.settings import load_settings
from sandbox.runtime import free_port

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]

REPORT = re.compile(r"^\s+(demo-\S+)\s+(\w+)\s+fills\s+(\d+)\s+mirrors\s+(\d+)")


def _last_report(lines: list[str]) -> dict[str, tuple[int, int]]:
    report: dict[str, tuple[int, int]] = {}
    for line in lines:
        match = REPORT.match(line)
        if match:
            report[match[1]] = (int(match[3]), int(match[4]))
    return report


async def test_the_demo_mirrors_the_scripted_trader_each_time_it_runs(tmp_path: Path) -> None:
    base = load_settings(
        data_dir=tmp_path,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        dashboard_url=f"http://127.0.0.1:{free_port()}",
    )
    for _ in range(2):
        lines: list[str] = []
        await run_demo(base, DemoOptions(duration_s=35, block_time_s=1), lines.append)
        report = _last_report(lines)
        assert set(report) == {"demo-fixed", "demo-proportional"}, lines
        for fills, mirrors in report.values():
            assert fills >= 3 and mirrors == fills, lines
        assert "Temporal dev server stopped" in lines


def test_a_demo_forgets_only_the_previous_chains_records(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, temporal_address=f"127.0.0.1:{free_port()}")
    keep = [tmp_path / "vault.json", tmp_path / "worker.log"]
    stale = [
        tmp_path / "ledger.db",
        tmp_path / "ledger.db-wal",
        tmp_path / "detection.json",
        tmp_path / "temporal" / "dev.db",
    ]
    for path in keep + stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert sorted(forget_previous_chain(settings)) == sorted(stale)
    assert all(path.exists() for path in keep) and not any(path.exists() for path in stale)
