"""Chain reads as activities: outcome-token balances for SELL sizing and reconciliation.

Invariant: thin; the reads, their consistency rules and where each market version keeps its
balances live in `adapters.chain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from temporalio import activity

from projectk.messages import PositionsInput, PositionsResult, TokenBalance, TokenBalanceInput
from projectk.models import MarketVersion


class BalanceReader(Protocol):
    """Outcome-token balances (`adapters.chain.ChainReader`, or a test's fake)."""

    async def token_balance(
        self,
        wallet: str,
        token_id: str,
        block: int | None = None,
        version: MarketVersion = MarketVersion.V1,
    ) -> int:
        """Return a wallet's balance of one token of a market version at a block (None: latest)."""
        ...

    async def balances(
        self,
        wallet: str,
        token_ids: list[str],
        versions: Mapping[str, MarketVersion] | None = None,
    ) -> dict[str, int]:
        """Return the wallet's balance of each token (v1 unless `versions` says) at one block."""
        ...


class ChainActivities:
    """Read outcome-token balances through an injected reader."""

    def __init__(self, reader: BalanceReader) -> None:
        self._reader = reader

    @activity.defn(name="token_balance")
    async def token_balance(self, data: TokenBalanceInput) -> TokenBalance:
        """Return a wallet's balance of one outcome token at a block (or the latest)."""
        shares = await self._reader.token_balance(
            data.wallet, data.token_id, data.block_number, data.market_version
        )
        return TokenBalance(shares_micro=shares)

    @activity.defn(name="follower_positions")
    async def follower_positions(self, data: PositionsInput) -> PositionsResult:
        """Return the wallet's balance of each token at the latest block."""
        read = await self._reader.balances(data.wallet, data.token_ids, data.market_versions)
        return PositionsResult(balances=read)
