"""Outcome-token balances read from ConditionalTokens, for SELL sizing and reconciliation.

Invariants: reads only; a read at an explicit block is deterministic, so a retry returns the
same answer; `balances` reads every token at one block, so one answer is one consistent picture
of the wallet.
"""

from __future__ import annotations

from typing import Any

from web3 import AsyncWeb3

from adapters.chain.contracts import CONDITIONAL_TOKENS, ERC1155_BALANCE_ABI


class ChainReader:
    """Read outcome-token balances over an injected web3 client."""

    def __init__(self, w3: AsyncWeb3[Any]) -> None:
        self._w3 = w3
        self._ctf = w3.eth.contract(
            address=w3.to_checksum_address(CONDITIONAL_TOKENS), abi=ERC1155_BALANCE_ABI
        )

    async def token_balance(self, wallet: str, token_id: str, block: int | None = None) -> int:
        """Return a wallet's balance of one outcome token at a block (None: the latest)."""
        call = self._ctf.functions.balanceOf(self._w3.to_checksum_address(wallet), int(token_id))
        return int(await call.call(block_identifier="latest" if block is None else block))

    async def balances(self, wallet: str, token_ids: list[str]) -> dict[str, int]:
        """Return the wallet's balance of each token, all read at the latest block."""
        block = await self._w3.eth.block_number
        return {token: await self.token_balance(wallet, token, block) for token in token_ids}
