"""The worker wires the claim flow: workflows, activities by name, routes by executor mode, and
paper trading claims nothing."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity
from web3 import AsyncHTTPProvider, AsyncWeb3

from projectk.claims import DEFAULT_MIN_POL, pol_to_wei
from projectk.messages import MarketInfoInput
from projectk.settings import Settings, load_settings
from workers.claims import build_claim_activities, claim_activities, use_adapters
from workers.main import WORKFLOWS
from workflows.claim import ClaimWorkflow
from workflows.claim_start import ClaimSweepWorkflow

W3 = AsyncWeb3(AsyncHTTPProvider("http://127.0.0.1:9"))  # never called


def settings(tmp_path: Path, **changes: object) -> Settings:
    return load_settings(data_dir=tmp_path, **changes)


def test_worker_registers_the_claim_workflows() -> None:
    assert ClaimWorkflow in WORKFLOWS and ClaimSweepWorkflow in WORKFLOWS


def test_claim_activities_are_registered_under_the_names_the_workflows_use(
    tmp_path: Path, ledger: object
) -> None:
    acts = build_claim_activities(settings(tmp_path, executor_mode="sandbox"), W3)
    names = {
        activity._Definition.must_from_callable(fn).name
        for fn in claim_activities(acts, ledger)  # type: ignore[arg-type]
    }
    assert names == {
        "market_info",
        "read_resolution",
        "check_gas",
        "read_claim_balances",
        "sign_redeem",
        "send_redeem",
        "record_claim",
        "pairs_of_holder",
        "read_holdings",
    }


def test_production_redeems_through_the_adapters_and_the_sandbox_directly(
    tmp_path: Path,
) -> None:
    assert use_adapters(settings(tmp_path, executor_mode="live"))
    assert not use_adapters(settings(tmp_path, executor_mode="sandbox"))
    assert use_adapters(settings(tmp_path, executor_mode="sandbox", claim_use_adapters=True))
    assert settings(tmp_path).claim_min_pol == DEFAULT_MIN_POL
    assert pol_to_wei(settings(tmp_path, claim_min_pol="1.25").claim_min_pol) == 125 * 10**16


async def test_paper_trading_finds_no_market_to_claim(tmp_path: Path) -> None:
    acts = build_claim_activities(settings(tmp_path, executor_mode="paper"), W3)
    found = await acts.market_info(MarketInfoInput(token_ids=["123", "456"]))
    assert found.markets == {}
