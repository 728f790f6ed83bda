"""Domain types shared by workflows, activities, the ledger, the CLI, the bot and the dashboard.

Invariants:
- Money (pUSD) and share amounts are integers in micro-units (6 decimals); prices are `Decimal`.
  No float ever holds money.
- Every type here is a frozen pydantic model that round-trips through Temporal's pydantic data
  converter; new fields get defaults so old workflow histories still decode.
- Wallet addresses are EIP-55 checksummed; token ids are decimal strings (uint256 does not fit a
  JSON number that every reader, e.g. the Temporal UI, can hold exactly).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum, unique
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from projectk.addresses import is_address, to_checksum

MICRO = 1_000_000  # micro-units per pUSD or per share (6 decimals)
KEY_REF_PREFIX = "vault://"


def _checksum(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an Ethereum address: {value!r}")
    checksummed = to_checksum(value)
    if value != value.lower() and value != checksummed:
        raise ValueError(f"address checksum does not match: {value!r}")
    return checksummed


def _key_ref(value: str) -> str:
    name = value.removeprefix(KEY_REF_PREFIX)
    if not value.startswith(KEY_REF_PREFIX) or not is_vault_name(name):
        raise ValueError(f"key_ref must look like vault://NAME, got {value!r}")
    return value


def is_vault_name(name: str) -> bool:
    """Tell whether a vault entry name is acceptable (letters, digits, '-', '_', 1-64 chars)."""
    return 0 < len(name) <= 64 and all(c.isalnum() or c in "-_" for c in name)


def _pair_id(value: str) -> str:
    if not (0 < len(value) <= 64) or not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError(f"pair id must be 1-64 letters, digits, '-' or '_', got {value!r}")
    return value


Address = Annotated[str, AfterValidator(_checksum)]
KeyRef = Annotated[str, AfterValidator(_key_ref)]
PairId = Annotated[str, AfterValidator(_pair_id)]
Micro = Annotated[int, Field(ge=0)]


class Frozen(BaseModel):
    """Base for immutable domain values."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@unique
class Side(StrEnum):
    """Order side, as the CLOB and the exchange event name it."""

    BUY = "BUY"  # pays pUSD, receives shares (OrderFilled side 0)
    SELL = "SELL"  # pays shares, receives pUSD (OrderFilled side 1)


@unique
class MarketVersion(StrEnum):
    """Which Polymarket protocol a market's outcomes live in (Gamma's `version`)."""

    V1 = "v1"  # CTF: outcome ids are ConditionalTokens token ids
    V2 = "v2"  # Protocol V2: outcome ids are PositionManager position ids


@unique
class Exchange(StrEnum):
    """Which exchange contract settled a fill."""

    CTF = "ctf"  # CTF Exchange V2, binary v1 markets
    NEG_RISK = "neg_risk"  # NegRisk Exchange V2, multi-outcome v1 markets
    V3 = "v3"  # ExchangeV3, every v2 market

    @property
    def market_version(self) -> MarketVersion:
        """Return the version of the markets this exchange settles (it settles no other)."""
        return MarketVersion.V2 if self is Exchange.V3 else MarketVersion.V1


@unique
class SignatureType(IntEnum):
    """Wallet kind of the follower, as the CLOB order's signatureType."""

    EOA = 0  # plain key pair; funder is the signer
    POLY_PROXY = 1  # email/Magic proxy wallet
    POLY_GNOSIS_SAFE = 2  # browser-wallet Gnosis Safe
    POLY_1271 = 3  # deposit wallet (accounts made since May 2026)


@unique
class PairStatus(StrEnum):
    """Lifecycle of a pair; only ACTIVE starts new mirror orders."""

    ACTIVE = "active"  # mirrors new source fills
    PAUSED = "paused"  # by an operator or the daily loss limit; resume restarts it
    BLOCKED = "blocked"  # too many consecutive failures; resume restarts it
    STOPPED = "stopped"  # emergency stop: open orders cancelled; only resume restarts it
    REMOVED = "removed"  # deregistered; the workflow has ended


@unique
class SizingMode(StrEnum):
    """How the follower's order size follows the source fill."""

    FIXED = "fixed"  # a fixed pUSD amount per source buy
    PROPORTIONAL = "proportional"  # ratio x source notional
    PERCENT_SHARES = "percent_shares"  # percentage of the source's shares


