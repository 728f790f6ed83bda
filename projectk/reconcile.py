"""Reconciliation: repair a pair's positions from the follower's on-chain balances (pure).

Invariants:
- Only run when no mirror child is in flight, so no report can still change a position.
- Reconciliation never invents positions: it only lowers. A position larger than what the chain
  leaves the pair is cut to it as a sale would cut it (`Position.sell`: cost at average, the
  removed cost leaving the books unrealized, not as PnL); shares the chain holds beyond the
  books (the owner's, or bought outside ProjectK) are never adopted. Every repair yields one
  alert naming the token and the numbers.
- A funder the operator marked as shared: what the chain holds is split by what each pair booked.
  When the chain holds less than all pairs together booked, each pair keeps
  chain x booked / all booked (rounded down), so no pair is left with shares another booked.
"""

from __future__ import annotations

from dataclasses import dataclass

from projectk.books import AlertSpec
from projectk.models import AlertKind, AlertLevel, PairState, Position


@dataclass(frozen=True)
class Repair:
    """One token whose booked shares differed from the chain."""

    token_id: str
    booked_micro: int
    chain_micro: int  # what the chain holds at the funder
    allowed_micro: int  # what the pair keeps: its share of the chain's balance


def find_repairs(
    positions: dict[str, Position],
    balances: dict[str, int],
    others: dict[str, int] | None = None,
) -> list[Repair]:
    """Return the tokens whose booked shares exceed the pair's share of the chain's balances.

    `others` is what the other pairs at a shared funder booked per token (None: not shared).
    """
    repairs = []
    for token, chain in sorted(balances.items()):
        booked = positions.get(token, Position()).shares_micro
        total = booked + (others or {}).get(token, 0)
        if booked == 0 or chain >= total:
            continue
        allowed = chain * booked // total
        repairs.append(Repair(token, booked, chain, allowed))
    return repairs


def apply_repairs(
    state: PairState, repairs: list[Repair], stamp: str
) -> tuple[PairState, list[AlertSpec]]:
    """Return the state with positions set to the chain's numbers, and one alert per repair."""
    positions = dict(state.positions)
    alerts = []
    pair = state.config.pair_id
    for repair in repairs:
        held = positions.get(repair.token_id, Position())
        left, _ = held.sell(held.shares_micro - repair.allowed_micro)
        if left.shares_micro == 0:
            positions.pop(repair.token_id, None)
        else:
            positions[repair.token_id] = left
        shared = "" if repair.allowed_micro == repair.chain_micro else " (its share)"
        alerts.append(
            AlertSpec(
                f"reconciled:{pair}:{repair.token_id}:{stamp}",
                AlertLevel.HIGH,
                AlertKind.RECONCILED,
                f"pair {pair}: token {repair.token_id} booked {repair.booked_micro} share-micro, "
                f"chain holds {repair.chain_micro}; position lowered to "
                f"{repair.allowed_micro}{shared}",
            )
        )
    return state.model_copy(update={"positions": positions}), alerts
