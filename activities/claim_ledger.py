"""Ledger reads and writes of the claim flow.

Invariants: `record_claim` is idempotent and forward only (the ledger's `upsert_claim` keeps a
terminal claim as it is and never moves sent back to waiting); reads never write. The
synchronous ledger runs in a thread.
"""

from __future__ import annotations

import asyncio

from temporalio import activity

from adapters.ledger import ClaimStatus, ClaimUpdate, Ledger
from projectk.claims import held_tokens
from projectk.messages import (
    BookedByOthersInput,
    Holdings,
    HoldingsInput,
    PairHolding,
    PairIds,
    PairsOfHolderInput,
    PositionsResult,
    RecordClaimInput,
    RecordResult,
)
from projectk.models import Position


class ClaimLedgerActivities:
    """Record claims and read which pairs hold what."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @activity.defn(name="record_claim")
    async def record_claim(self, data: RecordClaimInput) -> RecordResult:
        """Record a claim's new state (forward only; a repeat changes nothing)."""
        before = await asyncio.to_thread(self._ledger.get_claim, data.holder, data.condition_id)
        update = ClaimUpdate(
            follower=data.holder,
            condition_id=data.condition_id,
            status=ClaimStatus(data.status),
            payout_micro=data.payout_micro,
            tx_hash=data.tx_hash,
            gas_used=data.gas_used,
        )
        after = await asyncio.to_thread(self._ledger.upsert_claim, update)
        return RecordResult(written=int(before is None or before.updated_at != after.updated_at))

    @activity.defn(name="pairs_of_holder")
    async def pairs_of_holder(self, data: PairsOfHolderInput) -> PairIds:
        """Return the ids of live pairs whose funds sit at the holder address."""
        pairs = await asyncio.to_thread(self._ledger.list_pairs)
        holder = data.holder.lower()
        return PairIds(
            pair_ids=[p.pair_id for p in pairs if p.config.funder_address.lower() == holder]
        )

    @activity.defn(name="read_holdings")
    async def read_holdings(self, data: HoldingsInput) -> Holdings:
        """Return each pair's net shares per token (bought minus sold, from its orders)."""
        pairs = await asyncio.to_thread(self._ledger.list_pairs, data.include_removed)
        totals = await asyncio.to_thread(self._ledger.token_totals)
        held: dict[str, dict[str, Position]] = {}
        for row in totals:
            shares = row.bought_shares_micro - row.sold_shares_micro
            if shares > 0:
                cost = max(0, row.bought_micro - row.sold_micro)
                held.setdefault(row.pair_id, {})[row.token_id] = Position(
                    shares_micro=shares, cost_micro=cost
                )
        return Holdings(
            pairs=[
                PairHolding(config=p.config, positions=held[p.pair_id])
                for p in pairs
                if held.get(p.pair_id) and held_tokens(held[p.pair_id])
            ]
        )

    @activity.defn(name="booked_by_others")
    async def booked_by_others(self, data: BookedByOthersInput) -> PositionsResult:
        """Return the net shares per token the other live pairs at the same funder booked."""
        pairs = await asyncio.to_thread(self._ledger.list_pairs)
        holder = data.holder.lower()
        others = {
            p.pair_id
            for p in pairs
            if p.pair_id != data.pair_id and p.config.funder_address.lower() == holder
        }
        wanted = set(data.token_ids)
        booked: dict[str, int] = dict.fromkeys(sorted(wanted), 0)
        for row in await asyncio.to_thread(self._ledger.token_totals):
            if row.pair_id in others and row.token_id in wanted:
                booked[row.token_id] += max(0, row.bought_shares_micro - row.sold_shares_micro)
        return PositionsResult(balances=booked)