@unique
class OrderType(StrEnum):
    """CLOB order types a pair may use."""

    FAK = "FAK"  # fill what the book has at the limit, kill the rest (default)
    FOK = "FOK"  # all or nothing
    GTC = "GTC"  # rests on the book until filled, cancelled at the mirror deadline
    GTD = "GTD"  # rests until an expiry


@unique
class MirrorOutcome(StrEnum):
    """Terminal result of one mirror order flow."""

    FILLED = "filled"  # the whole intended size filled
    PARTIAL = "partial"  # some filled, the remainder was cancelled
    UNFILLED = "unfilled"  # nothing filled (killed or cancelled at the deadline)
    SKIPPED = "skipped"  # a guard or filter decided not to trade; reason says which
    FAILED = "failed"  # a non-retryable error; counts towards blocking the pair
    CANCELLED = "cancelled"  # stopped by an emergency stop or a retracted fill


@unique
class ClaimStatus(StrEnum):
    """Where the redemption of one follower's position in one market stands."""

    WAITING = "waiting"  # the market has not resolved yet (or gas is too low to send)
    SENT = "sent"  # the redeem transaction is sent (tx_hash set); waiting for its receipt
    REDEEMED = "redeemed"  # terminal: redeemed; payout_micro is what the follower received
    LOST = "lost"  # terminal: resolved against the follower; payout 0, nothing sent
    FAILED = "failed"  # terminal: cannot be redeemed automatically; reason in an alert

    @property
    def is_terminal(self) -> bool:
        """Tell whether no later write may change a claim in this state."""
        return self not in (ClaimStatus.WAITING, ClaimStatus.SENT)


@unique
class AlertLevel(StrEnum):
    """How urgently an alert reaches the owners (the bot decides the delivery rhythm)."""

    CRITICAL = "critical"  # sent at once: money at risk or trading halted (blocked, stopped)
    HIGH = "high"  # sent at once: a failure or a condition needing action (low gas, reorg)
    MEDIUM = "medium"  # debounced per key: fills, partial fills, claims
    LOW = "low"  # batched: informational


@unique
class AlertKind(StrEnum):
    """Common alert kinds; `record_alert` accepts any short string, these are the usual ones."""

    FILLED = "filled"  # a mirror order filled
    PARTIAL = "partial"  # a mirror order partially filled
    FAILED = "failed"  # a mirror order failed
    BLOCKED = "blocked"  # a pair hit its consecutive-failure limit
    PAUSED = "paused"  # a pair was paused (daily loss limit or operator)
    STOPPED = "stopped"  # emergency stop
    CLAIMED = "claimed"  # a position was redeemed
    LOW_GAS = "low_gas"  # a follower's POL balance is under the threshold
    REORG = "reorg"  # a source fill was retracted by a chain reorganisation
    RECONCILED = "reconciled"  # positions were repaired from the chain


class FeeSchedule(Frozen):
    """A market's taker fee: shares x rate x (p(1-p))^exponent at fill price p (none: rate 0)."""

    rate: Decimal = Field(default=Decimal(0), ge=0, le=1)
    exponent: int = Field(default=1, ge=0, le=8)

    @property
    def charged(self) -> bool:
        """True when takers pay a fee in this market."""
        return self.rate > 0


class Sizing(Frozen):
    """Sizing mode and its parameter."""

    mode: SizingMode = SizingMode.FIXED
    fixed_micro: Micro = 5 * MICRO  # FIXED: pUSD per source buy
    ratio: Decimal = Field(default=Decimal("0.1"), gt=0, le=10)  # PROPORTIONAL
    percent: Decimal = Field(default=Decimal("10"), gt=0, le=100)  # PERCENT_SHARES


class Guards(Frozen):
    """Risk guards; on by default with the values operators asked for."""

    slippage_bps: int = Field(default=300, ge=0, le=5000)
    max_consecutive_failures: int = Field(default=3, ge=1, le=100)
    daily_loss_limit_micro: Micro | None = None
    min_price: Decimal = Field(default=Decimal("0.01"), gt=0, lt=1)
    max_price: Decimal = Field(default=Decimal("0.99"), gt=0, lt=1)
    max_order_micro: Micro | None = None
    max_market_exposure_micro: Micro | None = None
    max_fill_age_s: int = Field(default=120, gt=0)  # BUYs: a source buy older than this is late
    max_sell_age_s: int | None = Field(default=None, gt=0)  # SELLs: None never drops an exit
    exit_slippage_bps: int = Field(default=500, ge=0, le=5000)  # SELLs' own price cap
    # Skip a source fill whose price is further than this from the book's mid at quote time.
    max_book_distance: Decimal | None = Field(default=Decimal("0.10"), gt=0, lt=1)
    min_source_notional_micro: Micro = 0
    buys_only: bool = False

    @model_validator(mode="after")
    def _price_range(self) -> Guards:
        if self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        return self


