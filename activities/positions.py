"""Read a follower's outcome-token balances on ConditionalTokens, for reconciliation.

Invariant: reads only, at one block (the latest when asked), so one answer is one consistent
picture of the wallet.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from web3 import AsyncWeb3

from adapters.chain.contracts import CONDITIONAL_TOKENS, ERC1155_BALANCE_ABI
from projectk.messages import PositionsInput, PositionsResult


class PositionActivities:
    """Read follower positions from the chain."""

    def __init__(self, w3: AsyncWeb3[Any]) -> None:
        self._w3 = w3
        self._ctf = w3.eth.contract(
            address=w3.to_checksum_address(CONDITIONAL_TOKENS), abi=ERC1155_BALANCE_ABI
        )

    @activity.defn(name="follower_positions")
    async def follower_positions(self, data: PositionsInput) -> PositionsResult:
        """Return the wallet's balance of each token at the latest block."""
        block = await self._w3.eth.block_number
        wallet = self._w3.to_checksum_address(data.wallet)
        balances = {}
        for token in data.token_ids:
            call = self._ctf.functions.balanceOf(wallet, int(token))
            balances[token] = int(await call.call(block_identifier=block))
        return PositionsResult(balances=balances)
