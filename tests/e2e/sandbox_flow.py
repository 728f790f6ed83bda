"""Helpers for end-to-end mirror tests on the sandbox: source trades become SourceFills, a worker
runs the real workflows and activities (CLOB venue, chain reads, ledger) with a memory feed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, TradeParams
from temporalio.client import Client
from temporalio.worker import Worker
from web3 import AsyncHTTPProvider, AsyncWeb3, Web3

from adapters.chain import ChainReader
from adapters.chain.contracts import CONDITIONAL_TOKENS, ERC1155_BALANCE_ABI
from adapters.chain.decoding import ChainLog, parse_log, source_fills
from adapters.ledger import Ledger
from adapters.polymarket import ClobVenue
from projectk.models import SourceFill
from tests.fakes import MemoryFeed
from tests.workflows.harness import fake_clients, registry_worker
from workers.registry import Clients


def trade(client: ClobClient, token: str, side: str, price: float, size: float) -> dict[str, Any]:
    """Place a FAK order for the test's source and return the CLOB's answer."""
    order = client.create_order(OrderArgsV2(token_id=token, price=price, size=size, side=side))
    answer: dict[str, Any] = client.post_order(order, "FAK")
    return answer


def fills_of(w3: Web3, client: ClobClient, answer: dict[str, Any], wallet: str) -> list[SourceFill]:
    """Return the wallet's SourceFills from the settlement transactions of a trade answer."""
    hashes = list(answer.get("transactionsHashes") or [])
    for trade_id in answer.get("tradeIDs") or []:
        for row in client.get_trades(TradeParams(id=trade_id)):
            if row.get("transaction_hash"):
                hashes.append(row["transaction_hash"])
    logs: list[ChainLog] = []
    for tx in dict.fromkeys(hashes):
        receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=20)
        logs.extend(parse_log(dict(log)) for log in receipt["logs"])
    now = datetime.now(UTC)
    return source_fills(logs, [wallet], now, block_times=lambda _n: now)


def balance(w3: Web3, wallet: str, token: str) -> int:
    """Return a wallet's ERC-1155 balance of an outcome token, share micro-units."""
    ctf = w3.eth.contract(
        address=Web3.to_checksum_address(CONDITIONAL_TOKENS), abi=ERC1155_BALANCE_ABI
    )
    value: int = ctf.functions.balanceOf(Web3.to_checksum_address(wallet), int(token)).call()
    return value


class FlakyProvider(AsyncHTTPProvider):
    """An RPC provider whose first `failures` requests fail like an overloaded node."""

    def __init__(self, url: str, failures: int) -> None:
        super().__init__(url)
        self.failures = failures
        self.failed = 0

    async def make_request(self, method: Any, params: Any) -> Any:
        """Fail the first requests with a 503-like error, then pass through."""
        if self.failed < self.failures:
            self.failed += 1
            raise ConnectionError(f"RPC unavailable (injected fault {self.failed})")
        return await super().make_request(method, params)


def mirror_clients(
    ledger: Ledger, feed: MemoryFeed, venue: ClobVenue, provider: AsyncHTTPProvider
) -> Clients:
    """Return the real clients but the fill feed: ledger, CLOB venue, chain reads (and claims)."""
    return fake_clients(ledger, feed, venue, chain=ChainReader(AsyncWeb3(provider)))


@asynccontextmanager
async def mirror_worker(client: Client, task_queue: str, clients: Clients) -> AsyncIterator[Worker]:
    """Run a worker with the registry's workflows and activities over the given clients."""
    async with registry_worker(client, task_queue, clients) as running:
        yield running


def follower_trades(client: ClobClient, token: str) -> list[dict[str, Any]]:
    """Return every trade of the client's wallet in a token, as the CLOB lists them."""
    rows: list[dict[str, Any]] = client.get_trades(TradeParams(asset_id=token))
    return rows


def order_ids_of(rows: list[dict[str, Any]], wallet: str) -> set[str]:
    """Return the wallet's own order hashes that took part in these trades."""
    ids = set()
    for row in rows:
        if row.get("maker_address") == wallet:
            ids.add(str(row["taker_order_id"]))
        ids.update(
            str(m["order_id"])
            for m in row.get("maker_orders") or ()
            if m["maker_address"] == wallet
        )
    return ids


async def activity_runs(client: Client, workflow_id: str, name: str) -> list[tuple[int, str]]:
    """Return (attempt, result JSON) of each completed run of an activity in a workflow."""
    scheduled: dict[int, str] = {}
    attempts: dict[int, int] = {}
    runs = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_type.name
        elif event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            attempts[started.scheduled_event_id] = started.attempt
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            if scheduled.get(done.scheduled_event_id) == name:
                body = done.result.payloads[0].data.decode()
                runs.append((attempts.get(done.scheduled_event_id, 1), body))
    return runs
