"""web3 over the RPC pool: contract calls, balance reads and transactions go through the same
endpoints, failover, rate limits and counters as the chain tail.

Invariants:
- Every request web3 makes (its own helper calls included) is one `RpcPool.request`; web3 sees
  the node's answer whole, so its own errors (a revert, a transaction not found) are raised as
  with any provider, and `RpcUnavailable` when no endpoint answered.
- Parameters are encoded by web3's own JSON encoder (bytes, HexBytes, checksum addresses).
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
        wire = json.loads(self.encode_rpc_request(method, params))
        return cast(RPCResponse, await self._rpc.request(str(method), wire["params"]))
