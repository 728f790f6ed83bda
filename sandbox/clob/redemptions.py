"""Read a wallet's redemptions from the chain (for the Data API's REDEEM activity rows).

Invariant: the chain is the only source: every ConditionalTokens PayoutRedemption log whose
redeemer is the wallet (v1 markets) and every binary-module PositionRedeemed log whose recipient
is the wallet (v2 markets, redeemed through the Router) becomes one redemption, with its block's
timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from sandbox.chain import BINARY_MODULE, CONDITIONAL_TOKENS
from sandbox.rpc import Rpc

PAYOUT_REDEMPTION = keccak(
    text="PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)"
)
POSITION_REDEEMED = keccak(text="PositionRedeemed(address,uint256,address,uint256,uint256)")


@dataclass(frozen=True)
class Redemption:
    """One redemption that paid ``payout`` micro-pUSD (``outcome`` is None for a v1 one)."""

    condition_id: str
    payout: int
    tx_hash: str
    timestamp: int
    outcome: int | None = None


async def _logs(rpc: Rpc, address: str, topics: list[str | None]) -> list[dict[str, str]]:
    logs: list[dict[str, str]] = await rpc.request(
        "eth_getLogs",
        [{"fromBlock": "0x0", "toBlock": "latest", "address": address, "topics": topics}],
    )
    return logs


async def _timestamp(rpc: Rpc, block: str) -> int:
    header = await rpc.request("eth_getBlockByNumber", [block, False])
    return int(header["timestamp"], 16)


async def redemptions(rpc: Rpc, user: str) -> list[Redemption]:
    """Return the wallet's redemptions of both market versions, newest first."""
    topic_user = "0x" + "00" * 12 + user[2:].lower()
    out = []
    for log in await _logs(rpc, CONDITIONAL_TOKENS, ["0x" + PAYOUT_REDEMPTION.hex(), topic_user]):
        cond, _, payout = decode(
            ["bytes32", "uint256[]", "uint256"], bytes.fromhex(log["data"][2:])
        )
        stamp = await _timestamp(rpc, log["blockNumber"])
        out.append(Redemption("0x" + cond.hex(), int(payout), log["transactionHash"], stamp))
    topics: list[str | None] = ["0x" + POSITION_REDEEMED.hex(), None, None, topic_user]
    for log in await _logs(rpc, BINARY_MODULE, topics):
        position = int(log["topics"][2], 16)
        _, payout = decode(["uint256", "uint256"], bytes.fromhex(log["data"][2:]))
        cond = "0x" + position.to_bytes(32, "big")[:31].hex() + "00"
        stamp = await _timestamp(rpc, log["blockNumber"])
        out.append(Redemption(cond, int(payout), log["transactionHash"], stamp, position & 0xFF))
    return sorted(out, key=lambda r: r.timestamp, reverse=True)
