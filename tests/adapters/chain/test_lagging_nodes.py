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
