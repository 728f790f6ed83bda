"""The worker wires the claim flow: workflows, activities by name, routes by executor mode, and
paper trading claims nothing."""

from __future__ import annotations

from pathlib import Path

from adapters.chain.factory import use_adapters
from adapters.polymarket import NoMarkets, build_market_directory
from projectk.claims import DEFAULT_MIN_POL, pol_to_wei
from projectk.settings import Settings, load_settings
from workers.registry import WORKFLOWS
from workflows.claim import ClaimWorkflow
from workflows.claim_start import ClaimSweepWorkflow


def settings(tmp_path: Path, **changes: object) -> Settings:
    return load_settings(data_dir=tmp_path, **changes)


def test_worker_registers_the_claim_workflows() -> None:
    assert ClaimWorkflow in WORKFLOWS and ClaimSweepWorkflow in WORKFLOWS


def test_production_redeems_through_the_adapters_and_the_sandbox_directly(
    tmp_path: Path,
) -> None:
    assert use_adapters(settings(tmp_path, executor_mode="live"))
    assert not use_adapters(settings(tmp_path, executor_mode="sandbox"))
    assert use_adapters(settings(tmp_path, executor_mode="sandbox", claim_use_adapters=True))
    assert settings(tmp_path).claim_min_pol == DEFAULT_MIN_POL
    assert pol_to_wei(settings(tmp_path, claim_min_pol="1.25").claim_min_pol) == 125 * 10**16


async def test_paper_trading_finds_no_market_to_claim(tmp_path: Path) -> None:
    directory = build_market_directory(settings(tmp_path, executor_mode="paper"))
    assert isinstance(directory, NoMarkets)
    assert await directory.market_of_token("123") is None
