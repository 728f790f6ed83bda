"""Record wire samples from a private sandbox into tests/resources/sandbox/ for hand-written fakes.

Run: ``python -m sandbox.record [OUT_DIR]``. Each file is one JSON object ``{case: sample}`` where
a sample is ``{"status": http_status, "body": parsed_json}``. Ids, hashes and times differ per run;
the shapes and texts are what fakes must reproduce.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OrderArgsV2,
    OrderPayload,
    OrderType,
)
from py_clob_client_v2.exceptions import PolyApiException

from sandbox.node import SANDBOX_DIR
from sandbox.runtime import Sandbox, SandboxOptions

DEFAULT_OUT = SANDBOX_DIR.parent / "tests" / "resources" / "sandbox"
Sample = dict[str, Any]


def capture(call: Callable[[], Any]) -> Sample:
    """Run one client call and return its status and body."""
    try:
        return {"status": 200, "body": call()}
    except PolyApiException as exc:
        return {"status": exc.status_code, "body": exc.error_msg}


def _client(sb: Sandbox, i: int) -> ClobClient:
    c = ClobClient(sb.info["clob_url"], 137, key=sb.info["accounts"]["demo"][i]["private_key"])
    c.set_api_creds(c.create_or_derive_api_key())
    return c


def record_orders(sb: Sandbox, yes: str, cid: str) -> dict[str, Sample]:
    """Order placement, lookup and cancel samples."""
    maker, taker = _client(sb, 0), _client(sb, 1)
    sb.admin(
        "/split",
        {"market": cid, "address": sb.info["accounts"]["demo"][0]["address"], "amount": "100"},
    )

    def limit(c: ClobClient, side: str, price: float, size: float, **kw: Any) -> Callable[[], Any]:
        return lambda: c.create_and_post_order(
            OrderArgsV2(token_id=yes, price=price, size=size, side=side), **kw
        )

    out = {"live": capture(limit(maker, "SELL", 0.6, 20))}
    out["matched_partial_resting_maker"] = capture(limit(taker, "BUY", 0.6, 8))
    out["fok_market_buy_matched"] = capture(
        lambda: taker.create_and_post_market_order(
            MarketOrderArgsV2(token_id=yes, amount=3, side="BUY"), order_type=OrderType.FOK
        )
    )
    out.update(_error_samples(yes, taker, limit))
    order = taker.create_order(OrderArgsV2(token_id=yes, price=0.2, size=10, side="BUY"))
    out["resting_for_duplicate"] = capture(lambda: taker.post_order(order))
    out["duplicated"] = capture(lambda: taker.post_order(order))
    order_id = out["resting_for_duplicate"]["body"]["orderID"]
    out["get_order_live"] = capture(lambda: taker.get_order(order_id))
    out["open_orders"] = capture(lambda: taker.get_open_orders())
    out["cancel"] = capture(lambda: taker.cancel_order(OrderPayload(orderID=order_id)))
    out["cancel_again"] = capture(lambda: taker.cancel_order(OrderPayload(orderID=order_id)))
    out["get_order_canceled"] = capture(lambda: taker.get_order(order_id))
    return out


def _error_samples(yes: str, taker: ClobClient, limit: Any) -> dict[str, Sample]:
    # The rejections a fake must reproduce, with their texts.
    out: dict[str, Sample] = {}
    out["fok_killed"] = capture(
        lambda: taker.create_and_post_market_order(
            MarketOrderArgsV2(token_id=yes, amount=500, side="BUY", price=0.6),
            order_type=OrderType.FOK,
        )
    )
    out["fak_no_match"] = capture(
        lambda: taker.create_and_post_market_order(
            MarketOrderArgsV2(token_id=yes, amount=5, side="SELL", price=0.9),
            order_type=OrderType.FAK,
        )
    )
    out["min_size"] = capture(limit(taker, "BUY", 0.3, 1))
    out["not_enough_balance"] = capture(limit(taker, "BUY", 0.3, 1_000_000))
    return out


def record_reads(sb: Sandbox, yes: str, cid: str) -> dict[str, Sample]:
    """Market data, balance and Data API samples."""
    c = _client(sb, 1)
    data_api = sb.info["data_api_url"]
    user = c.get_address()
    return {
        "book": capture(lambda: c.get_order_book(yes)),
        "tick_size": capture(
            lambda: httpx.get(f"{sb.info['clob_url']}/tick-size", params={"token_id": yes}).json()
        ),
        "clob_market": capture(lambda: c.get_clob_market_info(cid)),
        "market": capture(lambda: c.get_market(cid)),
        "balance_allowance_collateral": capture(
            lambda: c.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
        ),
        "balance_allowance_conditional": capture(
            lambda: c.get_balance_allowance(
                BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=yes)
            )
        ),
        "data_trades": capture(lambda: c.get_trades_paginated()),
        "data_api_trades": capture(
            lambda: httpx.get(
                f"{data_api}/trades", params={"user": user, "takerOnly": "false"}
            ).json()
        ),
        "data_api_activity": capture(
            lambda: httpx.get(f"{data_api}/activity", params={"user": user}).json()
        ),
        "data_api_positions": capture(
            lambda: httpx.get(f"{data_api}/positions", params={"user": user}).json()
        ),
    }


def main(out_dir: Path = DEFAULT_OUT) -> None:
    """Start a private sandbox, record every sample file, stop it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with Sandbox(SandboxOptions(demo_markets=False, market_maker=False)) as sb:
        m = sb.create_market("Recorded sample market?", "recorded-sample", quote=False)
        yes, cid = m["tokens"][0]["token_id"], m["condition_id"]
        files = {
            "orders.json": record_orders(sb, yes, cid),
            "reads.json": record_reads(sb, yes, cid),
        }
    for name, samples in files.items():
        (out_dir / name).write_text(json.dumps(samples, indent=2, sort_keys=True) + "\n")
        sys.stdout.write(f"wrote {out_dir / name}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
