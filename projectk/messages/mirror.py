"""Payloads of the mirror flow: MirrorOrderWorkflow's input and the activities it calls (quote,
sign, post, follow, cancel, ledger writes, chain reads).

Invariants:
- One input and one result type per activity; frozen pydantic models with defaults on new
  fields, so histories decode after additions.
- No type here carries a secret. A key is named by `key_ref`; a `SignedOrder` holds the order's
  public fields and its signature, which the CLOB publishes anyway once the order is posted.
- Shares and pUSD are integer micro-units; prices are `Decimal`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum, unique

from pydantic import Field

from projectk.models import (
    MICRO,
    FeeSchedule,
    Frozen,
    MarketVersion,
    Micro,
    MirrorReport,
    OrderIntent,
    OrderType,
    PairConfig,
    Position,
    Side,
    SignatureType,
    SourceOrder,
)


class MirrorOrderInput(Frozen):
    """Input of MirrorOrderWorkflow: one mirror decision for one source order."""

    pair_id: str
    parent_workflow_id: str
    config: PairConfig
    decision_id: str  # the source order hash, "/n" for its n-th top-up
    order: SourceOrder  # the source order's running totals when the decision was made
    source: str  # the source wallet (its balance before a SELL order sizes the follower's)
    position: Position = Position()  # the follower's position in the order's token when started
    reserved_micro: Micro = 0  # BUY: pUSD the pair held back; the order never spends more
    want_micro: Micro = 0  # BUY: pUSD the sizing mode asks for (within `reserved_micro`)


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
    fee: FeeSchedule = Field(default_factory=FeeSchedule)  # the market's taker fee


class RecordIntentInput(Frozen):
    """Record the order a mirror flow is about to send, before sending it."""

    intent: OrderIntent


class RecordOutcomeInput(Frozen):
    """Record how a mirror flow ended."""

    pair_id: str
    report: MirrorReport


class TokenBalanceInput(Frozen):
    """Read a wallet's ERC-1155 outcome-token balance at a block, where the market's version keeps
    it (v1: ConditionalTokens, v2: PositionManager)."""

    wallet: str
    token_id: str
    block_number: int | None = None  # None: the latest block
    market_version: MarketVersion = MarketVersion.V1


class TokenBalance(Frozen):
    """An outcome-token balance in share micro-units."""

    shares_micro: Micro = 0


@unique
class VenueOrderState(StrEnum):
    """Where an order stands on the CLOB, as its order route reports it."""

    LIVE = "live"  # resting on the book, possibly partly filled
    MATCHED = "matched"  # fully filled, or filled and the rest killed (FAK/FOK)
    CANCELED = "canceled"  # cancelled by its owner, killed, expired or removed at resolution
    KILLED = "killed"  # FAK/FOK found nothing to match: never on the book, nothing filled
    MISSING = "missing"  # the CLOB does not know this order hash


class Wallet(Frozen):
    """Which follower wallet acts: its key by reference, the funds' address, the wallet kind."""

    key_ref: str
    funder: str
    signature_type: SignatureType = SignatureType.EOA


class SignOrderInput(Frozen):
    """Build and sign one V2 order for an intent (one round of a mirror flow)."""

    intent: OrderIntent
    wallet: Wallet
    order_type: OrderType = OrderType.FAK
    tick_size: Decimal = Decimal("0.01")
    neg_risk: bool = False
    expiration: int = 0  # unix seconds, GTD only
    round: int = Field(default=0, ge=0)  # remainder rounds sign new orders


class SignedOrder(Frozen):
    """A signed V2 order: public data, safe for workflow history. Its hash is its CLOB id."""

    order_id: str  # EIP-712 hash of the order
    order_type: OrderType
    token_id: str
    side: Side
    limit_price: Decimal
    maker_amount_micro: Micro  # BUY: pUSD offered; SELL: shares offered
    taker_amount_micro: Micro  # BUY: least shares wanted; SELL: least pUSD wanted
    neg_risk: bool = False
    wire: dict[str, str] = Field(default_factory=dict)  # SignedOrderV2 fields, as strings

    @property
    def shares_micro(self) -> int:
        """Return the shares this order trades at its limit price."""
        return self.taker_amount_micro if self.side is Side.BUY else self.maker_amount_micro


