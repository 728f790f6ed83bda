"""Payloads of the pair flow: PairWorkflow's input, its signals and updates, and the
activities it calls (fill long-poll, skips, alerts).

Invariant: frozen pydantic models with defaults on new fields, so histories decode after
additions; none carries a secret (keys are named by `key_ref` only).
"""

from __future__ import annotations

from pydantic import Field

from projectk.models import (
    AlertLevel,
    FillCursor,
    Frozen,
    Guards,
    OrderType,
    PairConfig,
    PairState,
    Side,
    Sizing,
    SourceFill,
)


class PairWorkflowInput(Frozen):
    """Start (or continue-as-new) input of PairWorkflow."""

    config: PairConfig
    state: PairState | None = None  # set when continuing as new
    poll_timeout_s: float = Field(default=300.0, gt=0)  # long-poll length of wait_for_fills
    start_cursor: FillCursor | None = None  # where a new pair starts reading fills
    claim_check_every_s: float = Field(default=21_600.0, gt=0)  # claims: held markets ended?
    # Execution timeout of each mirror child (a flow that cannot finish in an hour is stuck); a
    # flight older than this and a grace has a child that never reported: the pair settles it.
    mirror_timeout_s: float = Field(default=3_600.0, gt=0)


class ConfigPatch(Frozen):
    """A validated change to a running pair's configuration (the update_config update)."""

    budget_micro: int | None = Field(default=None, gt=0)
    sizing: Sizing | None = None
    guards: Guards | None = None
    order_type: OrderType | None = None


class StopRequest(Frozen):
    """Argument of the emergency_stop signal."""

    reason: str = "emergency stop"


class WaitForFillsInput(Frozen):
    """Long-poll for a source wallet's fills strictly after a cursor."""

    pair_id: str
    source: str
    cursor: FillCursor
    timeout_s: float = Field(default=300.0, gt=0)
    # The newest `FillBatch.rewind_epoch` the poller has applied: a reorg retraction it has
    # applied is not handed to it again.
    rewind_epoch: int = Field(default=0, ge=0)


class FillBatch(Frozen):
    """Fills after the input cursor, oldest first, and the cursor to poll from next."""

    fills: list[SourceFill] = Field(default_factory=list)
    cursor: FillCursor
    # Fill ids a chain reorganisation removed that the poller may already have been given; when
    # non-empty, `cursor` may be *before* the input cursor: the poller rewinds to it (fills it
    # already handled come again and are recognised by id).
    retracted: list[str] = Field(default_factory=list)
    # Once the poller has applied this batch it is up to date with every reorg retraction up to
    # this epoch (0: none known); it sends the newest one back as `WaitForFillsInput.rewind_epoch`.
    rewind_epoch: int = Field(default=0, ge=0)


class SkippedFill(Frozen):
    """A fill the pair decided not to mirror, and why."""

    fill_id: str
    token_id: str
    side: Side
    reason: str
    order_hash: str = ""  # the source order the fill is a piece of


class RecordSkipsInput(Frozen):
    """Record the fills a pair skipped."""

    pair_id: str
    skips: list[SkippedFill]


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


class MarketOfTokenInput(Frozen):
    """Ask which market (condition) an outcome token belongs to."""

    token_id: str


class MarketOfToken(Frozen):
    """The token's condition id; "" when the venue does not know the token."""

    condition_id: str = ""


class BookedByOthersInput(Frozen):
    """Ask what the other pairs sharing a funder have booked in some tokens."""

    pair_id: str
    holder: str  # the shared funder
    token_ids: list[str]


class RecordedFillsInput(Frozen):
    """Ask the ledger what a mirror decision's orders filled, from the trades its rounds wrote."""

    pair_id: str
    decision_id: str


class RecordedFills(Frozen):
    """What a decision's recorded trades add up to, and the orders it posted."""

    filled_shares_micro: int = 0
    notional_micro: int = 0
    fee_micro: int = 0
    order_ids: list[str] = Field(default_factory=list)
