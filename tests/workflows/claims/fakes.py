"""A hand-written fake of the claim chain and market directory, behind the real claim activities.

It behaves like `ClaimChain` and `ClobMarketDirectory` over a chain where a market resolves at
a given (Temporal) time: resolution reads before then return an unresolved condition, balances
are what the test set, a redeem pays what `redeemPositions` would and burns the balances, and
gas is what the test set. It counts every call so tests can assert on what the workflow did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from temporalio import activity

from projectk import claims
from projectk.messages import (
    ClaimBalances,
    ClaimBalancesInput,
    GasCheck,
    GasCheckInput,
    MarketInfo,
    RedeemOutcome,
    RedeemReceipt,
    Resolution,
    ResolutionInput,
    SendRedeemInput,
    SignedRedeem,
    SignRedeemInput,
)

SIGNER = "0x4444444444444444444444444444444444444444"
THRESHOLD = 5 * 10**17


@dataclass
class FakeClaimChain:
    """A fake chain for claim workflows."""

    resolves_at: datetime | None = None
    numerators: list[int] = field(default_factory=lambda: [1, 0])
    balances: dict[str, int] = field(default_factory=dict)  # token id -> shares
    gas_wei: list[int] = field(default_factory=lambda: [10**18])  # per check; last repeats
    markets: dict[str, MarketInfo] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    read_times: list[datetime] = field(default_factory=list)

    def resolved_at(self, when: datetime) -> bool:
        return self.resolves_at is not None and when >= self.resolves_at

    async def read_resolution(self, data: ResolutionInput) -> Resolution:
        self.calls["read_resolution"] += 1
        when = activity.info().current_attempt_scheduled_time
        self.read_times.append(when)
        if not self.resolved_at(when):
            return Resolution()
        return Resolution(denominator=sum(self.numerators), numerators=self.numerators)

    async def market_of_token(self, token_id: str) -> MarketInfo | None:
        self.calls["market_info"] += 1
        return self.markets.get(token_id)

    async def check_gas(self, data: GasCheckInput) -> GasCheck:
        n = self.calls["check_gas"]
        self.calls["check_gas"] += 1
        balance = self.gas_wei[min(n, len(self.gas_wei) - 1)]
        return GasCheck(signer=SIGNER, balance_wei=balance, threshold_wei=THRESHOLD)

    async def read_claim_balances(self, data: ClaimBalancesInput) -> ClaimBalances:
        self.calls["read_claim_balances"] += 1
        return ClaimBalances(shares_micro=[self.balances.get(t, 0) for t in data.token_ids])

    async def sign_redeem(self, data: SignRedeemInput) -> SignedRedeem:
        self.calls["sign_redeem"] += 1
        tx = "0x" + f"{self.calls['sign_redeem']:064x}"
        return SignedRedeem(tx_hash=tx, raw_tx="0x00", signer=SIGNER, nonce=0, route="ctf", to="0x")

    async def send_redeem(
        self, data: SendRedeemInput, beat: Callable[[str], None] = lambda _: None
    ) -> RedeemReceipt:
        self.calls["send_redeem"] += 1
        stakes = {
            s: self.balances.pop(t, 0)
            for s, t in zip(claims.BINARY_INDEX_SETS, data.token_ids, strict=False)
        }
        payout = claims.payout_micro(stakes, self.numerators, sum(self.numerators))
        return RedeemReceipt(
            outcome=RedeemOutcome.MINED,
            tx_hash=data.signed.tx_hash,
            gas_used=85_000,
            payout_micro=payout,
            block_number=1,
        )