class PairConfig(Frozen):
    """A registered pair: whom to follow, with which wallet, under what budget and guards."""

    pair_id: PairId
    source: Address
    follower: Address
    funder: Address | None = None  # address holding the funds; default the follower
    signature_type: SignatureType = SignatureType.EOA
    key_ref: KeyRef
    budget_micro: int = Field(gt=0)
    sizing: Sizing = Sizing()
    guards: Guards = Guards()
    order_type: OrderType = OrderType.FAK
    order_deadline_s: int = Field(default=120, ge=1, le=1800)  # GTC/GTD rest this long at most
    # The operator marked the funder as shared by several pairs: each then owns only what it
    # booked, and reconciliation splits the chain's balance by what each pair booked.
    shared_funder: bool = False

    @model_validator(mode="after")
    def _distinct(self) -> PairConfig:
        if self.source == self.follower:
            raise ValueError("source and follower must be different wallets")
        return self

    @property
    def funder_address(self) -> str:
        """Return the address that holds the follower's funds."""
        return self.funder or self.follower


class FillCursor(Frozen):
    """Position in the stream of chain logs: everything at or before it has been handled."""

    block: int = Field(default=0, ge=0)
    log_index: int = Field(default=-1, ge=-1)

    def key(self) -> tuple[int, int]:
        """Return the sortable (block, log index) tuple."""
        return (self.block, self.log_index)


class SourceFill(Frozen):
    """One fill of a watched wallet's order, from its own (maker) OrderFilled log."""

    fill_id: str  # "<tx hash>:<source order hash>": the same after a reorg re-includes the tx
    wallet: Address
    side: Side
    token_id: str
    shares_micro: Micro
    notional_micro: Micro  # pUSD paid (BUY) or received (SELL)
    price: Decimal  # pUSD per share, exact
    fee_micro: Micro = 0
    exchange: Exchange = Exchange.CTF
    tx_hash: str
    block_number: int = Field(ge=0)
    log_index: int = Field(ge=0)
    block_time: datetime
    detected_at: datetime | None = None
    order_hash: str = ""  # the source order this fill is a piece of (OrderFilled topic1)

    @property
    def market_version(self) -> MarketVersion:
        """Return the version of the fill's market, which the exchange that settled it tells."""
        return self.exchange.market_version

    @property
    def order_key(self) -> str:
        """Return the key of the source order this fill belongs to (its hash, else the fill)."""
        return self.order_hash or self.fill_id

    def cursor(self) -> FillCursor:
        """Return the cursor just after this fill."""
        return FillCursor(block=self.block_number, log_index=self.log_index)


class OrderIntent(Frozen):
    """What a mirror flow decided to send for one mirror decision."""

    pair_id: str
    decision_id: str  # the mirror decision (source order hash, "/n" for its n-th top-up)
    token_id: str
    side: Side
    shares_micro: Micro
    limit_price: Decimal
    notional_micro: Micro  # worst-case pUSD at the limit price
    order_type: OrderType = OrderType.FAK


class Position(Frozen):
    """A follower's holding in one outcome token, at average cost: the one rule every reader of
    positions (the pair's books, reconciliation, the dashboard) applies.

    A buy adds its shares and what it cost; a sale removes at most the shares held, and cost in
    proportion to them, rounded down (so the cost still held never goes below 0, and the last
    share sold takes all the cost that was left).
    """

    shares_micro: Micro = 0
    cost_micro: Micro = 0  # pUSD paid for the shares still held

    def buy(self, shares_micro: int, cost_micro: int) -> Position:
        """Return the position after buying `shares_micro` for `cost_micro` (fees included)."""
        _not_negative(shares_micro, cost_micro)
        return Position(
            shares_micro=self.shares_micro + shares_micro,
            cost_micro=self.cost_micro + cost_micro,
        )

    def sell(self, shares_micro: int) -> tuple[Position, int]:
        """Return the position left after selling up to `shares_micro`, and the cost it removed."""
        _not_negative(shares_micro)
        sold = min(shares_micro, self.shares_micro)
        removed = self.cost_micro * sold // self.shares_micro if self.shares_micro else 0
        left = Position(shares_micro=self.shares_micro - sold, cost_micro=self.cost_micro - removed)
        return left, removed


