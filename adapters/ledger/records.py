"""What the ledger hands out and takes in: ledger states and small frozen read models.

Invariants:
- Callers never see a SQLModel row: every read returns one of these frozen pydantic models, which
  travel through Temporal's pydantic data converter like any other domain type.
- States only move forward. A mirror order goes intent -> posted -> one terminal state; a claim goes
  waiting -> sent -> one terminal state. Terminal rows are never rewritten.
- Money and shares are integer micro-units, prices `Decimal`, timestamps aware UTC.
- A mirror order is keyed by (pair, decision id): a mirror decision's id, or for a source fill
  the pair skipped, the fill's id. Its `order_hash` is the source order's hash or "" (see
  `source_order_of`), never anything else.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum, unique

from pydantic import Field

from projectk.decisions import order_key_of
from projectk.models import (
    Address,
    AlertLevel,
    ClaimStatus,
    Frozen,
    Micro,
    MirrorOutcome,
    OrderType,
    PairConfig,
    PairStatus,
    Side,
    SourceFill,
)


@unique
class OrderStatus(StrEnum):
    """Where one mirror decision (or one skipped source fill) of a pair stands in the ledger."""

    INTENT = "intent"  # decided and recorded; not yet known to the CLOB
    POSTED = "posted"  # sent to the CLOB (order_id set); being followed
    FILLED = "filled"  # terminal: the whole intended size filled
    PARTIAL = "partial"  # terminal: some filled, the remainder cancelled
    UNFILLED = "unfilled"  # terminal: nothing filled (killed, or cancelled at the deadline)
    SKIPPED = "skipped"  # terminal: a guard or filter chose not to trade; reason says which
    FAILED = "failed"  # terminal: a non-retryable error; reason says which
    CANCELLED = "cancelled"  # terminal: emergency stop or retracted source fill

    @property
    def is_terminal(self) -> bool:
        """Tell whether no later write may change a row in this state."""
        return self not in (OrderStatus.INTENT, OrderStatus.POSTED)

    @classmethod
    def from_outcome(cls, outcome: MirrorOutcome) -> OrderStatus:
        """Return the terminal state that records a mirror flow's outcome."""
        return cls(outcome.value)


TERMINAL_ORDER_STATUSES = tuple(s.value for s in OrderStatus if s.is_terminal)

_ORDER_HASH = re.compile(r"0x[0-9a-f]{64}")


def source_order_of(key: str) -> str:
    """Return the source order hash a decision id (or an order key) names, else ""."""
    # An order without a hash is keyed by its first fill's id, which names no order.
    head = order_key_of(key).lower()
    return head if _ORDER_HASH.fullmatch(head) else ""


TERMINAL_CLAIM_STATUSES = tuple(s.value for s in ClaimStatus if s.is_terminal)


class PairRecord(Frozen):
    """A registry row: the pair's exact configuration and its last known status."""

    config: PairConfig
    status: PairStatus
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None

    @property
    def pair_id(self) -> str:
        """Return the pair's id."""
        return self.config.pair_id


class FillRecord(SourceFill):
    """A recorded source fill; `retracted_at` is set when a reorg removed its log."""

    retracted_at: datetime | None = None


class OrderEntry(Frozen):
    """One mirror decision (or skipped source fill) of a pair as the ledger keeps it, without the
    row id the ledger gives it: what a bulk load takes."""

    pair_id: str
    decision_id: str  # the source order hash, "<hash>/n" for a top-up, a skipped fill's id
    order_hash: str = ""  # the source order; "" when unknown
    token_id: str
    side: Side
    status: OrderStatus
    reason: str = ""
    order_id: str | None = None  # latest posted order hash
    order_type: OrderType | None = None
    limit_price: Decimal | None = None
    intended_shares_micro: Micro = 0
    intended_notional_micro: Micro = 0
    filled_shares_micro: Micro = 0
    notional_micro: Micro = 0  # pUSD actually paid (BUY) or received (SELL)
    fee_micro: Micro = 0
    created_at: datetime
    updated_at: datetime


class OrderRecord(OrderEntry):
    """The ledger's view of one mirror decision (or skipped source fill) of a pair."""

    id: int


class Execution(Frozen):
    """One trade of a follower's order on the CLOB; (order_id, trade_id) identifies it."""

    pair_id: str
    decision_id: str  # the mirror decision whose order traded
    order_id: str  # the order hash this trade filled (one flow may post several)
    trade_id: str
    side: Side
    shares_micro: Micro
    price: Decimal
    notional_micro: Micro
    fee_micro: Micro = 0
    tx_hash: str | None = None  # settlement transaction, once known
    executed_at: datetime


class ClaimUpdate(Frozen):
    """A claim state change; None fields leave what is recorded untouched."""

    follower: Address
    condition_id: str = Field(min_length=1, max_length=66)
    status: ClaimStatus
    payout_micro: Micro | None = None
    tx_hash: str | None = None
    gas_used: int | None = Field(default=None, ge=0)


class ClaimRecord(Frozen):
    """The ledger's view of redeeming one follower's position in one market."""

    follower: str
    condition_id: str
    status: ClaimStatus
    payout_micro: Micro | None = None
    tx_hash: str | None = None
    gas_used: int | None = None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None


class AlertRecord(Frozen):
    """An alert waiting for (or done with) delivery to the owners."""

    id: int
    dedup_key: str
    level: AlertLevel
    kind: str
    pair_id: str | None = None
    message: str
    created_at: datetime
    delivered_at: datetime | None = None
