"""Benchmark (not a test): orders/second the sandbox CLOB accepts, and match -> OrderFilled latency.

Run: ``python -m sandbox.bench [--orders 300] [--threads 4] [--matches 50] [--block-time 0]``.
Orders are signed before timing starts, so the rate measures the server (auth, signature check,
balance reads, matching), not client-side signing. Latency is measured from sending a crossing
order to the moment its OrderFilled log can be read over RPC.
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click
import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType

from sandbox.runtime import Sandbox, SandboxOptions

ORDER_FILLED_TOPIC = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"


def _client(info: dict[str, Any], index: int) -> ClobClient:
    client = ClobClient(info["clob_url"], 137, key=info["accounts"]["demo"][index]["private_key"])
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def accept_rate(info: dict[str, Any], token: str, orders: int, threads: int) -> float:
    """Post ``orders`` pre-signed resting BUYs from ``threads`` wallets; return orders/s."""
    clients = [_client(info, i) for i in range(threads)]
    per = orders // threads
    signed = [
        [
            c.create_order(
                OrderArgsV2(token_id=token, price=0.01 + 0.01 * (k % 20), size=5, side="BUY")
            )
            for k in range(per)
        ]
        for c in clients
    ]

    def post_all(i: int) -> int:
        ok = 0
        for order in signed[i]:
            ok += bool(clients[i].post_order(order, OrderType.GTC).get("success"))
        return ok

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        accepted = sum(pool.map(post_all, range(threads)))
    return accepted / (time.perf_counter() - start)


def _log_seen(rpc: str, tx_hash: str) -> bool:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [tx_hash]}
    receipt = httpx.post(rpc, json=body, trust_env=False).json().get("result")
    return bool(receipt) and any(lg["topics"][0] == ORDER_FILLED_TOPIC for lg in receipt["logs"])


def match_latency(sb: Sandbox, market: dict[str, Any], matches: int) -> list[float]:
    """Cross ``matches`` asks with FOK buys; return seconds from send to readable OrderFilled."""
    info, token = sb.info, market["tokens"][0]["token_id"]
    maker, taker = _client(info, 5), _client(info, 6)
    sb.admin(
        "/split",
        {
            "market": market["condition_id"],
            "address": info["accounts"]["demo"][5]["address"],
            "amount": str(10 * matches),
        },
    )
    latencies = []
    for _ in range(matches):
        maker.create_and_post_order(OrderArgsV2(token_id=token, price=0.6, size=10, side="SELL"))
        order = taker.create_order(OrderArgsV2(token_id=token, price=0.6, size=10, side="BUY"))
        start = time.perf_counter()
        tx = taker.post_order(order, OrderType.FOK)["transactionsHashes"][0]
        while not _log_seen(info["rpc_url"], tx):
            time.sleep(0.005)
        latencies.append(time.perf_counter() - start)
    return latencies


@click.command()
@click.option("--orders", default=300, show_default=True)
@click.option("--threads", default=4, show_default=True)
@click.option("--matches", default=50, show_default=True)
@click.option("--block-time", default=0.0, show_default=True)
def main(orders: int, threads: int, matches: int, block_time: float) -> None:
    """Start a private sandbox and print the two numbers."""
    options = SandboxOptions(block_time_s=block_time, demo_markets=False, market_maker=False)
    with Sandbox(options) as sb:
        market = sb.create_market("Benchmark market?", "bench", quote=False)
        rate = accept_rate(sb.info, market["tokens"][1]["token_id"], orders, threads)
        lat = sorted(match_latency(sb, market, matches))
    p95 = lat[max(0, int(len(lat) * 0.95) - 1)]
    sys.stdout.write(f"orders accepted: {rate:.0f} orders/s ({orders} orders, {threads} threads)\n")
    sys.stdout.write(
        f"match -> OrderFilled readable: median {statistics.median(lat) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms ({matches} matches, "
        f"block time {block_time}s)\n"
    )


if __name__ == "__main__":
    main()
