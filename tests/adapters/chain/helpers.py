"""Helpers of the detection tests: sandbox trades, an RPC proxy that can die or refuse logs,
and a pair emulator that polls a feed the way PairWorkflow does."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2

from adapters.chain.decoding import parse_log, source_fills
from adapters.chain.detection.fallback import DataApiFallback
from adapters.chain.detection.feed import ChainFillFeed
from adapters.chain.detection.heads import HeadSource, PollingHeads, WsHeads
from adapters.chain.detection.logs import LogReader
from adapters.chain.detection.tail import ChainTail, TailConfig
from adapters.chain.rpc import RpcPool
from adapters.ledger import Ledger
from projectk.models import FillCursor, SourceFill
from sandbox.runtime import Sandbox
from tests.sandbox_env import sdk_clients

JSON = {"Content-Type": "application/json"}


def rpc(url: str, method: str, params: list[Any]) -> Any:
    """Call a JSON-RPC method synchronously."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = httpx.post(url, json=body, timeout=30, trust_env=False).json()
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


class Traders:
    """Demo wallets of a sandbox trading with each other through the CLOB."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.demo: list[dict[str, Any]] = sb.info["accounts"]["demo"]
        self._clients: dict[int, ClobClient] = {}
        self.market = sb.create_market("Detection test?", None, quote=False)
        self.yes = self.market["tokens"][0]["token_id"]
        self._sdk = sdk_clients(sb, self.demo)
        self._v2: dict[str, Any] | None = None

    def address(self, i: int) -> str:
        return str(self.demo[i]["address"])

    def client(self, i: int) -> ClobClient:
        if i not in self._clients:
            c = ClobClient(self.sb.info["clob_url"], 137, key=self.demo[i]["private_key"])
            c.set_api_creds(c.create_or_derive_api_key())
            self._clients[i] = c
        return self._clients[i]

    def trade(self, seller: int, buyer: int, price: float = 0.4, size: float = 5) -> str:
        """Make `seller` (maker) sell to `buyer` (taker); return the settlement tx hash."""
        split = {"market": self.market["condition_id"], "address": self.address(seller)}
        self.sb.admin("/split", {**split, "amount": str(int(size) + 1)})
        self.client(seller).create_and_post_order(
            OrderArgsV2(token_id=self.yes, price=price, size=size, side="SELL")
        )
        resp = self.client(buyer).create_and_post_order(
            OrderArgsV2(token_id=self.yes, price=price, size=size, side="BUY")
        )
        assert resp["status"] == "matched", resp
        return str(resp["transactionsHashes"][0])

    @property
    def v2_market(self) -> dict[str, Any]:
        """Return the v2 test market (made on first use); its token ids are position ids."""
        if self._v2 is None:
            self._v2 = self.sb.create_market("Detection v2 test?", None, quote=False, version="v2")
        return self._v2

    def trade_v2(self, seller: int, buyer: int, price: str = "0.4", size: str = "5") -> str:
        """Make `seller` (maker) sell to `buyer` (taker) on the v2 market with Polymarket's SDK
        (py-clob-client-v2 cannot sign for ExchangeV3); return the settlement tx hash."""
        market = self.v2_market
        yes = market["tokens"][0]["token_id"]
        self.sb.split(market["condition_id"], self.address(seller), str(int(size) + 1))
        self._sdk(seller).place_limit_order(asset_id=yes, price=price, size=size, side="SELL")
        taken = self._sdk(buyer).place_limit_order(asset_id=yes, price=price, size=size, side="BUY")
        assert taken.status == "matched", taken
        (tx,) = self._sdk(buyer).wait_for_order_fill_settlement(taken)
        return str(tx)


def fills_of_txs(rpc_url: str, tx_hashes: Sequence[str]) -> list[SourceFill]:
    """Return every maker fill in the receipts of the given transactions (the ground truth)."""
    from datetime import UTC, datetime

    logs = []
    for tx in tx_hashes:
        receipt = rpc(rpc_url, "eth_getTransactionReceipt", [tx])
        logs += [parse_log(lg) for lg in receipt["logs"]]
    now = datetime.now(UTC)
    return source_fills(logs, None, now, lambda _b: now)


def make_tail(
    urls: Sequence[str],
    ledger: Ledger | None,
    data_api_url: str | None = None,
    max_block_range: int = 1000,
    confirmations: int = 0,
    ws_url: str | None = None,
    restart_s: float = 1.0,
) -> ChainTail:
    """Build a tail that polls fast (the sandbox mines on demand), or listens on `ws_url`."""
    pool = RpcPool(urls, timeout_s=2.0, rate_per_s=500, backoff_s=0.05)
    heads: HeadSource = (
        WsHeads(ws_url, pool, block_time_s=1.0)
        if ws_url
        else PollingHeads(pool, block_time_s=0.2, fast_s=0.01)
    )
    reader = LogReader(pool, max_block_range=max_block_range)
    fallback = DataApiFallback(pool, reader, data_api_url) if data_api_url else None
    config = TailConfig(confirmations=confirmations, reorg_window=64, restart_s=restart_s)
    return ChainTail(pool, heads, reader, ledger=ledger, fallback=fallback, config=config)


@dataclass
class PairEmulator:
    """Poll a feed like PairWorkflow: keep the cursor, remember ids, rewind on retraction and
    acknowledge the rewinds applied."""

    feed: ChainFillFeed
    wallet: str
    cursor: FillCursor
    received: list[SourceFill] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    retracted: list[str] = field(default_factory=list)
    rewind_epoch: int = 0
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        seen: set[str] = set()
        while True:
            batch = await self.feed.wait(self.wallet, self.cursor, 2.0, self.rewind_epoch)
            self.retracted += batch.retracted
            seen -= set(batch.retracted)
            for fill in batch.fills:
                if fill.fill_id in seen:
                    self.duplicates.append(fill.fill_id)
                    continue
                seen.add(fill.fill_id)
                self.received.append(fill)
            if batch.retracted or batch.cursor.key() > self.cursor.key():
                self.cursor = batch.cursor
            self.rewind_epoch = max(self.rewind_epoch, batch.rewind_epoch)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def ids(self) -> list[str]:
        return [f.fill_id for f in self.received]


async def eventually(check: Any, timeout_s: float = 10.0) -> None:
    """Wait until `check()` is true."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