def _not_negative(*amounts: int) -> None:
    # A negative buy or sale would run the rule backwards; fills are never negative.
    if any(amount < 0 for amount in amounts):
        raise ValueError(f"share and cost amounts must not be negative: {amounts}")


class MirrorReport(Frozen):
    """What a finished mirror flow tells its pair."""

    decision_id: str
    outcome: MirrorOutcome
    token_id: str = ""
    side: Side = Side.BUY
    filled_shares_micro: Micro = 0
    notional_micro: Micro = 0  # pUSD actually paid (BUY) or received (SELL)
    fee_micro: Micro = 0
    order_id: str | None = None
    reason: str = ""


class InFlight(Frozen):
    """A mirror child the pair has started and not yet heard back from."""

    decision_id: str
    workflow_id: str
    side: Side
    token_id: str
    reserved_micro: Micro = 0  # BUY: budget held back while the order is in flight
    started_at: datetime
    order_key: str = ""  # the source order it mirrors
    market: str = ""  # the token's condition id ("" when the venue did not say)
    fill_ids: list[str] = Field(default_factory=list)  # the source fills it was decided on


class SourceOrder(Frozen):
    """A source order as the pair has seen it so far: the running totals of its fills and what
    the pair's mirror decisions have done for it."""

    key: str  # the source order hash (or the fill id of a fill without one)
    token_id: str
    side: Side
    shares_micro: Micro = 0  # source shares filled so far
    notional_micro: Micro = 0  # source pUSD paid (BUY) or received (SELL) so far
    last_price: Decimal  # price of its latest fill
    first_block: int = Field(ge=0)  # block of its first fill (SELL: the source's balance before)
    market_version: MarketVersion = MarketVersion.V1  # where its token's balances live
    last_time: datetime  # block time of its latest fill
    fills: list[str] = Field(default_factory=list)  # its first fill ids (at most MAX_FILLS_KEPT)
    fill_count: int = 0  # how many fills it has had
    undecided: list[str] = Field(default_factory=list)  # fills no decision has covered yet
    pending_block: int = 0  # block of the oldest undecided fill: decisions in a market go by it
    decisions: int = 0  # mirror decisions started for it
    done_micro: Micro = 0  # BUY: pUSD its mirrors paid; SELL: shares its mirrors sold
    basis_micro: Micro = 0  # SELL: the follower's shares when its first decision started
    closed: bool = False  # FIXED buy spent, or skipped for good: later fills are not decided


class PairState(BaseModel):
    """Everything a PairWorkflow carries across continue-as-new; its `state` query returns it."""

    model_config = ConfigDict(extra="forbid")

    config: PairConfig
    status: PairStatus = PairStatus.ACTIVE
    status_reason: str = ""
    cursor: FillCursor = FillCursor()
    rewind_epoch: int = 0  # the newest reorg rewind applied (`FillBatch.rewind_epoch`)
    spent_micro: int = 0  # net pUSD committed: buys paid minus sells received, floored at 0
    reserved_micro: Micro = 0
    positions: dict[str, Position] = Field(default_factory=dict)
    realized_pnl_micro: int = 0
    consecutive_failures: int = 0
    day: str = ""  # UTC date (YYYY-MM-DD) the day counters belong to
    day_realized_pnl_micro: int = 0
    day_fills: int = 0
    fills_seen: int = 0
    mirrors_started: int = 0
    in_flight: dict[str, InFlight] = Field(default_factory=dict)  # by decision id
    orders: dict[str, SourceOrder] = Field(default_factory=dict)  # recent source orders, by key
    markets: dict[str, str] = Field(default_factory=dict)  # token id -> condition id, as looked up
    versions: dict[str, MarketVersion] = Field(default_factory=dict)  # v2 tokens (absent: v1)
    recent_fill_ids: list[str] = Field(default_factory=list)  # bounded memory of handled fills
    last_fill_at: datetime | None = None
    runs: int = 1  # how many runs (continue-as-new generations) this pair has had

    @property
    def remaining_micro(self) -> int:
        """Return the budget not yet spent nor reserved."""
        return max(0, self.config.budget_micro - self.spent_micro - self.reserved_micro)
