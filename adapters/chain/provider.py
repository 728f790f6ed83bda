"""web3 over the RPC pool: contract calls, balance reads and transactions go through the same
endpoints, failover, rate limits and counters as the chain tail.

Invariants:
- Every request web3 makes (its own helper calls included) is one `RpcPool.request`; web3 sees
  the node's answer whole, so its own errors (a revert, a transaction not found) are raised as
  with any provider, and `RpcUnavailable` when no endpoint answered.
- Parameters are encoded by web3's own JSON encoder (bytes, HexBytes, checksum addresses).
- Reads never go back in time: a state read at a block is answered only by a node that has
  reached that block, a read at "latest" only by a node whose head is at least the highest the
  pool has seen (in one batch with its head), and the head web3 is told is never below one
  already seen. A node lagging behind a load balancer can
  neither hand a SELL a stale balance nor make reconciliation lower a position the chain holds.
"""

from __future__ import annotations

import json
from typing import Any, cast

from web3.providers.async_base import AsyncJSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from adapters.chain.rpc import RpcPool


class PoolProvider(AsyncJSONBaseProvider):
    """A web3 provider that sends each request through an `RpcPool`."""

    def __init__(self, rpc: RpcPool) -> None:
        super().__init__()
        self._rpc = rpc

    def __repr__(self) -> str:
        return f"PoolProvider(endpoints={len(self._rpc.endpoints)})"

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Send one request through the pool and return the node's answer."""
        name = str(method)
        wire: list[Any] = json.loads(self.encode_rpc_request(method, params))["params"]
        block = _least_block(wire, BLOCK_PARAM.get(name), self._rpc.head_seen)
        if block is None:
            answer = await self._rpc.request(name, wire)
            if name == "eth_blockNumber" and "result" in answer:
                # Never a head behind one already seen (a lagging node behind a balancer).
                answer = {**answer, "result": hex(self._rpc.head_seen)}
            return cast(RPCResponse, answer)
        return cast(RPCResponse, await self._rpc.request_at(block, name, wire))


# Where the block of a state read is (its position in the params).
BLOCK_PARAM = {
    "eth_call": 1,
    "eth_getBalance": 1,
    "eth_getCode": 1,
    "eth_getTransactionCount": 1,
    "eth_getStorageAt": 2,
}


def _least_block(params: list[Any], position: int | None, head_seen: int) -> int | None:
    # The block the answering node must have reached for a state read: the read's own block, or
    # for "latest" the highest head seen (the read stays at the node's latest, so it is fresh and
    # never older than what was seen). None: any node may answer.
    if position is None:
        return None
    tag = params[position] if len(params) > position else "latest"
    if isinstance(tag, str) and tag.startswith("0x"):
        return int(tag, 16)
    if tag == "latest" and head_seen > 0:
        return head_seen
    return None
