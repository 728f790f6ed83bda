"""Inputs and results of ProjectK's activities: one input and one result type per activity.

Invariants:
- Every type is a frozen pydantic model with defaults on new fields, so old histories decode.
- No type here carries a secret: keys are named by `key_ref` only; a signed order (issue 5) is
  public data once posted.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from projectk.models import (
    MICRO,
    AlertLevel,
    FillCursor,
    Frozen,
    Micro,
    MirrorReport,
    OrderIntent,
    OrderType,
    Side,
    SourceFill,
)


class WaitForFillsInput(Frozen):
    """Long-poll for a source wallet's fills strictly after a cursor."""

    pair_id: str
    source: str
    cursor: FillCursor
    timeout_s: float = Field(default=300.0, gt=0)


class FillBatch(Frozen):
    """Fills after the input cursor, oldest first, and the cursor to poll from next."""

    fills: list[SourceFill] = Field(default_factory=list)
    cursor: FillCursor
    retracted: list[str] = Field(default_factory=list)  # fill ids a chain reorg took back


class SkippedFill(Frozen):
    """A fill the pair decided not to mirror, and why."""

    fill_id: str
    token_id: str
    side: Side
    reason: str


class RecordSkipsInput(Frozen):
    """Record the fills a pair skipped."""

    pair_id: str
    skips: list[SkippedFill]


class RecordIntentInput(Frozen):
    """Record the order a mirror flow is about to send, before sending it."""

    intent: OrderIntent


class RecordOutcomeInput(Frozen):
    """Record how a mirror flow ended."""

    pair_id: str
    report: MirrorReport


class RaiseAlertInput(Frozen):
    """Raise an operator alert, once per dedup key."""

    dedup_key: str
    level: AlertLevel
    kind: str
    message: str
    pair_id: str | None = None


class RecordResult(Frozen):
    """How many rows a ledger write created (0 when it was already there)."""

    written: int = 0


class QuoteInput(Frozen):
    """Ask the venue about one outcome token before sizing an order."""

    token_id: str
    reference_price: Decimal  # the source fill's price, for venues that only know that


class BookLevel(Frozen):
    """One price level of an order book."""

    price: Decimal
    size_micro: Micro


class Quote(Frozen):
    """What the venue says about a token right now."""

    token_id: str
    bids: list[BookLevel] = Field(default_factory=list)  # best (highest) first
    asks: list[BookLevel] = Field(default_factory=list)  # best (lowest) first
    tick_size: Decimal = Decimal("0.01")
    min_order_size_micro: Micro = 5 * MICRO
    neg_risk: bool = False
    accepting_orders: bool = True


class ExecuteOrderInput(Frozen):
    """Send one order intent to the venue and follow it to a terminal state."""

    intent: OrderIntent
    key_ref: str
    funder: str
    order_type: OrderType = OrderType.FAK


class ExecutionResult(Frozen):
    """What the venue did with an order."""

    order_id: str
    filled_shares_micro: Micro = 0
    notional_micro: Micro = 0  # pUSD paid (BUY) or received (SELL)
    fee_micro: Micro = 0
    rejected_reason: str = ""


class TokenBalanceInput(Frozen):
    """Read a wallet's ERC-1155 outcome-token balance on ConditionalTokens at a block."""

    wallet: str
    token_id: str
    block_number: int | None = None  # None: the latest block


class TokenBalance(Frozen):
    """An outcome-token balance in share micro-units."""

    shares_micro: Micro = 0
