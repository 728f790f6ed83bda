"""Reconciliation: repair a pair's positions from the follower's on-chain balances (pure).

Invariants:
- Only run when no mirror child is in flight, so no report can still change a position.
- The chain wins: a position larger than the chain balance is cut to it as a sale would cut it
  (`Position.sell`: cost at average, the removed cost leaving the books unrealized, not as PnL),
  a position the chain holds more of is raised to it (the extra shares adopted at no recorded
  cost), a position the chain does not hold is cleared. Every repair yields one alert naming the
  token and both numbers.
- A follower wallet shared by several pairs cannot be reconciled per pair; operators keep one
  follower wallet per pair (or turn reconciliation off by never calling it).
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
    chain_micro: int


def find_repairs(positions: dict[str, Position], balances: dict[str, int]) -> list[Repair]:
    """Return the tokens whose booked shares differ from the on-chain balances."""
    repairs = []
    for token, chain in sorted(balances.items()):
        booked = positions.get(token, Position()).shares_micro
        if booked != chain:
            repairs.append(Repair(token, booked, chain))
    return repairs


def apply_repairs(
    state: PairState, repairs: list[Repair], stamp: str
) -> tuple[PairState, list[AlertSpec]]:
    """Return the state with positions set to the chain's numbers, and one alert per repair."""
    positions = dict(state.positions)
    alerts = []
    pair = state.config.pair_id
    for repair in repairs:
        if repair.chain_micro == 0:
            positions.pop(repair.token_id, None)
        else:
            positions[repair.token_id] = _to_chain(positions.get(repair.token_id), repair)
        alerts.append(
            AlertSpec(
                f"reconciled:{pair}:{repair.token_id}:{stamp}",
                AlertLevel.HIGH,
                AlertKind.RECONCILED,
                f"pair {pair}: token {repair.token_id} booked {repair.booked_micro} share-micro, "
                f"chain holds {repair.chain_micro}; books repaired from the chain",
            )
        )
    return state.model_copy(update={"positions": positions}), alerts


def _to_chain(held: Position | None, repair: Repair) -> Position:
    # Shares the books hold beyond the chain leave as a sale would take them (average cost);
    # shares the chain holds beyond the books are adopted as a buy that cost nothing.
    held = held or Position()
    if repair.chain_micro < held.shares_micro:
        left, _ = held.sell(held.shares_micro - repair.chain_micro)
        return left
    return held.buy(repair.chain_micro - held.shares_micro, 0)
