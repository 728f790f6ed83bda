"""`projectk doctor`: each check passing and failing, on local files, the sandbox (a real RPC on
chain 137 with pUSD at the production address, and a CLOB) and a dev server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from adapters.chain import RpcPool
from adapters.ledger import open_ledger
from adapters.vault import Vault
from cli import main
from cli.tools.doctor import (
    check_clob,
    check_follower,
    check_ledger,
    check_rpc,
    check_temporal,
    check_vault,
    line,
    run_doctor,
)
from projectk.health import Check, Health
from projectk.models import PairConfig, PairStatus
from projectk.settings import Settings
from sandbox.runtime import Sandbox, SandboxOptions, free_port
from tests.settings_env import make_settings
from tests.temporal_env import env_address
from tests.workflows.harness import pair_config

FOLLOWER_A = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # the address of conftest.KEY_A


def _healths(results: list[Check]) -> list[Health]:
    return [r.health for r in results]


def _register(settings: Settings, pair: PairConfig) -> None:
    ledger = open_ledger(settings)
    ledger.upsert_pair(pair, PairStatus.ACTIVE)
    ledger.engine.dispose()


# -- settings, ledger and vault ----------------------------------------------------------------


def test_invalid_settings_fail_with_the_variable_named() -> None:
    env = {"PROJECTK_POLYMARKET_CHAIN_ID": "-1", "PROJECTK_RPC_URLS": "ftp://x"}
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 1
    assert "[FAIL] settings:" in result.output and "fix: correct the variable" in result.output
    assert "PROJECTK_POLYMARKET_CHAIN_ID" in result.output and "PROJECTK_RPC_URLS" in result.output


async def test_valid_settings_pass(settings: Settings) -> None:
    port = free_port()
    offline = make_settings(settings.data_dir, temporal_address=f"127.0.0.1:{port}")
    [first, *_] = await run_doctor(offline)
    assert first.health is Health.OK and first.name == "settings"


def test_every_health_prints_as_a_doctor_line() -> None:
    failed = Check("ledger", Health.FAILED, "no ledger file", "run `projectk setup`")
    assert line(failed) == "[FAIL] ledger: no ledger file\n       fix: run `projectk setup`"
    skipped = Check("key refs", Health.NOT_CHECKED, "ledger unavailable")
    assert line(skipped) == "[SKIP] key refs: ledger unavailable"
    labels = {line(Check("x", health, "d")).split()[0] for health in Health}
    assert labels == {"[PASS]", "[WARN]", "[FAIL]", "[SKIP]"}


# -- ledger and vault ----------------------------------------------------------


def test_ledger_missing_fails_then_passes_once_migrated(settings: Settings) -> None:
    result, pairs = check_ledger(settings)
    assert result.health is Health.FAILED and "projectk setup" in result.fix and pairs is None
    _register(settings, pair_config("p1", follower=FOLLOWER_A))
    result, pairs = check_ledger(settings)
    assert result.health is Health.OK, line(result)
    assert pairs is not None and [p.pair_id for p in pairs] == ["p1"]


def test_ledger_unreachable_database_fails(settings: Settings) -> None:
    port = free_port()
    bad = make_settings(settings.data_dir, db_url=f"postgresql://u:pw@127.0.0.1:{port}/x")
    result, _ = check_ledger(bad)
    assert result.health is Health.FAILED and "PROJECTK_DB_URL" in result.fix
    assert "pw" not in line(result)


def test_vault_passes_and_each_key_ref_is_checked(settings: Settings, vault: Vault) -> None:
    pairs = [
        pair_config("good", follower=FOLLOWER_A, key_ref="vault://follower"),
        pair_config("missing", follower=FOLLOWER_A, key_ref="vault://nobody"),
        pair_config("other", key_ref="vault://follower"),  # the key is not the follower's
    ]
    results = check_vault(settings, pairs)
    assert _healths(results) == [Health.OK, Health.OK, Health.FAILED, Health.FAILED]
    assert "projectk wallet add nobody" in results[2].fix
    assert "follower is" in results[3].detail


def test_vault_wrong_or_missing_passphrase_fails(settings: Settings, vault: Vault) -> None:
    for phrase in ("wrong passphrase", None):
        bad = make_settings(settings.data_dir, vault_passphrase=phrase)
        [result, *_] = check_vault(bad, [])
        assert result.health is Health.FAILED and "PROJECTK_VAULT_PASSPHRASE" in result.fix


# -- network checks that fail without any server ---------------------------------------------


async def test_unreachable_rpc_clob_and_temporal_fail_with_a_fix(settings: Settings) -> None:
    port = free_port()
    bad = make_settings(
        settings.data_dir,
        rpc_urls=f"http://127.0.0.1:{port}/?key=SECRETKEY",
        sandbox_clob_url=f"http://127.0.0.1:{port}",
        temporal_address=f"127.0.0.1:{port}",
    )
    [rpc] = await check_rpc(bad)
    clob = await check_clob(bad)
    nowhere = await check_clob(make_settings(settings.data_dir))
    assert nowhere.health is Health.FAILED and "projectk sandbox up" in nowhere.fix
    temporal = await check_temporal(bad)
    for result in (rpc, clob, temporal):
        assert result.health is Health.FAILED and result.fix, line(result)
    assert "SECRETKEY" not in line(rpc)


# -- against the sandbox ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """Yield a sandbox without market maker or demo markets (only chain, pUSD and the CLOB)."""
    with Sandbox(SandboxOptions(demo_markets=False, market_maker=False)) as sb:
        yield sb


def _on_sandbox(settings: Settings, sb: Sandbox, **overrides: object) -> Settings:
    values = {"rpc_urls": sb.info["rpc_url"], "sandbox_clob_url": sb.info["clob_url"]}
    return make_settings(settings.data_dir, **{**values, **overrides})


@pytest.mark.sandbox
async def test_rpc_on_chain_137_passes_and_another_chain_fails(
    settings: Settings, sandbox: Sandbox
) -> None:
    [good] = await check_rpc(_on_sandbox(settings, sandbox))
    [wrong] = await check_rpc(_on_sandbox(settings, sandbox, polymarket_chain_id=80002))
    assert good.health is Health.OK and "chain 137" in good.detail
    assert wrong.health is Health.FAILED and "chain 137" in wrong.fix


@pytest.mark.sandbox
async def test_clob_ok_passes_and_a_failing_clob_fails(
    settings: Settings, sandbox: Sandbox
) -> None:
    on = _on_sandbox(settings, sandbox)
    assert (await check_clob(on)).health is Health.OK
    sandbox.set_faults(error_rate=1.0, paths=["/ok"])
    try:
        failing = await check_clob(on)
    finally:
        sandbox.set_faults(reset=True)
    assert failing.health is Health.FAILED and "HTTP 5" in failing.detail


@pytest.mark.sandbox
async def test_follower_funded_and_approved_passes_and_empty_one_fails(
    sandbox: Sandbox,
) -> None:
    funded = "0x" + uuid.uuid4().hex[:8] + "1" * 32
    empty = "0x" + uuid.uuid4().hex[:8] + "2" * 32
    sandbox.fund(funded, pusd="200", pol="2", approve=True)
    sandbox.fund(empty, pusd="0", pol="0.1")
    rpc = RpcPool([sandbox.info["rpc_url"]], timeout_s=5)
    try:
        good = await check_follower(pair_config("ok", follower=funded), rpc)
        bad = await check_follower(pair_config("bad", follower=empty), rpc)
    finally:
        await rpc.close()
    assert _healths(good) == [Health.OK] * 4, [line(r) for r in good]
    assert "200.00 pUSD" in good[0].detail
    assert _healths(bad) == [Health.FAILED] * 4, [line(r) for r in bad]
    assert [r.name for r in bad] == [
        "pair bad balance",
        "pair bad allowance",
        "pair bad allowance",
        "pair bad gas",
    ]
    assert "0.5 POL" in bad[3].fix and "deposit pUSD" in bad[0].fix


# -- against a dev server, and the whole command ---------------------------------------------


@pytest.mark.devserver
async def test_temporal_passes_with_search_attributes_and_fails_without(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    on = make_settings(settings.data_dir, temporal_address=env_address(dev_env))
    assert (await check_temporal(on)).health is Health.OK
    namespace = f"bare-{uuid.uuid4().hex[:8]}"
    retention = Duration()
    retention.FromTimedelta(timedelta(days=1))
    await dev_env.client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=retention)
    )
    bare = make_settings(
        settings.data_dir, temporal_address=env_address(dev_env), temporal_namespace=namespace
    )
    result = await check_temporal(bare)
    assert result.health is Health.FAILED and "PairId" in result.detail, line(result)
    assert "projectk setup" in result.fix
    # The fix it names works: `projectk setup` registers them, and the check passes.
    fixed = await asyncio.to_thread(CliRunner().invoke, main, ["setup"], obj={"settings": bare})
    assert fixed.exit_code == 0, fixed.output
    assert "PairId" in fixed.output
    assert (await check_temporal(bare)).health is Health.OK


@pytest.mark.devserver
async def test_ping_answers_ok_and_fails_when_temporal_is_down(
    dev_env: WorkflowEnvironment, settings: Settings
) -> None:
    on = make_settings(settings.data_dir, temporal_address=env_address(dev_env))
    _register(on, pair_config("p1"))
    ok = await asyncio.to_thread(CliRunner().invoke, main, ["ping"], obj={"settings": on})
    assert ok.exit_code == 0 and ok.output.strip() == "ok", ok.output
    down = make_settings(settings.data_dir, temporal_address=f"127.0.0.1:{free_port()}")
    failed = await asyncio.to_thread(CliRunner().invoke, main, ["ping"], obj={"settings": down})
    assert failed.exit_code == 1 and "cannot reach the Temporal server" in failed.output


@pytest.mark.devserver
@pytest.mark.sandbox
def test_doctor_command_exits_0_when_all_pass_and_1_when_one_fails(
    dev_env: WorkflowEnvironment, settings: Settings, vault: Vault, sandbox: Sandbox
) -> None:
    sandbox.fund(FOLLOWER_A, pusd="50", pol="1", approve=True)
    on = _on_sandbox(settings, sandbox, temporal_address=env_address(dev_env))
    _register(on, pair_config("p1", follower=FOLLOWER_A, budget_micro=50_000_000))
    runner = CliRunner()
    ok = runner.invoke(main, ["doctor"], obj={"settings": on})
    assert ok.exit_code == 0, ok.output
    assert "[FAIL]" not in ok.output and "[PASS] pair p1 gas" in ok.output
    sandbox.fund(FOLLOWER_A, pol="0.01")
    low = runner.invoke(main, ["doctor"], obj={"settings": on})
    assert low.exit_code == 1
    assert "[FAIL] pair p1 gas" in low.output and "fix: send at least 0.5 POL" in low.output