class PostOrderInput(Frozen):
    """Post one signed order; a retry re-posts the same order after looking it up by hash."""

    order: SignedOrder
    wallet: Wallet


class PostOrderResult(Frozen):
    """How the CLOB took an order: accepted (live or matched) or killed with nothing filled."""

    order_id: str
    state: VenueOrderState
    reason: str = ""  # the CLOB's text for a kill, or how the order was found (lookup)
    trade_ids: list[str] = Field(default_factory=list)
    tx_hashes: list[str] = Field(default_factory=list)
    filled_shares_micro: Micro = 0  # as the post response or the lookup reported it
    notional_micro: Micro = 0


class FollowOrderInput(Frozen):
    """Follow an accepted order until it is terminal; at the deadline cancel what rests."""

    order: SignedOrder
    wallet: Wallet
    posted: PostOrderResult
    deadline: datetime  # after it, the rest is cancelled
    cancel_now: bool = False  # the flow is winding down: cancel what rests at once
    poll_interval_s: float = Field(default=0.25, gt=0)


class OrderTrade(Frozen):
    """One trade of a follower's order, from the order's own side."""

    trade_id: str
    shares_micro: Micro
    price: Decimal  # average pUSD per share of this trade for this order
    notional_micro: Micro
    fee_micro: Micro = 0
    tx_hash: str | None = None
    status: str = ""  # MATCHED, MINED, CONFIRMED or FAILED
    matched_at: datetime | None = None


class FollowOrderResult(Frozen):
    """An order's terminal state and what it filled (failed settlements excluded), never less
    than the CLOB says matched."""

    order_id: str
    state: VenueOrderState
    filled_shares_micro: Micro = 0
    notional_micro: Micro = 0  # pUSD paid (BUY) or received (SELL)
    fee_micro: Micro = 0
    trades: list[OrderTrade] = Field(default_factory=list)  # the trades that count: the ledger's
    cancelled_rest: bool = False  # the deadline came and the rest was cancelled
    failed_trades: list[OrderTrade] = Field(default_factory=list)  # settlement failed: not counted
    # The CLOB said more filled (size_matched, the post answer, trade ids) than the trade rows
    # found by the end show; the difference is in the totals, counted at the limit price, and
    # in `trades` as one row with trade id "inferred:<order hash>" and status INFERRED.
    trades_missing: bool = False
    inferred_shares_micro: Micro = 0  # of `filled_shares_micro`: what no trade row backs
    inferred_notional_micro: Micro = 0  # of `notional_micro`: those shares at the limit price
    missing_trade_ids: list[str] = Field(default_factory=list)  # named by the CLOB, never found


class CancelOrdersInput(Frozen):
    """Cancel a follower's open orders in some tokens (all its open orders when empty)."""

    wallet: Wallet
    token_ids: list[str] = Field(default_factory=list)
    reason: str = ""


class CancelOrdersResult(Frozen):
    """Order hashes the CLOB cancelled."""

    cancelled: list[str] = Field(default_factory=list)


class MarkPostedInput(Frozen):
    """Record that a mirror flow's order reached the CLOB."""

    pair_id: str
    decision_id: str
    order_id: str
    limit_price: Decimal | None = None


class RecordExecutionsInput(Frozen):
    """Record the trades of one of a mirror flow's orders."""

    pair_id: str
    decision_id: str
    order_id: str
    side: Side
    trades: list[OrderTrade]


class PositionsInput(Frozen):
    """Read a follower's on-chain outcome-token balances."""

    wallet: str
    token_ids: list[str]
    market_versions: dict[str, MarketVersion] = Field(default_factory=dict)  # absent: v1


class PositionsResult(Frozen):
    """On-chain balances in share micro-units, per token id."""

    balances: dict[str, int] = Field(default_factory=dict)
