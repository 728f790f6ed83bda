"""A pair's order upkeep: cancel the follower's open orders on an emergency stop, and reconcile
positions with the chain now and then. Runs inside PairWorkflow (deterministic).

Invariants:
- An emergency stop asks once for the follower's open orders in the pair's tokens (in flight or
  held) to be cancelled; the request survives until the pair's next side-effect flush runs it.
- Reconciliation runs at most every `RECONCILE_EVERY`, only with no mirror child in flight, and
  its answer is dropped if a child started while the chain was read. It only lowers positions
  (`projectk.reconcile`); at a shared funder it asks the ledger what the other pairs booked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.chain import ChainActivities
    from activities.claim_ledger import ClaimLedgerActivities
    from activities.orders import OrderActivities
    from projectk.books import AlertSpec
    from projectk.decisions import versions_of
    from projectk.messages import (
        BookedByOthersInput,
        CancelOrdersInput,
        PositionsInput,
        Wallet,
    )
    from projectk.models import PairState
    from projectk.reconcile import apply_repairs, find_repairs
    from workflows import policies

RECONCILE_EVERY = timedelta(hours=6)


class PairUpkeep:
    """Emergency-stop order cancels and periodic reconciliation for one pair."""

    def __init__(self, now: datetime) -> None:
        self._cancel: CancelOrdersInput | None = None
        self._reconciled_at = now

    def cancel_open_orders(self, state: PairState, reason: str) -> None:
        """Ask for the follower's open orders in the pair's tokens to be cancelled."""
        tokens = sorted({f.token_id for f in state.in_flight.values()} | set(state.positions))
        if tokens:
            self._cancel = CancelOrdersInput(wallet=_wallet(state), token_ids=tokens, reason=reason)

    def cancel_open_orders_in(self, state: PairState, tokens: list[str], reason: str) -> None:
        """Ask for the follower's open orders in some tokens to be cancelled."""
        if tokens:
            self._cancel = CancelOrdersInput(
                wallet=_wallet(state), token_ids=sorted(tokens), reason=reason
            )

    async def flush(self) -> None:
        """Run a requested cancel of open orders."""
        while self._cancel is not None:
            request, self._cancel = self._cancel, None
            await workflow.execute_activity_method(
                OrderActivities.cancel_orders,
                request,
                start_to_close_timeout=policies.POST_TIMEOUT,
                heartbeat_timeout=policies.POST_HEARTBEAT_TIMEOUT,
                retry_policy=policies.ORDER_RETRY,
            )

    async def reconcile_if_due(
        self, get_state: Callable[[], PairState], alerts: list[AlertSpec]
    ) -> PairState | None:
        """Return the state repaired from the chain when due (None when nothing was done)."""
        state = get_state()
        if workflow.now() - self._reconciled_at < RECONCILE_EVERY:
            return None
        if state.in_flight or not state.positions:
            return None
        self._reconciled_at = workflow.now()
        started = state.mirrors_started
        read = await workflow.execute_activity_method(
            ChainActivities.follower_positions,
            PositionsInput(
                wallet=state.config.funder_address,
                token_ids=sorted(state.positions),
                market_versions=versions_of(state, state.positions),
            ),
            start_to_close_timeout=policies.RECONCILE_TIMEOUT,
            retry_policy=policies.CHAIN_RETRY,
        )
        others = None
        if state.config.shared_funder:
            booked = await workflow.execute_activity_method(
                ClaimLedgerActivities.booked_by_others,
                BookedByOthersInput(
                    pair_id=state.config.pair_id,
                    holder=state.config.funder_address,
                    token_ids=sorted(state.positions),
                ),
                start_to_close_timeout=policies.LEDGER_TIMEOUT,
                retry_policy=policies.LEDGER_RETRY,
            )
            others = booked.balances
        state = get_state()  # handlers may have run while the chain was read
        if state.in_flight or state.mirrors_started != started:
            return None
        repairs = find_repairs(state.positions, read.balances, others)
        if not repairs:
            return None
        repaired, raised = apply_repairs(state, repairs, workflow.now().isoformat())
        alerts.extend(raised)
        return repaired


def _wallet(state: PairState) -> Wallet:
    config = state.config
    return Wallet(
        key_ref=config.key_ref, funder=config.funder_address, signature_type=config.signature_type
    )
