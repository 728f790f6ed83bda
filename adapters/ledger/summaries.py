"""Small frozen results of the ledger's aggregate reads, and the ledger-identity tag format.

Invariants:
- Amounts are integer micro-units, prices `Decimal`, timestamps aware UTC, as in `records`.
- `worker_identity` and `ledger_id_of` are the one format in which a worker advertises the ledger
  it writes (in its Temporal identity) and a reader recognises it; they round-trip.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from adapters.ledger.records import OrderStatus
from projectk.models import Frozen, PairStatus

LEDGER_TAG = " ledger="  # how a worker's Temporal identity names the ledger it writes


class PairTotals(Frozen):
    """One pair's mirror orders summed up (pUSD and shares in micro-units)."""

    pair_id: str
    orders: int = 0  # rows in any state, skips included
    finished: int = 0  # rows in a terminal state
    filled_orders: int = 0  # orders that filled some shares
    volume_micro: int = 0  # pUSD traded, both sides
    bought_micro: int = 0  # paid for buys, fees included
    sold_micro: int = 0  # received for sells, fees deducted
    open_micro: int = 0  # intended notional of orders not yet terminal
    fills_since: int = 0  # filled orders that finished at or after the `since` asked for
    last_fill_at: datetime | None = None  # when the newest filled order finished
    last_order_at: datetime | None = None
    failure_streak: int = 0  # failed orders after the pair's last order the venue took


class OutcomeCount(Frozen):
    """How many of a pair's mirror orders are in one state for one reason."""

    status: OrderStatus
    reason: str = ""  # why it was skipped or failed; empty for most other states
    orders: int


class PairSummary(Frozen):
    """A registry row without its full configuration: what a list of many pairs shows."""

    pair_id: str
    source: str
    follower: str
    budget_micro: int
    status: PairStatus


class TokenTotals(Frozen):
    """What one pair bought and sold of one outcome token (micro-units)."""

    pair_id: str
    token_id: str
    bought_shares_micro: int = 0
    bought_micro: int = 0  # paid, fees included
    sold_shares_micro: int = 0
    sold_micro: int = 0  # received, fees deducted


class TokenMark(Frozen):
    """The newest price seen for a token: its latest unretracted source fill."""

    token_id: str
    price: Decimal
    block_number: int
    log_index: int


def worker_identity(base: str, ledger_id: str | None) -> str:
    """Return a Temporal worker identity that names the ledger the worker writes."""
    return f"{base}{LEDGER_TAG}{ledger_id}" if ledger_id else base


def ledger_id_of(identity: str) -> str | None:
    """Return the ledger id a worker identity advertises (None if it names none)."""
    _, tag, ledger_id = identity.rpartition(LEDGER_TAG)
    return (ledger_id.strip() or None) if tag else None
