"""Read a wallet's redemptions from ConditionalTokens' PayoutRedemption logs (for /activity).

Invariant: the chain is the only source; every PayoutRedemption log whose redeemer is the wallet
becomes one redemption, with its block's timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from sandbox.chain import CONDITIONAL_TOKENS
from sandbox.rpc import Rpc

PAYOUT_REDEMPTION = keccak(
    text="PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)"
)


@dataclass(frozen=True)
class Redemption:
    """One redeemPositions call that paid ``payout`` micro-pUSD."""

    condition_id: str
    payout: int
    tx_hash: str
    timestamp: int


async def redemptions(rpc: Rpc, user: str) -> list[Redemption]:
    """Return the wallet's redemptions, newest first."""
    topic_user = "0x" + "00" * 12 + user[2:].lower()
    logs = await rpc.request(
        "eth_getLogs",
        [
            {
                "fromBlock": "0x0",
                "toBlock": "latest",
                "address": CONDITIONAL_TOKENS,
                "topics": ["0x" + PAYOUT_REDEMPTION.hex(), topic_user],
            }
        ],
    )
    out = []
    for log in logs:
        cond, _, payout = decode(
            ["bytes32", "uint256[]", "uint256"], bytes.fromhex(log["data"][2:])
        )
        block = await rpc.request("eth_getBlockByNumber", [log["blockNumber"], False])
        out.append(
            Redemption(
                "0x" + cond.hex(), int(payout), log["transactionHash"], int(block["timestamp"], 16)
            )
        )
    return sorted(out, key=lambda r: r.timestamp, reverse=True)