class RpcProxy:
    """An HTTP JSON-RPC proxy in front of anvil that can die or refuse `eth_getLogs`; it answers
    single calls and batches, like a node."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refuse_logs = False
        self.lag_blocks = 0  # answer "latest" with a block this far behind (a lagging node)
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                proxy.requests += 1
                batch = body if isinstance(body, list) else [body]
                answers = [proxy.answer(call) for call in batch]
                data = json.dumps(answers if isinstance(body, list) else answers[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, call: dict[str, Any]) -> Any:
        """Return the answer to one call: anvil's, as seen by a lagging or refusing node."""
        lagging = self.lag_blocks
        if lagging and call["method"] == "eth_blockNumber":
            head = int(rpc(self.upstream, "eth_blockNumber", []), 16)
            return {"jsonrpc": "2.0", "id": call["id"], "result": hex(head - lagging)}
        if lagging and call.get("params", [None])[:1] == ["latest"]:
            head = int(rpc(self.upstream, "eth_blockNumber", []), 16)
            call = {**call, "params": [hex(head - lagging), *call["params"][1:]]}
        if self.refuse_logs and call["method"] == "eth_getLogs":
            error = {"code": -32000, "message": "historical logs are pruned"}
            return {"jsonrpc": "2.0", "id": call["id"], "error": error}
        upstream = httpx.post(self.upstream, json=call, timeout=30, headers=JSON, trust_env=False)
        return upstream.json()

    def kill(self) -> None:
        """Stop answering: connections are refused from now on."""
        self._server.shutdown()
        self._server.server_close()
