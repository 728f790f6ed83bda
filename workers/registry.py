"""The one list of ProjectK's workflows and activities.

The worker registers exactly these, and the workflow tests register the same list over fakes
(`Clients` built from fakes instead of the factories), so a test can never run a workflow with
an activity set the worker does not have.

Invariant: activities are bound methods of classes that received their clients here; nothing in
this module builds a client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from activities.chain import BalanceReader, ChainActivities
from activities.claim_ledger import ClaimLedgerActivities
from activities.claims import ClaimActivities, ClaimChainPort
from activities.execution_ledger import ExecutionLedgerActivities
from activities.fills import FillActivities, FillFeed
from activities.ledger import LedgerActivities
from activities.markets import MarketActivities
from activities.orders import OrderActivities
from adapters.ledger import Ledger
from adapters.polymarket import MarketDirectory, Venue
from workflows.claim import ClaimWorkflow
from workflows.claim_start import ClaimSweepWorkflow
from workflows.mirror import MirrorOrderWorkflow
from workflows.pair import PairWorkflow

WORKFLOWS: Sequence[type] = (PairWorkflow, MirrorOrderWorkflow, ClaimWorkflow, ClaimSweepWorkflow)


@dataclass(frozen=True)
class Clients:
    """The clients every activity is built from."""

    ledger: Ledger
    feed: FillFeed
    venue: Venue
    chain: BalanceReader
    claims: ClaimChainPort
    markets: MarketDirectory


def activities_of(clients: Clients) -> list[Callable[..., Any]]:
    """Return every activity, bound to its injected clients."""
    ledger = LedgerActivities(clients.ledger)
    executions = ExecutionLedgerActivities(clients.ledger)
    claim_books = ClaimLedgerActivities(clients.ledger)
    fills = FillActivities(clients.feed)
    orders = OrderActivities(clients.venue, clients.ledger)
    chain = ChainActivities(clients.chain)
    claims = ClaimActivities(clients.claims, clients.markets)
    markets = MarketActivities(clients.markets)
    return [
        ledger.record_skips,
        ledger.record_intent,
        ledger.record_outcome,
        ledger.raise_alert,
        executions.mark_posted,
        executions.record_executions,
        executions.recorded_fills,
        fills.wait_for_fills,
        orders.quote,
        orders.sign_order,
        orders.post_order,
        orders.follow_order,
        orders.cancel_orders,
        chain.token_balance,
        chain.follower_positions,
        claims.market_info,
        claims.read_resolution,
        claims.check_gas,
        claims.read_claim_balances,
        claims.sign_redeem,
        claims.send_redeem,
        claim_books.record_claim,
        claim_books.pairs_of_holder,
        claim_books.read_holdings,
        claim_books.booked_by_others,
        markets.market_of_token,
    ]
