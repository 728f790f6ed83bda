"""Chain reads as activities, over an injected web3 client.

Invariant: reads at an explicit block are deterministic, so retries return the same answer.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from web3 import AsyncWeb3

from adapters.chain.contracts import CONDITIONAL_TOKENS, ERC1155_BALANCE_ABI
from projectk.messages import TokenBalance, TokenBalanceInput


class ChainActivities:
    """Read outcome-token balances from ConditionalTokens."""

    def __init__(self, w3: AsyncWeb3[Any]) -> None:
        self._ctf = w3.eth.contract(
            address=w3.to_checksum_address(CONDITIONAL_TOKENS), abi=ERC1155_BALANCE_ABI
        )

    @activity.defn(name="token_balance")
    async def token_balance(self, data: TokenBalanceInput) -> TokenBalance:
        """Return a wallet's balance of one outcome token at a block (or the latest)."""
        call = self._ctf.functions.balanceOf(data.wallet, int(data.token_id))
        if data.block_number is None:
            balance = await call.call(block_identifier="latest")
        else:
            balance = await call.call(block_identifier=data.block_number)
        return TokenBalance(shares_micro=int(balance))
