"""Rows of the dashboard's tables, as plain dicts of display strings.

Invariants:
- Amounts are formatted from integer micro-units with `format.pusd` (exact); ids and hashes are
  shown whole, so they can be copied and looked up.
- A mirror order is shown by its source order: the decision id (the source order hash, "/n"
  after it for a top-up; a skipped source fill's own id for a skip).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.ledger import ClaimRecord, Execution, OrderRecord
from dashboard.format import MISSING, moment, pusd, short_address
from projectk.models import InFlight


def order_rows(orders: Sequence[OrderRecord], with_pair: bool = False) -> list[dict[str, object]]:
    """Return one row per mirror order, newest first as given."""
    rows = []
    for o in orders:
        row: dict[str, object] = {"Pair": o.pair_id} if with_pair else {}
        row.update(
            {
                "Created": moment(o.created_at),
                "Status": o.status.value,
                "Side": o.side.value,
                "Intended (pUSD)": pusd(o.intended_notional_micro),
                "Filled shares": pusd(o.filled_shares_micro),
                "Notional (pUSD)": pusd(o.notional_micro),
                "Fee (pUSD)": pusd(o.fee_micro),
                "Limit": str(o.limit_price) if o.limit_price is not None else MISSING,
                "Reason": o.reason,
                "Token": o.token_id,
                "Source order": o.decision_id,
                "Order hash": o.order_id or MISSING,
            }
        )
        rows.append(row)
    return rows


def in_flight_rows(in_flight: Mapping[str, InFlight]) -> list[dict[str, object]]:
    """Return one row per mirror a pair has in flight, oldest first, with what it holds back."""
    return [
        {
            "Source order": f.decision_id,
            "Side": f.side.value,
            "Token": f.token_id,
            "Reserved (pUSD)": pusd(f.reserved_micro),
            "Started": moment(f.started_at),
            "Source fills": len(f.fill_ids),
        }
        for f in sorted(in_flight.values(), key=lambda f: (f.started_at, f.decision_id))
    ]


def execution_rows(executions: Sequence[Execution]) -> list[dict[str, object]]:
    """Return one row per follower trade."""
    return [
        {
            "Executed": moment(e.executed_at),
            "Side": e.side.value,
            "Shares": pusd(e.shares_micro),
            "Price": str(e.price),
            "Notional (pUSD)": pusd(e.notional_micro),
            "Fee (pUSD)": pusd(e.fee_micro),
            "Trade": e.trade_id,
            "Source order": e.decision_id,
            "Order hash": e.order_id,
            "Tx": e.tx_hash or MISSING,
        }
        for e in executions
    ]


def claim_rows(
    claims: Sequence[ClaimRecord], served: Mapping[str, Sequence[str]]
) -> list[dict[str, object]]:
    """Return one row per claim, naming the pairs its follower wallet serves."""
    return [
        {
            "Status": c.status.value,
            "Follower": short_address(c.follower),
            "Pairs": ", ".join(served.get(c.follower, ())) or MISSING,
            "Market (condition id)": c.condition_id,
            "Payout (pUSD)": pusd(c.payout_micro),
            "Tx": c.tx_hash or MISSING,
            "Gas used": MISSING if c.gas_used is None else str(c.gas_used),
            "Updated": moment(c.updated_at),
            "Completed": moment(c.completed_at),
        }
        for c in claims
    ]
