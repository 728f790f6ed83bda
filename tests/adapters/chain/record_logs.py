"""Record real-shaped exchange logs from the sandbox into tests/resources/logs/.

Run: `uv run python -m tests.adapters.chain.record_logs`. It starts a sandbox, makes a CTF-exchange
trade with two makers and a neg-risk trade, and writes every log of their receipts (as
`eth_getLogs` returns them, including the non-OrderFilled `OrdersMatched`) together with the
fields each OrderFilled must decode to, worked out here from the orders placed, not from the
decoder under test.
"""

from __future__ import annotations

import json
from typing import Any

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2

from sandbox.runtime import Sandbox, SandboxOptions
from tests import RESOURCES
from tests.adapters.chain.helpers import rpc

OUT = RESOURCES / "logs" / "sandbox_trades.json"


def _client(sb: Sandbox, account: dict[str, Any]) -> ClobClient:
    client = ClobClient(sb.info["clob_url"], 137, key=account["private_key"])
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def _receipt_logs(sb: Sandbox, tx: str) -> list[dict[str, Any]]:
    receipt = rpc(sb.info["rpc_url"], "eth_getTransactionReceipt", [tx])
    block = rpc(sb.info["rpc_url"], "eth_getBlockByNumber", [receipt["blockNumber"], False])
    query = {"fromBlock": receipt["blockNumber"], "toBlock": receipt["blockNumber"]}
    logs: list[dict[str, Any]] = rpc(sb.info["rpc_url"], "eth_getLogs", [query])
    assert len(logs) == len(receipt["logs"]) and all(
        lg["blockHash"] == block["hash"] for lg in logs
    )
    return logs


def _trade(sb: Sandbox, neg_risk: bool) -> dict[str, Any]:
    demo = sb.info["accounts"]["demo"]
    slug = "rec-neg" if neg_risk else "rec-ctf"
    market = sb.create_market(f"Recorded {slug}?", slug, quote=False, neg_risk=neg_risk)
    yes = market["tokens"][0]["token_id"]
    a, b, c = demo[0], demo[1], demo[2]
    for maker in (a, b):
        sb.admin(
            "/split",
            {"market": market["condition_id"], "address": maker["address"], "amount": "20"},
        )
    _client(sb, a).create_and_post_order(
        OrderArgsV2(token_id=yes, price=0.37, size=10, side="SELL")
    )
    _client(sb, b).create_and_post_order(OrderArgsV2(token_id=yes, price=0.41, size=8, side="SELL"))
    resp = _client(sb, c).create_and_post_order(
        OrderArgsV2(token_id=yes, price=0.41, size=15, side="BUY")
    )
    exchange = "neg_risk" if neg_risk else "ctf"
    # Expected, from the orders: a sells 10 @0.37, b sells 5 of 8 @0.41, c buys 15 paying both.
    expected = [
        (a["address"], "SELL", "10", "3.7", "0.37"),
        (b["address"], "SELL", "5", "2.05", "0.41"),
        (c["address"], "BUY", "15", "5.75", "0.3833333333333333333333333333333333333333"),
    ]
    return {
        "tx_hash": resp["transactionsHashes"][0],
        "token_id": yes,
        "exchange": exchange,
        "logs": _receipt_logs(sb, resp["transactionsHashes"][0]),
        "expected": [
            dict(zip(("wallet", "side", "shares", "notional", "price"), e, strict=True))
            for e in expected
        ],
    }


def main() -> None:
    """Record the samples."""
    with Sandbox(SandboxOptions(block_time_s=0, market_maker=False, demo_markets=False)) as sb:
        samples = [_trade(sb, neg_risk=False), _trade(sb, neg_risk=True)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(samples, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
