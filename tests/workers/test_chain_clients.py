"""The worker's chain clients: SELL sizing, reconciliation and claims read the chain the tail
reads, through the tail's RPC pool (failover, rate limits, counters).

Run on the session's sandbox; the worker's clients are built the way `projectk worker` builds
them (`workers.main.build_clients`), from settings and the sandbox's ready file.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.chain import ChainFillFeed
from projectk.messages import ClaimBalancesInput
from projectk.settings import Settings
from sandbox.runtime import Sandbox, free_port
from tests.sandbox_env import Market
from tests.settings_env import make_settings
from workers.main import build_clients
from workers.registry import Clients

SHARES = 3  # pUSD split into Yes + No shares of a fresh market


def head(url: str) -> int:
    """Return the sandbox chain's newest block number."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    return int(httpx.post(url, json=body, timeout=10, trust_env=False).json()["result"], 16)


@pytest.fixture
async def built() -> AsyncIterator[Callable[[Settings], Clients]]:
    """Build the worker's clients from settings; close their RPC pool afterwards."""
    made: list[Clients] = []

    def build(settings: Settings) -> Clients:
        made.append(build_clients(settings))
        return made[-1]

    yield build
    for clients in made:
        if isinstance(clients.feed, ChainFillFeed):
            await clients.feed.stop()
        clients.ledger.engine.dispose()


async def read_all(clients: Clients, holder: str, market: Market, block: int) -> list[Any]:
    """Read the holder's Yes shares the three ways the worker does: SELL sizing at a block,
    reconciliation at the latest block, and a claim's balances."""
    sized = await clients.chain.token_balance(holder, market.yes, block)
    positions = await clients.chain.balances(holder, [market.yes])
    claim = await clients.claims.read_claim_balances(
        ClaimBalancesInput(holder=holder, token_ids=[market.yes, market.no])
    )
    return [sized, positions, claim.shares_micro]


async def test_sandbox_mode_reads_the_sandboxs_chain_whatever_rpc_urls_say(
    tmp_path: Path,
    sandbox: Sandbox,
    market: Market,
    give_shares: Callable[[Market, int, int], None],
    demo: list[dict[str, Any]],
    built: Callable[[Settings], Clients],
) -> None:
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "ready.json").write_text(json.dumps(sandbox.info))
    elsewhere = f"http://127.0.0.1:{free_port()}"  # e.g. a stale PROJECTK_RPC_URLS: nobody there
    clients = built(make_settings(tmp_path, executor_mode="sandbox", rpc_urls=elsewhere))
    give_shares(market, 1, SHARES)
    holder = demo[1]["address"]
    micro = SHARES * 1_000_000
    read = await read_all(clients, holder, market, head(sandbox.info["rpc_url"]))
    assert read == [micro, {market.yes: micro}, [micro, micro]]


async def test_chain_reads_fail_over_to_the_next_rpc_url(
    tmp_path: Path,
    sandbox: Sandbox,
    market: Market,
    give_shares: Callable[[Market, int, int], None],
    demo: list[dict[str, Any]],
    built: Callable[[Settings], Clients],
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    clients = built(
        make_settings(
            tmp_path,
            executor_mode="sandbox",
            rpc_urls=f"{down},{sandbox.info['rpc_url']}",
            sandbox_clob_url=sandbox.info["clob_url"],
        )
    )
    give_shares(market, 2, SHARES)
    holder = demo[2]["address"]
    micro = SHARES * 1_000_000
    read = await read_all(clients, holder, market, head(sandbox.info["rpc_url"]))
    assert read == [micro, {market.yes: micro}, [micro, micro]]
    assert isinstance(clients.feed, ChainFillFeed)
    first, second = clients.feed.tail.rpc.stats()  # the tail's pool counted these reads
    assert first.errors >= 1 and not first.healthy
    assert second.requests >= 4 and second.errors == 0
