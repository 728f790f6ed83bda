"""Payloads of the claim flow: ClaimWorkflow, the claim sweep and the activities they call.

Invariant: frozen pydantic models with defaults on new fields; a key is named by `key_ref` only.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum, unique

from pydantic import Field

from projectk.models import Frozen, Micro, PairConfig, Position, SignatureType


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
