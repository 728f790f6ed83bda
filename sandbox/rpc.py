"""A minimal async JSON-RPC client for the local anvil node, plus ABI call helpers and the node's
newHeads subscription.

Invariants: it talks only to the loopback URL it is given; amounts are Python ints (token base
units); every method is a thin wrapper over one RPC call, so callers see the node's own errors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from websockets.asyncio.client import ClientConnection, connect

Json = Any


class RpcError(RuntimeError):
    """The node answered a call with an error object."""


def selector(signature: str) -> bytes:
    """Return the 4-byte function selector of ``name(types)``."""
    return keccak(text=signature)[:4]


def _arg_types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : signature.rindex(")")]
    # Split on top-level commas only, so tuple types like (a,b)[] stay whole.
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        parts.append(cur)
    return parts


def calldata(signature: str, *args: Any) -> str:
    """ABI-encode a call to ``signature`` with ``args`` as a 0x hex string."""
    return "0x" + (selector(signature) + encode(_arg_types(signature), list(args))).hex()


class Rpc:
    """Async JSON-RPC over HTTP to one node."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self._ids = itertools.count(1)
        self._http = httpx.AsyncClient(timeout=timeout_s, trust_env=False)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    async def request(self, method: str, params: list[Json]) -> Json:
        """Send one JSON-RPC request and return its result."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        resp = await self._http.post(self.url, json=body)
        resp.raise_for_status()
        data = resp.json()
        if "error" in data:
            raise RpcError(f"{method}: {data['error']}")
        return data["result"]

    async def call(
        self,
        to: str,
        signature: str,
        args: tuple[Any, ...],
        returns: list[str],
        block: str = "latest",
    ) -> tuple[Any, ...]:
        """eth_call a view function and decode its return values."""
        raw = await self.request(
            "eth_call", [{"to": to, "data": calldata(signature, *args)}, block]
        )
        return tuple(decode(returns, bytes.fromhex(raw[2:])))

    async def call_many(
        self, calls: list[tuple[str, str, tuple[Any, ...], list[str]]], block: str = "latest"
    ) -> list[tuple[Any, ...]]:
        """eth_call several view functions in one JSON-RPC batch; decode each result."""
        body = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": to, "data": calldata(sig, *args)}, block],
            }
            for i, (to, sig, args, _) in enumerate(calls)
        ]
        resp = await self._http.post(self.url, json=body)
        resp.raise_for_status()
        answers = {item["id"]: item for item in resp.json()}
        out = []
        for i, (_, _, _, returns) in enumerate(calls):
            item = answers[i]
            if "error" in item:
                raise RpcError(f"eth_call: {item['error']}")
            out.append(tuple(decode(returns, bytes.fromhex(item["result"][2:]))))
        return out

    async def send(
        self, sender: str, to: str, signature: str, *args: Any, gas: int = 1_000_000
    ) -> str:
        """eth_sendTransaction from an unlocked anvil account; return the tx hash."""
        tx = {"from": sender, "to": to, "data": calldata(signature, *args), "gas": hex(gas)}
        result: str = await self.request("eth_sendTransaction", [tx])
        return result

    async def receipt(self, tx_hash: str) -> dict[str, Json] | None:
        """Return the receipt of ``tx_hash`` or None while it is pending."""
        result: dict[str, Json] | None = await self.request("eth_getTransactionReceipt", [tx_hash])
        return result

    async def wait(
        self, tx_hash: str, timeout_s: float = 30.0, poll_s: float = 0.05
    ) -> dict[str, Json]:
        """Wait for a receipt; raise RpcError if the transaction reverted."""
        rec = await self.wait_mined(tx_hash, timeout_s, poll_s)
        if int(rec["status"], 16) != 1:
            raise RpcError(f"transaction {tx_hash} reverted")
        return rec

    async def wait_mined(
        self, tx_hash: str, timeout_s: float = 30.0, poll_s: float = 0.05
    ) -> dict[str, Json]:
        """Wait for a receipt, whatever its status."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            rec = await self.receipt(tx_hash)
            if rec is not None:
                return rec
            if loop.time() > deadline:
                raise RpcError(f"transaction {tx_hash} not mined in {timeout_s}s")
            await asyncio.sleep(poll_s)

    async def transact(
        self, sender: str, to: str, signature: str, *args: Any, gas: int = 1_000_000
    ) -> dict[str, Json]:
        """Send a transaction and wait for its successful receipt."""
        return await self.wait(await self.send(sender, to, signature, *args, gas=gas))

    async def block_number(self) -> int:
        """Return the latest block number."""
        return int(await self.request("eth_blockNumber", []), 16)

    async def set_code(self, address: str, code: str) -> None:
        """Place runtime bytecode at ``address`` (anvil_setCode)."""
        await self.request("anvil_setCode", [address, code])

    async def set_storage(self, address: str, slot: bytes, value: int) -> None:
        """Write one storage slot (anvil_setStorageAt)."""
        await self.request(
            "anvil_setStorageAt",
            [address, "0x" + slot.hex(), "0x" + value.to_bytes(32, "big").hex()],
        )

    async def set_balance(self, address: str, wei: int) -> None:
        """Set the native (POL) balance of an address."""
        await self.request("anvil_setBalance", [address, hex(wei)])

    async def get_balance(self, address: str) -> int:
        """Return the native (POL) balance in wei."""
        return int(await self.request("eth_getBalance", [address, "latest"]), 16)


async def block_number(url: str) -> int:
    """Return the latest block number of the node at ``url`` (one request, its own connection)."""
    rpc = Rpc(url)
    try:
        return await rpc.block_number()
    finally:
        await rpc.aclose()


@asynccontextmanager
async def new_heads(ws_url: str) -> AsyncIterator[AsyncIterator[int]]:
    """Subscribe to the node's newHeads; yield the numbers of new blocks as it announces them."""
    async with connect(ws_url) as socket:
        request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
        await socket.send(json.dumps(request))
        await socket.recv()  # the subscription id: every block from here on is announced
        yield _head_numbers(socket)


async def _head_numbers(socket: ClientConnection) -> AsyncIterator[int]:
    async for message in socket:
        result = json.loads(message).get("params", {}).get("result", {})
        if "number" in result:
            yield int(result["number"], 16)


def checksum(address: str) -> str:
    """Return the EIP-55 form of an address."""
    return str(to_checksum_address(address))
