"""The live venue's quirks as faults: a late trade index, order lookups that forget orders, and
accepted posts whose answer is lost (502), through py-clob-client-v2 and the Data API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    MarketOrderArgsV2,
    OrderArgsV2,
    OrderPayload,
    OrderType,
    PostOrdersV2Args,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from sandbox.runtime import Sandbox
from tests.sandbox_env import Market

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], ClobClient]
Give = Callable[[Market, int, int], None]


def order(c: ClobClient, m: Market, side: str, price: float, size: float) -> dict[str, Any]:
    resp: dict[str, Any] = c.create_and_post_order(
        OrderArgsV2(token_id=m.yes, price=price, size=size, side=side)
    )
    return resp


def data_api_trades(sb: Sandbox, user: str, m: Market) -> list[dict[str, Any]]:
    url = f"{sb.info['data_api_url']}/trades"
    rows: list[dict[str, Any]] = httpx.get(
        url, params={"user": user, "market": m.condition_id}
    ).json()
    return rows


def v2_activity(sb: Sandbox, user: str, m: Market) -> list[dict[str, Any]]:
    url = f"{sb.info['data_api_url']}/v2/activity"
    params = {"user": user, "condition_id": m.condition_id}
    rows: list[dict[str, Any]] = httpx.get(url, params=params).json()["data"]
    return rows


def test_trades_are_indexed_late(
    faults: Sandbox, client_for: Clients, market: Market, give_shares: Give, demo: list[Any]
) -> None:
    maker, taker, user = client_for(0), client_for(1), demo[1]["address"]
    give_shares(market, 0, 30)
    order(maker, market, "SELL", 0.5, 20)
    faults.set_faults(trades_delay_s=2.0)
    before = time.monotonic()
    resp = order(taker, market, "BUY", 0.5, 5)
    (trade_id,) = resp["tradeIDs"]
    assert resp["transactionsHashes"] and resp["takingAmount"] == "5"
    looked_up = taker.get_order(resp["orderID"])
    assert looked_up["associate_trades"] == [trade_id] and looked_up["size_matched"] == "5"
    assert taker.get_trades(TradeParams(id=trade_id)) == []
    assert data_api_trades(faults, user, market) == v2_activity(faults, user, market) == []
    deadline = before + 10
    while not taker.get_trades(TradeParams(id=trade_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert time.monotonic() - before >= 1.9  # not listed before the delay
    assert [t["id"] for t in taker.get_trades(TradeParams(id=trade_id))] == [trade_id]
    assert len(data_api_trades(faults, user, market)) == len(v2_activity(faults, user, market)) == 1

    faults.set_faults(trades_delay_s=0.0)
    (now_id,) = order(taker, market, "BUY", 0.5, 5)["tradeIDs"]
    assert [t["id"] for t in taker.get_trades(TradeParams(id=now_id))] == [now_id]


def test_matched_taker_is_forgotten(
    faults: Sandbox, client_for: Clients, market: Market, give_shares: Give
) -> None:
    maker, taker = client_for(0), client_for(1)
    give_shares(market, 0, 30)
    ask = order(maker, market, "SELL", 0.5, 20)
    bid = order(taker, market, "BUY", 0.4, 5)
    faults.set_faults(hide_matched_taker=True)
    fak = taker.create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes, amount=2.5, side="BUY", price=0.5),
        order_type=OrderType.FAK,
    )
    assert fak["status"] == "matched" and fak["tradeIDs"]
    assert taker.get_order(fak["orderID"]) is None  # as for an unknown id
    assert taker.get_order(bid["orderID"])["status"] == "LIVE"
    assert maker.get_order(ask["orderID"])["size_matched"] == "5"  # a matched maker stays
    faults.set_faults(hide_matched_taker=False)
    assert taker.get_order(fak["orderID"])["status"] == "MATCHED"


def test_closed_orders_are_forgotten(faults: Sandbox, client_for: Clients, market: Market) -> None:
    c = client_for(0)
    live = order(c, market, "BUY", 0.3, 5)
    gone = order(c, market, "BUY", 0.2, 5)
    assert c.cancel_order(OrderPayload(orderID=gone["orderID"]))["canceled"] == [gone["orderID"]]
    faults.set_faults(hide_closed=True)
    assert c.get_order(gone["orderID"]) is None
    assert c.get_order(live["orderID"])["status"] == "LIVE"
    faults.set_faults(hide_closed=False)
    assert c.get_order(gone["orderID"])["status"] == "CANCELED"


def test_accepted_post_loses_its_answer(
    faults: Sandbox, client_for: Clients, market: Market
) -> None:
    c = client_for(0)
    signed = c.create_order(OrderArgsV2(token_id=market.yes, price=0.3, size=10, side="BUY"))
    batch = [
        PostOrdersV2Args(
            order=c.create_order(OrderArgsV2(token_id=market.yes, price=p, size=5, side="BUY"))
        )
        for p in (0.21, 0.22)
    ]
    faults.set_faults(post_lost_rate=1.0)
    for post in (lambda: c.post_order(signed), lambda: c.post_orders(batch)):
        with pytest.raises(PolyApiException) as exc:
            post()
        assert exc.value.status_code == 502
        assert exc.value.error_msg == {"error": "Bad Gateway"}
    with pytest.raises(PolyApiException) as dup:  # a refused post is answered as usual
        c.post_order(signed)
    assert dup.value.status_code == 400 and dup.value.error_msg["error"].endswith("Duplicated.")
    faults.set_faults(post_lost_rate=0.0)
    live = [o["price"] for o in c.get_open_orders() if o["asset_id"] == market.yes]
    assert sorted(live) == ["0.21", "0.22", "0.3"]
    assert order(c, market, "BUY", 0.23, 5)["status"] == "live"
