"""Inputs and results of ProjectK's activities: one input and one result type per activity.

Invariants:
- Every type is a frozen pydantic model with defaults on new fields, so old histories decode.
- No type here carries a secret: keys are named by `key_ref` only; a signed order (issue 5) is
  public data once posted.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum, unique

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
    PairConfig,
    Position,
    Side,
    SignatureType,
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
    # Fill ids a chain reorganisation removed that the poller may already have been given; when
    # non-empty, `cursor` may be *before* the input cursor: the poller rewinds to it (fills it
    # already handled come again and are recognised by id).
    retracted: list[str] = Field(default_factory=list)


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


# -- claims (issue 6) ---------------------------------------------------------------------------


class MarketInfoInput(Frozen):
    """Ask which market each outcome token belongs to, and whether it has ended or resolved."""

    token_ids: list[str]


class MarketInfo(Frozen):
    """A binary market as the claim flow needs it; token_ids are (Yes, No)."""

    condition_id: str
    token_ids: list[str] = Field(default_factory=list)
    neg_risk: bool = False
    closed: bool = False  # the venue stopped trading it
    end_date: datetime | None = None
    payout_denominator: int = Field(default=0, ge=0)  # > 0 once resolved on chain
    payout_numerators: list[int] = Field(default_factory=list)


class MarketInfoResult(Frozen):
    """Markets by token id; a token the venue does not know is absent."""

    markets: dict[str, MarketInfo] = Field(default_factory=dict)


class ClaimTarget(Frozen):
    """Whose position in which market to redeem, and with which wallet."""

    holder: str  # the address holding the outcome tokens (the pair's funder)
    condition_id: str
    key_ref: str  # the signer's key, by reference only
    signature_type: SignatureType = SignatureType.EOA
    token_ids: list[str] = Field(default_factory=list)  # (Yes, No); empty: ask the venue
    neg_risk: bool = False


class ClaimWorkflowInput(Frozen):
    """Start (or continue-as-new) input of ClaimWorkflow."""

    target: ClaimTarget
    pair_id: str | None = None  # the pair (if any) that started it
    checks: int = Field(default=0, ge=0)  # resolution checks already made
    gas_waits: int = Field(default=0, ge=0)  # low-gas waits already made


class ResolutionInput(Frozen):
    """Read a condition's payout vector from ConditionalTokens."""

    condition_id: str


class Resolution(Frozen):
    """payoutDenominator and payoutNumerators of a condition; denominator 0 = unresolved."""

    denominator: int = Field(default=0, ge=0)
    numerators: list[int] = Field(default_factory=list)


class GasCheckInput(Frozen):
    """Read the POL balance of the key that pays a claim's gas."""

    key_ref: str
    holder: str


class GasCheck(Frozen):
    """The gas payer's POL balance against the low-gas threshold (wei)."""

    signer: str
    balance_wei: int = Field(ge=0)
    threshold_wei: int = Field(ge=0)

    @property
    def enough(self) -> bool:
        """Tell whether the payer may send a redeem transaction."""
        return self.balance_wei >= self.threshold_wei


class ClaimBalancesInput(Frozen):
    """Read a holder's balances of a market's outcome tokens."""

    holder: str
    token_ids: list[str]


class ClaimBalances(Frozen):
    """Outcome-token balances in share micro-units, in the order of the input token ids."""

    shares_micro: list[int] = Field(default_factory=list)


class SignRedeemInput(Frozen):
    """Build and sign the one redeem transaction of a claim."""

    target: ClaimTarget
    shares_micro: list[int]  # balances (Yes, No) the redeem is for
    attempt: int = Field(default=0, ge=0)  # a new signature only after the last one was replaced


class SignedRedeem(Frozen):
    """A signed redeem transaction: public once sent; its hash is known before sending."""

    tx_hash: str
    raw_tx: str
    signer: str
    nonce: int = Field(ge=0)
    route: str
    to: str


@unique
class RedeemOutcome(StrEnum):
    """How a redeem transaction ended."""

    MINED = "mined"  # mined and succeeded
    REVERTED = "reverted"  # mined and reverted
    REPLACED = "replaced"  # its nonce was used by another transaction; never mined
    GONE = "gone"  # never mined and the tokens are gone (redeemed elsewhere); nothing sent


class SendRedeemInput(Frozen):
    """Send (or find) a signed redeem transaction and wait for its receipt."""

    signed: SignedRedeem
    holder: str
    token_ids: list[str]


class RedeemReceipt(Frozen):
    """What a redeem transaction did."""

    outcome: RedeemOutcome
    tx_hash: str
    gas_used: int = Field(default=0, ge=0)
    payout_micro: Micro = 0  # pUSD the holder received in this transaction
    block_number: int = Field(default=0, ge=0)


class RecordClaimInput(Frozen):
    """Write a claim's new state to the ledger (forward only, idempotent)."""

    holder: str
    condition_id: str
    status: str  # a ClaimStatus value
    payout_micro: Micro | None = None
    tx_hash: str | None = None
    gas_used: int | None = Field(default=None, ge=0)


class ClaimReport(Frozen):
    """What a finished claim tells the pairs of its holder: the market's payout vector."""

    holder: str
    condition_id: str
    token_ids: list[str]
    numerators: list[int]
    denominator: int = Field(gt=0)
    status: str  # the claim's terminal ClaimStatus value
    tx_hash: str | None = None


class PairsOfHolderInput(Frozen):
    """Find the registered pairs whose funds sit at an address."""

    holder: str


class PairIds(Frozen):
    """Pair ids."""

    pair_ids: list[str] = Field(default_factory=list)


class ClaimCandidates(Frozen):
    """Claims the sweep should make sure exist."""

    targets: list[ClaimTarget] = Field(default_factory=list)


class ClaimResult(Frozen):
    """How a ClaimWorkflow ended."""

    status: str  # a terminal ClaimStatus value
    payout_micro: Micro = 0
    tx_hash: str | None = None
    gas_used: int | None = None
    checks: int = 0  # resolution checks made


class HoldingsInput(Frozen):
    """Ask the ledger what every registered pair holds (for the claim sweep)."""

    include_removed: bool = True  # a removed pair's shares still need claiming


class PairHolding(Frozen):
    """One pair's configuration and the shares it holds per token, from its recorded orders."""

    config: PairConfig
    positions: dict[str, Position] = Field(default_factory=dict)


class Holdings(Frozen):
    """What every pair holds."""

    pairs: list[PairHolding] = Field(default_factory=list)
