"""Record wire samples from a sandbox into tests/resources/polymarket/: the venue answers that the
Polymarket adapter's schemas parse, and that the tests' fakes are checked against.

Run: ``python -m sandbox.record [OUT_DIR]`` (a private sandbox is started and stopped). Each file
is one JSON object ``{case: sample}`` where a sample is ``{"status": http_status, "body":
parsed_json}``. Ids, hashes and times differ per run; the shapes and texts are the contract.
`record_all` records the same cases on a running sandbox (the sandbox's own contract test).

Invariant: bodies are what py-clob-client-v2 (or, for routes it lacks, httpx) returns, i.e. what
the adapter is given to parse; the market is resolved last, so that every other case is recorded
on a trading market.
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
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from sandbox.node import SANDBOX_DIR
from sandbox.runtime import Sandbox, SandboxOptions

DEFAULT_OUT = SANDBOX_DIR.parent / "tests" / "resources" / "polymarket"
UNKNOWN_ORDER = "0x" + "ab" * 32
UNKNOWN_TOKEN = "1" * 70
Sample = dict[str, Any]
Post = Callable[..., Callable[[], Any]]


def capture(call: Callable[[], Any]) -> Sample:
    """Run one client call and return its status and body."""
    try:
        return {"status": 200, "body": call()}
    except PolyApiException as exc:
        return {"status": exc.status_code, "body": exc.error_msg}


def fetch(url: str, **params: Any) -> Sample:
    """GET a public route with httpx and return its status and body."""
    response = httpx.get(url, params=params, trust_env=False)
    return {"status": response.status_code, "body": response.json()}


def _client(sb: Sandbox, i: int) -> ClobClient:
    c = ClobClient(sb.info["clob_url"], 137, key=sb.info["accounts"]["demo"][i]["private_key"])
    c.set_api_creds(c.create_or_derive_api_key())
    return c


def _limit(yes: str) -> Post:
    def limit(c: ClobClient, side: str, price: float, size: float, token: str = yes) -> Any:
        return lambda: c.create_and_post_order(
            OrderArgsV2(token_id=token, price=price, size=size, side=side)
        )

    return limit


def record_orders(sb: Sandbox, yes: str, no: str, cid: str) -> dict[str, Sample]:
    """Order placement, lookup and cancel samples."""
    maker, taker = _client(sb, 0), _client(sb, 1)
    sb.admin(
        "/split",
        {"market": cid, "address": sb.info["accounts"]["demo"][0]["address"], "amount": "100"},
    )
    limit = _limit(yes)
    out = {"live": capture(limit(maker, "SELL", 0.6, 20))}
    out["matched_partial_resting_maker"] = capture(limit(taker, "BUY", 0.6, 8))
    out["fok_market_buy_matched"] = capture(
        lambda: taker.create_and_post_market_order(
            MarketOrderArgsV2(token_id=yes, amount=3, side="BUY"), order_type=OrderType.FOK
        )
    )
    out.update(_error_samples(yes, taker, limit))
    out.update(_lookup_samples(maker, taker, out))
    out.update(_duplicate_and_cancel_samples(yes, taker))
    out.update(_complement_samples(no, maker, taker, limit))
    out.update(_fault_samples(sb, taker, limit))
    return out


def _error_samples(yes: str, taker: ClobClient, limit: Post) -> dict[str, Sample]:
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


def _lookup_samples(
    maker: ClobClient, taker: ClobClient, posted: dict[str, Sample]
) -> dict[str, Sample]:
    # GET /data/order of a matched taker, a partly filled maker that still rests, an unknown hash.
    matched = posted["matched_partial_resting_maker"]["body"]
    resting = posted["live"]["body"]
    return {
        "get_order_matched": capture(lambda: taker.get_order(matched["orderID"])),
        "get_order_partly_filled": capture(lambda: maker.get_order(resting["orderID"])),
        "get_order_unknown": capture(lambda: taker.get_order(UNKNOWN_ORDER)),
        "trades_of_order": capture(
            lambda: taker.get_trades(TradeParams(id=matched["tradeIDs"][0]), only_first_page=True)
        ),
    }


def _duplicate_and_cancel_samples(yes: str, taker: ClobClient) -> dict[str, Sample]:
    out: dict[str, Sample] = {}
    order = taker.create_order(OrderArgsV2(token_id=yes, price=0.2, size=10, side="BUY"))
    out["resting_for_duplicate"] = capture(lambda: taker.post_order(order))
    out["duplicated"] = capture(lambda: taker.post_order(order))
    order_id = out["resting_for_duplicate"]["body"]["orderID"]
    out["get_order_live"] = capture(lambda: taker.get_order(order_id))
    out["open_orders"] = capture(lambda: taker.get_open_orders())
    out["cancel"] = capture(lambda: taker.cancel_order(OrderPayload(orderID=order_id)))
    out["cancel_again"] = capture(lambda: taker.cancel_order(OrderPayload(orderID=order_id)))
    out["get_order_canceled"] = capture(lambda: taker.get_order(order_id))
    taker.create_and_post_order(OrderArgsV2(token_id=yes, price=0.1, size=10, side="BUY"))
    out["cancel_market_orders"] = capture(
        lambda: taker.cancel_market_orders(OrderMarketCancelParams(asset_id=yes))
    )
    return out


def _complement_samples(
    no: str, maker: ClobClient, taker: ClobClient, limit: Post
) -> dict[str, Sample]:
    # A BUY of Yes at 0.55 meets a resting BUY of No at 0.45: a complement (mint) match, in which
    # the maker is on the taker's own side.
    limit(maker, "BUY", 0.45, 5, no)()
    out = {"matched_complement": capture(limit(taker, "BUY", 0.55, 5))}
    trade_id = out["matched_complement"]["body"]["tradeIDs"][0]
    out["trades_complement"] = capture(
        lambda: taker.get_trades(TradeParams(id=trade_id), only_first_page=True)
    )
    return out


def _fault_samples(sb: Sandbox, taker: ClobClient, limit: Post) -> dict[str, Sample]:
    # The temporary refusals, as the sandbox's fault injection gives them.
    try:
        sb.set_faults(reset=True, rate_429=1.0, retry_after_s=2, paths=["/order"])
        out = {"throttled": capture(limit(taker, "BUY", 0.2, 10))}
        sb.set_faults(reset=True, cancel_only=True)
        out["cancel_only"] = capture(limit(taker, "BUY", 0.2, 10))
    finally:
        sb.set_faults(reset=True)
    return out


def record_reads(sb: Sandbox, yes: str, cid: str) -> dict[str, Sample]:
    """Market data, balance and Data API samples."""
    c = _client(sb, 1)
    clob, data_api = sb.info["clob_url"], sb.info["data_api_url"]
    user = c.get_address()
    balance = BalanceAllowanceParams
    return {
        "book": capture(lambda: c.get_order_book(yes)),
        "tick_size": fetch(f"{clob}/tick-size", token_id=yes),
        "clob_market": capture(lambda: c.get_clob_market_info(cid)),
        "market": capture(lambda: c.get_market(cid)),
        "markets_by_token": fetch(f"{clob}/markets-by-token/{yes}"),
        "markets_by_token_unknown": fetch(f"{clob}/markets-by-token/{UNKNOWN_TOKEN}"),
        "balance_allowance_collateral": capture(
            lambda: c.get_balance_allowance(balance(asset_type=AssetType.COLLATERAL))
        ),
        "balance_allowance_conditional": capture(
            lambda: c.get_balance_allowance(balance(asset_type=AssetType.CONDITIONAL, token_id=yes))
        ),
        "data_trades": capture(lambda: c.get_trades_paginated()),
        "data_api_trades": fetch(f"{data_api}/trades", user=user, takerOnly="false"),
        "data_api_activity": fetch(f"{data_api}/activity", user=user),
        "data_api_positions": fetch(f"{data_api}/positions", user=user),
    }


def record_resolution(sb: Sandbox, cid: str, orders: dict[str, Sample]) -> dict[str, Sample]:
    """Resolve the market to Yes; the market and a still resting order after it."""
    maker = _client(sb, 0)
    sb.resolve(cid, "Yes")
    resting = orders["live"]["body"]["orderID"]
    return {
        "market_resolved": capture(lambda: maker.get_market(cid)),
        "get_order_market_resolved": capture(lambda: maker.get_order(resting)),
    }


def record_all(sb: Sandbox, slug: str = "recorded-sample") -> dict[str, dict[str, Sample]]:
    """Record every sample on a running sandbox, in a market of its own; return them by file."""
    m = sb.create_market("Recorded sample market?", slug, quote=False)
    yes, no, cid = m["tokens"][0]["token_id"], m["tokens"][1]["token_id"], m["condition_id"]
    orders = record_orders(sb, yes, no, cid)
    reads = record_reads(sb, yes, cid)
    resolved = record_resolution(sb, cid, orders)
    orders["get_order_market_resolved"] = resolved.pop("get_order_market_resolved")
    return {"orders.json": orders, "reads.json": {**reads, **resolved}}


def main(out_dir: Path = DEFAULT_OUT) -> None:
    """Start a private sandbox, record every sample file, stop it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with Sandbox(SandboxOptions(demo_markets=False, market_maker=False)) as sb:
        files = record_all(sb)
    for name, samples in files.items():
        (out_dir / name).write_text(json.dumps(samples, indent=2, sort_keys=True) + "\n")
        sys.stdout.write(f"wrote {out_dir / name}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
