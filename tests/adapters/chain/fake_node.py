"""An in-process JSON-RPC node for the chain tail: a chain of blocks holding `OrderFilled` logs of
one maker, which a test extends and reorganises at will.

It answers what the tail asks (`eth_getBlockByNumber` by number or "latest", `eth_blockNumber`,
`eth_getLogs` by block range and maker topic, single or batched) the way a node does. Every fill
log is the recorded sandbox `OrderFilled` with its own transaction and order hash, so it decodes
as a real fill of MAKER; a block replaced by a reorganisation gets a new hash, and its logs are
those of the new branch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.chain import RpcPool
from adapters.chain.contracts import ORDER_FILLED_TOPIC
from adapters.chain.detection.heads import PollingHeads
from adapters.chain.detection.logs import LogReader
from adapters.chain.detection.tail import ChainTail, TailConfig
from adapters.ledger import Ledger
from tests import RESOURCES

_SAMPLE = json.loads((RESOURCES / "logs" / "sandbox_trades.json").read_text())[0]
FILL_LOG: dict[str, Any] = next(
    lg for lg in _SAMPLE["logs"] if lg["topics"][0] == ORDER_FILLED_TOPIC
)
MAKER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # the maker of FILL_LOG
T0 = int(FILL_LOG["blockTimestamp"], 16)
URL = "http://node.test"


@dataclass
class Block:
    """One block: its place in the chain and the fill logs it holds."""

    number: int
    hash: str
    parent_hash: str
    logs: list[dict[str, Any]] = field(default_factory=list)

    def header(self) -> dict[str, Any]:
        """Return the block as `eth_getBlockByNumber(…, false)` does (no bloom: not filtered)."""
        return {
            "number": hex(self.number),
            "hash": self.hash,
            "parentHash": self.parent_hash,
            "timestamp": hex(T0 + 2 * self.number),
        }


class FakeNode:
    """A chain from block `first` on, which grows by `mine` and is rewritten by `reorg`."""

    def __init__(self, first: int = 1000) -> None:
        self._branch = 0  # bumped by every reorg, so replaced blocks and logs get new hashes
        self._serial = 0  # makes every fill log's transaction and order hash unique
        genesis = Block(first, self._hash(first), "0x" + "00" * 32)
        self.blocks: list[Block] = [genesis]

    @property
    def head(self) -> int:
        """Return the newest block number."""
        return self.blocks[-1].number

    def mine(self, fills: int = 0) -> Block:
        """Add a block holding `fills` new fills of MAKER; return it."""
        number = self.head + 1
        block = Block(number, self._hash(number), self.blocks[-1].hash)
        block.logs = [self._fill_log(block, index) for index in range(fills)]
        self.blocks.append(block)
        return block

    def reorg(self, fork: int, fills_per_block: list[int]) -> None:
        """Replace every block after `fork` with a new branch, one block per entry."""
        self.blocks = [b for b in self.blocks if b.number <= fork]
        self._branch += 1
        for count in fills_per_block:
            self.mine(count)

    def fill_ids_in(self, block: Block) -> list[str]:
        """Return the fill ids the tail gives the logs of a block."""
        return [f"{lg['transactionHash']}:{lg['topics'][1]}" for lg in block.logs]

    def transport(self) -> httpx.MockTransport:
        """Return an httpx transport that routes every request to this node."""
        return httpx.MockTransport(self._handle)

    # -- JSON-RPC -------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls = body if isinstance(body, list) else [body]
        replies = [{"jsonrpc": "2.0", "id": c["id"], "result": self._answer(c)} for c in calls]
        return httpx.Response(200, json=replies if isinstance(body, list) else replies[0])

    def _answer(self, call: dict[str, Any]) -> Any:
        method, params = call["method"], call["params"]
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            number = self.head if params[0] == "latest" else int(params[0], 16)
            found = [b for b in self.blocks if b.number == number]
            return found[0].header() if found else None
        if method == "eth_getLogs":
            query = params[0]
            start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            makers = set(query["topics"][2])
            return [
                lg
                for b in self.blocks
                if start <= b.number <= end
                for lg in b.logs
                if lg["topics"][2] in makers
            ]
        raise AssertionError(f"the fake node does not know {method}")

    def _hash(self, number: int) -> str:
        return f"0x{self._branch:08x}{number:056x}"

    def _fill_log(self, block: Block, index: int) -> dict[str, Any]:
        self._serial += 1
        topics = list(FILL_LOG["topics"])
        topics[1] = f"0x{0xF0:02x}{self._serial:062x}"  # the maker's order hash
        return {
            **FILL_LOG,
            "topics": topics,
            "blockHash": block.hash,
            "blockNumber": hex(block.number),
            "blockTimestamp": hex(T0 + 2 * block.number),
            "transactionHash": f"0x{0xAB:02x}{self._serial:062x}",
            "transactionIndex": hex(index),
            "logIndex": hex(index),
        }


def tail_on(node: FakeNode, ledger: Ledger | None, batch_limit: int = 500) -> ChainTail:
    """Return a chain tail that follows the fake node, polling it quickly."""
    pool = RpcPool(
        [URL], timeout_s=2.0, rate_per_s=10_000, backoff_s=0.01, transport=node.transport()
    )
    heads = PollingHeads(pool, block_time_s=0.05, fast_s=0.01)
    config = TailConfig(reorg_window=64, batch_limit=batch_limit, restart_s=0.05)
    return ChainTail(pool, heads, LogReader(pool), ledger=ledger, config=config)
