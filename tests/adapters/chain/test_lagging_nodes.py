"""A log range counts as read only when the node that answered has reached its end.

The fake endpoints answer like a node behind a load balancer: a lagging one knows an older
head and answers `eth_getLogs` for blocks it has not seen with an empty list, not an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from adapters.chain import RpcPool, RpcUnavailable
from adapters.chain.contracts import ORDER_FILLED_TOPIC
from adapters.chain.detection.logs import LogReader
from tests import RESOURCES

SAMPLE = json.loads((RESOURCES / "logs" / "sandbox_trades.json").read_text())[0]
FILL_LOG = next(lg for lg in SAMPLE["logs"] if lg["topics"][0] == ORDER_FILLED_TOPIC)
FILL_BLOCK = int(FILL_LOG["blockNumber"], 16)
MAKER = "0x" + FILL_LOG["topics"][2][-40:]


@dataclass
class Node:
    """One fake node: its head, and the logs of the blocks up to it."""

    heads: list[int]  # the head at each successive request; the last one stays
    asked: list[str] = field(default_factory=list)

    @property
    def head(self) -> int:
        return self.heads[0]

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(call["method"])
        if call["method"] == "eth_blockNumber":
            result: Any = hex(self.head)
        else:
            query = call["params"][0]
            start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            seen = start <= FILL_BLOCK <= min(end, self.head)  # a lagging node knows less
            result = [FILL_LOG] if seen else []
        return {"jsonrpc": "2.0", "id": call["id"], "result": result}

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        reply: Any = [self.answer(c) for c in body] if isinstance(body, list) else self.answer(body)
        if len(self.heads) > 1:
            self.heads.pop(0)
        return httpx.Response(200, json=reply)


def pool_of(nodes: dict[str, Node], attempts: int = 4) -> RpcPool:
    """Return a pool over the fake nodes, one URL per node (in the dict's order)."""
    route = httpx.MockTransport(lambda r: nodes[r.url.host].handle(r))
    urls = [f"http://{host}" for host in nodes]
    return RpcPool(urls, attempts=attempts, backoff_s=0, transport=route)


async def test_a_lagging_endpoint_does_not_make_a_range_look_empty() -> None:
    nodes = {"behind": Node([FILL_BLOCK - 5]), "synced": Node([FILL_BLOCK + 4])}
    pool = pool_of(nodes)
    try:
        logs = await LogReader(pool).fetch(FILL_BLOCK - 2, FILL_BLOCK + 4, [MAKER])
    finally:
        await pool.close()
    assert [(lg.block_number, lg.log_index) for lg in logs] == [(FILL_BLOCK, 2)]
    assert "eth_getLogs" in nodes["synced"].asked


async def test_a_load_balancer_answering_from_a_lagging_node_is_asked_again() -> None:
    node = Node([FILL_BLOCK - 1, FILL_BLOCK + 1])  # first a backend behind, then one caught up
    pool = pool_of({"lb": node})
    try:
        logs = await LogReader(pool).fetch(FILL_BLOCK, FILL_BLOCK + 1, [MAKER])
    finally:
        await pool.close()
    assert [lg.block_number for lg in logs] == [FILL_BLOCK]


async def test_a_range_no_endpoint_has_reached_is_not_read() -> None:
    pool = pool_of({"a": Node([FILL_BLOCK - 3]), "b": Node([FILL_BLOCK - 1])}, attempts=3)
    try:
        with pytest.raises(RpcUnavailable, match="behind"):
            await LogReader(pool).fetch(FILL_BLOCK - 5, FILL_BLOCK, [MAKER])
    finally:
        await pool.close()


@dataclass
class BalanceNode:
    """A load balancer over a synced node and one `lag` blocks behind: the follower's shares
    arrived at block `bought`; requests alternate between the two backends."""

    head: int
    bought: int
    lag: int
    served: int = 0
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def answer(self, call: dict[str, Any], head: int) -> dict[str, Any]:
        method, params = call["method"], call["params"]
        self.calls.append((method, params))
        if method == "eth_blockNumber":
            return {"jsonrpc": "2.0", "id": call["id"], "result": hex(head)}
        if method == "eth_chainId":
            return {"jsonrpc": "2.0", "id": call["id"], "result": hex(137)}
        tag = params[1]
        at = head if tag == "latest" else int(tag, 16)
        if at > head:
            error = {"code": -32000, "message": "header not found"}
            return {"jsonrpc": "2.0", "id": call["id"], "error": error}
        shares = 5 * 10**6 if at >= self.bought else 0
        return {"jsonrpc": "2.0", "id": call["id"], "result": "0x" + hex(shares)[2:].zfill(64)}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.served += 1
        head = self.head - self.lag if self.served % 2 == 0 else self.head
        body = json.loads(request.content)
        batch = isinstance(body, list)
        reply: Any = [self.answer(c, head) for c in body] if batch else self.answer(body, head)
        return httpx.Response(200, json=reply)


async def test_a_balance_read_never_comes_from_a_node_behind_a_head_already_seen() -> None:
    from web3 import AsyncWeb3

    from adapters.chain import ChainReader
    from adapters.chain.provider import PoolProvider

    node = BalanceNode(head=100, bought=99, lag=3)
    pool = RpcPool(
        ["http://lb"], attempts=6, backoff_s=0, transport=httpx.MockTransport(node.handle)
    )
    reader = ChainReader(AsyncWeb3(PoolProvider(pool)))
    wallet, token = "0x" + "11" * 20, "1"
    try:
        # The first answer comes from the synced backend: the pool has seen head 100.
        assert await pool.call("eth_blockNumber", []) == hex(100)
        for _ in range(4):  # every other request lands on the backend at 97, before the buy
            assert await reader.token_balance(wallet, token) == 5 * 10**6
            assert await reader.balances(wallet, [token]) == {token: 5 * 10**6}
    finally:
        await pool.close()
    reads = [params for method, params in node.calls if method == "eth_call"]
    assert len(reads) > 8  # the lagging backend's answers were refused and asked again
