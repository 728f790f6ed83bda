"""Outcome-token balances for SELL sizing and reconciliation, read where the market's version
keeps them: ConditionalTokens for a v1 (CTF) token id, PositionManager for a v2 position id.

Invariants: reads only; the caller says each token's market version (it comes from the fill that
made the token known: the exchange that settled it), never guessed from the id; a read at an
explicit block is deterministic, so a retry returns the same answer; `balances` reads every token
at one block, so one answer is one consistent picture of the wallet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web3 import AsyncWeb3
from web3.contract import AsyncContract

from adapters.chain.contracts import CONDITIONAL_TOKENS, ERC1155_BALANCE_ABI, POSITION_MANAGER
from projectk.models import MarketVersion

# Both ledgers are ERC-1155: ConditionalTokens holds v1 outcome tokens, PositionManager v2
# positions (the SDK reads a v2 market's positions from it as an ERC-1155 too).
_LEDGERS = {MarketVersion.V1: CONDITIONAL_TOKENS, MarketVersion.V2: POSITION_MANAGER}


class ChainReader:
    """Read outcome-token balances over an injected web3 client."""

    def __init__(self, w3: AsyncWeb3[Any]) -> None:
        self._w3 = w3
        self._ledgers: dict[MarketVersion, AsyncContract] = {
            version: w3.eth.contract(
                address=w3.to_checksum_address(address), abi=ERC1155_BALANCE_ABI
            )
            for version, address in _LEDGERS.items()
        }

    async def token_balance(
        self,
        wallet: str,
        token_id: str,
        block: int | None = None,
        version: MarketVersion = MarketVersion.V1,
    ) -> int:
        """Return a wallet's balance of one outcome token at a block (None: the latest)."""
        ledger = self._ledgers[version]
        call = ledger.functions.balanceOf(self._w3.to_checksum_address(wallet), int(token_id))
        return int(await call.call(block_identifier="latest" if block is None else block))

    async def balances(
        self,
        wallet: str,
        token_ids: list[str],
        versions: Mapping[str, MarketVersion] | None = None,
    ) -> dict[str, int]:
        """Return the wallet's balance of each token, all read at the latest block; a token
        missing from `versions` is a v1 one."""
        block = await self._w3.eth.block_number
        known = versions or {}
        return {
            token: await self.token_balance(
                wallet, token, block, known.get(token, MarketVersion.V1)
            )
            for token in token_ids
        }
