"""Claim activities: market facts, resolution, gas, balances, and the one redeem transaction.

Invariant: thin; the chain work (and why it never sends a redeem twice) lives in
`adapters.chain.ClaimChain`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from temporalio import activity

from adapters.polymarket import MarketDirectory
from projectk.messages import (
    ClaimBalances,
    ClaimBalancesInput,
    GasCheck,
    GasCheckInput,
    MarketInfoInput,
    MarketInfoResult,
    RedeemReceipt,
    Resolution,
    ResolutionInput,
    SendRedeemInput,
    SignedRedeem,
    SignRedeemInput,
)


class ClaimChainPort(Protocol):
    """The chain side of claims (`adapters.chain.ClaimChain`, or a test's fake)."""

    async def read_resolution(self, data: ResolutionInput) -> Resolution:
        """Return a condition's payout vector (denominator 0 while unresolved)."""
        ...

    async def check_gas(self, data: GasCheckInput) -> GasCheck:
        """Return the gas payer's POL balance against the threshold."""
        ...

    async def read_claim_balances(self, data: ClaimBalancesInput) -> ClaimBalances:
        """Return the holder's balance of each token, in input order."""
        ...

    async def sign_redeem(self, data: SignRedeemInput) -> SignedRedeem:
        """Build and sign the one redeem transaction of a claim."""
        ...

    async def send_redeem(
        self, data: SendRedeemInput, beat: Callable[[str], None] = ...
    ) -> RedeemReceipt:
        """Send (or find) the signed redeem and wait for its outcome, beating while waiting."""
        ...


class ClaimActivities:
    """Read what a claim needs and send its redeem transaction (injected chain and markets)."""

    def __init__(self, chain: ClaimChainPort, markets: MarketDirectory) -> None:
        self.chain = chain
        self.markets = markets

    @activity.defn(name="market_info")
    async def market_info(self, data: MarketInfoInput) -> MarketInfoResult:
        """Return each known token's market, with its on-chain resolution."""
        found = {}
        for token in data.token_ids:
            market = await self.markets.market_of_token(token)
            if market is None:
                continue
            resolution = await self.chain.read_resolution(
                ResolutionInput(condition_id=market.condition_id)
            )
            found[token] = market.model_copy(
                update={
                    "payout_denominator": resolution.denominator,
                    "payout_numerators": resolution.numerators,
                }
            )
        return MarketInfoResult(markets=found)

    @activity.defn(name="read_resolution")
    async def read_resolution(self, data: ResolutionInput) -> Resolution:
        """Return payoutDenominator and payoutNumerators of a condition (0 and [] if open)."""
        return await self.chain.read_resolution(data)

    @activity.defn(name="check_gas")
    async def check_gas(self, data: GasCheckInput) -> GasCheck:
        """Return the POL balance of the key that pays the claim's gas, against the threshold."""
        return await self.chain.check_gas(data)

    @activity.defn(name="read_claim_balances")
    async def read_claim_balances(self, data: ClaimBalancesInput) -> ClaimBalances:
        """Return the holder's balance of each token, in input order."""
        return await self.chain.read_claim_balances(data)

    @activity.defn(name="sign_redeem")
    async def sign_redeem(self, data: SignRedeemInput) -> SignedRedeem:
        """Build and sign the redeem transaction; nothing is sent here."""
        return await self.chain.sign_redeem(data)

    @activity.defn(name="send_redeem")
    async def send_redeem(self, data: SendRedeemInput) -> RedeemReceipt:
        """Send the signed transaction unless the chain already has it, and wait for it."""
        return await self.chain.send_redeem(data, beat=activity.heartbeat)
