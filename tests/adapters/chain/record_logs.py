"""Record real-shaped exchange logs from the sandbox into tests/resources/logs/.

Run: `uv run python -m tests.adapters.chain.record_logs [v1|v2|all]` (default all). It starts a
sandbox and makes the same trade (two makers, one taker) on a CTF-exchange market and a neg-risk
market (v1, with py-clob-client-v2, into `sandbox_trades.json`) and on a Protocol V2 market (v2,
settled on ExchangeV3, with Polymarket's SDK, into `sandbox_v2_trades.json`). It writes every log
of their receipts (as `eth_getLogs` returns them, including the non-OrderFilled `OrdersMatched`
and `FeeCharged`) together with the fields each OrderFilled must decode to, worked out here from
the orders placed, not from the decoder under test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2

from sandbox.runtime import Sandbox, SandboxOptions
from tests import RESOURCES
from tests.adapters.chain.helpers import rpc
from tests.sandbox_env import sdk_clients

OUT = RESOURCES / "logs" / "sandbox_trades.json"
OUT_V2 = RESOURCES / "logs" / "sandbox_v2_trades.json"
# a sells 10 @0.37, b sells 5 of 8 @0.41, c buys 15 paying both (from the orders placed).
EXPECTED = [
    (0, "SELL", "10", "3.7", "0.37"),
    (1, "SELL", "5", "2.05", "0.41"),
    (2, "BUY", "15", "5.75", "0.3833333333333333333333333333333333333333"),
]


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
    return _sample(sb, resp["transactionsHashes"][0], yes, exchange)


def _sample(sb: Sandbox, tx: str, token: str, exchange: str) -> dict[str, Any]:
    demo = sb.info["accounts"]["demo"]
    expected = [(demo[i]["address"], *rest) for i, *rest in EXPECTED]
    return {
        "tx_hash": tx,
        "token_id": token,
        "exchange": exchange,
        "logs": _receipt_logs(sb, tx),
        "expected": [
            dict(zip(("wallet", "side", "shares", "notional", "price"), e, strict=True))
            for e in expected
        ],
    }


def _v2_trade(sb: Sandbox) -> dict[str, Any]:
    demo = sb.info["accounts"]["demo"]
    market = sb.create_market("Recorded rec-v2?", "rec-v2", quote=False, version="v2")
    yes = market["tokens"][0]["token_id"]  # a PositionManager position id
    sdk = sdk_clients(sb, demo)
    for maker in (0, 1):
        sb.split(market["condition_id"], demo[maker]["address"], "20")
    sdk(0).place_limit_order(asset_id=yes, price="0.37", size="10", side="SELL")
    sdk(1).place_limit_order(asset_id=yes, price="0.41", size="8", side="SELL")
    taken = sdk(2).place_limit_order(asset_id=yes, price="0.41", size="15", side="BUY")
    (tx,) = sdk(2).wait_for_order_fill_settlement(taken)
    return _sample(sb, str(tx), yes, "v3")


def main(which: str = "all") -> None:
    """Record the samples of one market version ("v1", "v2") or both ("all")."""
    with Sandbox(SandboxOptions(block_time_s=0, market_maker=False, demo_markets=False)) as sb:
        if which in ("v1", "all"):
            _write(OUT, [_trade(sb, neg_risk=False), _trade(sb, neg_risk=True)])
        if which in ("v2", "all"):
            _write(OUT_V2, [_v2_trade(sb)])


def _write(out: Path, samples: list[dict[str, Any]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(samples, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
