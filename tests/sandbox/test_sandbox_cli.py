"""The CLI against a real background sandbox: up, status --json, fund, faults, reorg, down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import sandbox_cli

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def test_up_status_down(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"PROJECTK_DATA_DIR": str(tmp_path)}
    up = runner.invoke(sandbox_cli, ["up", "--block-time", "1"], env=env)
    try:
        assert up.exit_code == 0, up.output
        status = runner.invoke(sandbox_cli, ["status", "--json"], env=env)
        state = json.loads(status.output)
        assert state["running"] and state["chain_id"] == 137
        assert state["contracts"]["ctf_exchange_v2"] == "0xE111180000d2663C0091e4f400237545B87B996B"
        assert state["contracts"]["exchange_v3"] == "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
        markets = state["markets"]
        assert all(len(m["tokens"]) == 2 for m in markets)
        assert {m["version"] for m in markets} == {"v1", "v2"}
        assert {m["fee"]["rate"] != "0" for m in markets} == {True, False}
        election = [m for m in markets if m["event_slug"] == "sandbox-election"]
        assert len(election) >= 3 and all(m["neg_risk"] for m in election)
        created = runner.invoke(
            sandbox_cli,
            [
                "create-market",
                "CLI v2?",
                "--slug",
                "cli-v2",
                "--version",
                "v2",
                "--fee-rate",
                "0.02",
            ],
            env=env,
        )
        assert created.exit_code == 0, created.output
        made = json.loads(created.output)
        assert (made["version"], made["fee"]["rate"]) == ("v2", "0.02")
        assert int(made["tokens"][1]["token_id"]) == int(made["condition_id"], 16) + 1
        assert state["accounts"]["demo"][0]["private_key"].startswith("0x")
        funded = runner.invoke(
            sandbox_cli,
            ["fund", "0x000000000000000000000000000000000000dEaD", "--pusd", "5", "--pol", "1"],
            env=env,
        )
        assert funded.exit_code == 0, funded.output
        faults = runner.invoke(sandbox_cli, ["faults", "--latency-ms", "1"], env=env)
        assert json.loads(faults.output)["latency_ms"] == 1
        venue_faults = [
            "faults", "--trades-delay", "1.5", "--hide-matched-taker", "--hide-closed",
            "--post-lost-rate", "0.2", "--rpc-lag-blocks", "2", "--rpc-lag-rate", "0.5",
        ]  # fmt: skip
        set_ = json.loads(runner.invoke(sandbox_cli, venue_faults, env=env).output)
        assert (set_["trades_delay_s"], set_["hide_matched_taker"], set_["hide_closed"]) == (
            1.5,
            True,
            True,
        )
        assert (set_["post_lost_rate"], set_["rpc_lag_blocks"], set_["rpc_lag_rate"]) == (
            0.2,
            2,
            0.5,
        )
        assert state["rpc_proxy_url"] == f"{state['clob_url']}/rpc"
        reorg = runner.invoke(sandbox_cli, ["reorg", "--depth", "2", "--shift", "2"], env=env)
        assert reorg.exit_code == 0, reorg.output
        moved = json.loads(reorg.output)
        assert moved["new_head"] > moved["old_head"] and moved["dropped"] == []
    finally:
        down = runner.invoke(sandbox_cli, ["down"], env=env)
    assert down.exit_code == 0
    assert json.loads(runner.invoke(sandbox_cli, ["status", "--json"], env=env).output) == {
        "running": False
    }


async def test_async_context_manager_cleans_up() -> None:
    import os

    import httpx

    from sandbox.runtime import Sandbox, SandboxOptions

    async with Sandbox(SandboxOptions(demo_markets=False, market_maker=False)) as sb:
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{sb.info['clob_url']}/ok")).json() == "OK"
        pids = sb.info["pids"]
    for pid in pids.values():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"process {pid} still running")
