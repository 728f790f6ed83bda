"""Worker wiring of the claim flow: its workflows, its activities over injected clients, and the
Temporal Schedule that runs the claim sweep.

Invariants:
- Built only by the composition root (`workers.main`); nothing here runs at import.
- Paper trading (no key, no order) claims nothing: its market directory knows no market, so no
  claim is ever due, and it has no vault to sign with.
- The sweep schedule is created once per namespace; creating it again is a no-op, and an
  existing schedule is left as operators may have tuned it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from web3 import AsyncWeb3

from activities.claim_ledger import ClaimLedgerActivities
from activities.claims import ClaimActivities
from adapters.ledger import Ledger
from adapters.polymarket.markets import ClobMarketDirectory, MarketDirectory, NoMarkets
from adapters.vault import Vault
from projectk import claims, contract
from projectk.settings import ExecutorMode, Settings
from workflows.claim import ClaimWorkflow
from workflows.claim_start import ClaimSweepWorkflow

log = logging.getLogger(__name__)

CLAIM_WORKFLOWS: Sequence[type] = (ClaimWorkflow, ClaimSweepWorkflow)
HTTP_TIMEOUT_S = 15.0


def market_host(settings: Settings, sandbox_url: str | None) -> str:
    """Return the CLOB whose public market routes name a token's market."""
    if settings.executor_mode is ExecutorMode.SANDBOX and sandbox_url:
        return sandbox_url
    return settings.polymarket_host


def use_adapters(settings: Settings) -> bool:
    """Tell whether redeems go through the V2 collateral adapters (production) or not."""
    if settings.claim_use_adapters is not None:
        return settings.claim_use_adapters
    return settings.executor_mode is ExecutorMode.LIVE


def build_claim_activities(
    settings: Settings, w3: AsyncWeb3[Any], sandbox_url: str | None = None
) -> ClaimActivities:
    """Build the claim activities' clients from settings (paper trading claims nothing)."""
    if settings.executor_mode is ExecutorMode.PAPER:
        directory: MarketDirectory = NoMarkets()
        vault = None
    else:
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, trust_env=False)
        directory = ClobMarketDirectory(http, market_host(settings, sandbox_url))
        vault = Vault(settings.resolved_vault_path)
    return ClaimActivities(
        w3,
        vault,
        settings.passphrase(),
        directory,
        gas_threshold_wei=claims.pol_to_wei(settings.claim_min_pol),
        use_adapters=use_adapters(settings),
    )


def claim_activities(chain: ClaimActivities, ledger: Ledger) -> list[Callable[..., Any]]:
    """Return the claim flow's activities, bound to their clients."""
    books = ClaimLedgerActivities(ledger)
    return [
        chain.market_info,
        chain.read_resolution,
        chain.check_gas,
        chain.read_claim_balances,
        chain.sign_redeem,
        chain.send_redeem,
        books.record_claim,
        books.pairs_of_holder,
        books.read_holdings,
    ]


async def ensure_claim_sweep(client: Client, task_queue: str) -> bool:
    """Create the claim-sweep schedule if it does not exist; True if this call created it."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            contract.CLAIM_SWEEP_WORKFLOW, id=contract.CLAIM_SWEEP_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=claims.SWEEP_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(contract.CLAIM_SWEEP_ID, schedule)
    except ScheduleAlreadyRunningError:
        return False
    log.info("claim sweep scheduled every %s on %r", claims.SWEEP_EVERY, task_queue)
    return True
