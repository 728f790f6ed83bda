"""Order types, partial fills and every admission error, through the unmodified client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    CreateOrderOptions,
    MarketOrderArgsV2,
    OrderArgsV2,
    OrderPayload,
    OrderType,
    PostOrdersV2Args,
)
from py_clob_client_v2.exceptions import PolyApiException

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], ClobClient]
Mkt = Any
Give = Callable[[Mkt, int, int], None]


def rejected(exc: pytest.ExceptionInfo[PolyApiException]) -> str:
    assert exc.value.status_code == 400
    return str(exc.value.error_msg["error"])


def sell(c: ClobClient, m: Mkt, price: float, size: float, **kw: object) -> dict:
    return c.create_and_post_order(
        OrderArgsV2(token_id=m.yes, price=price, size=size, side="SELL"), **kw
    )


def buy(c: ClobClient, m: Mkt, price: float, size: float, **kw: object) -> dict:
    return c.create_and_post_order(
        OrderArgsV2(token_id=m.yes, price=price, size=size, side="BUY"), **kw
    )


def test_gtc_rests_then_is_cancelled(client_for: Clients, market: Mkt) -> None:
    c = client_for(0)
    resp = buy(c, market, 0.40, 10)
    assert resp["success"] and resp["status"] == "live" and resp["tradeIDs"] == []
    order_id = resp["orderID"]
    assert [o["id"] for o in c.get_open_orders()] == [order_id] or order_id in [
        o["id"] for o in c.get_open_orders()
    ]
    book = c.get_order_book(market.yes)
    assert book["bids"] == [{"price": "0.4", "size": "10"}]
    assert c.cancel_order(OrderPayload(orderID=order_id))["canceled"] == [order_id]
    assert c.get_order(order_id)["status"] == "CANCELED"
    assert c.get_order_book(market.yes)["bids"] == []


def test_partial_fill_of_resting_and_taker_remainder_rests(
    client_for: Clients, market: Mkt, give_shares: Give
) -> None:
    maker, taker = client_for(0), client_for(1)
    give_shares(market, 0, 50)
    ask = sell(maker, market, 0.60, 20)
    first = buy(taker, market, 0.60, 8)
    assert first["status"] == "matched"
    assert (first["makingAmount"], first["takingAmount"]) == ("4.8", "8")
    assert len(first["transactionsHashes"]) == 1
    assert maker.get_order(ask["orderID"])["size_matched"] == "8"
    assert maker.get_order(ask["orderID"])["status"] == "LIVE"
    second = buy(taker, market, 0.61, 15)
    assert second["status"] == "matched" and second["takingAmount"] == "12"
    resting = taker.get_order(second["orderID"])
    assert (resting["status"], resting["size_matched"], resting["original_size"]) == (
        "LIVE",
        "12",
        "15",
    )
    assert maker.get_order(ask["orderID"])["status"] == "MATCHED"
    assert taker.get_order_book(market.yes)["bids"] == [{"price": "0.61", "size": "3"}]


def test_fok_kill_leaves_book_untouched(
    client_for: Clients, market: Mkt, give_shares: Give
) -> None:
    give_shares(market, 0, 10)
    sell(client_for(0), market, 0.50, 10)
    taker = client_for(1)
    with pytest.raises(PolyApiException) as exc:
        taker.create_and_post_market_order(
            MarketOrderArgsV2(token_id=market.yes, amount=20, side="BUY", price=0.5),
            order_type=OrderType.FOK,
        )
    assert rejected(exc) == "order couldn't be fully filled. FOK orders are fully filled or killed."
    assert taker.get_order_book(market.yes)["asks"] == [{"price": "0.5", "size": "10"}]


def test_fok_market_buy_fills_completely(
    client_for: Clients, market: Mkt, give_shares: Give
) -> None:
    give_shares(market, 0, 30)
    sell(client_for(0), market, 0.50, 10)
    sell(client_for(0), market, 0.55, 20)
    resp = client_for(1).create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes, amount=10, side="BUY"), order_type=OrderType.FOK
    )
    assert resp["status"] == "matched"
    # $5 buys 10 shares at 0.50, the other $5 buys 9.090909 at 0.55; the exchange charges the
    # floored cost of those shares, floor(9.090909 x 0.55) = 4.999999
    assert (resp["makingAmount"], resp["takingAmount"]) == ("9.999999", "19.090909")


def test_fak_fills_what_is_there(client_for: Clients, market: Mkt, give_shares: Give) -> None:
    give_shares(market, 0, 10)
    sell(client_for(0), market, 0.50, 10)
    resp = client_for(1).create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes, amount=20, side="BUY", price=0.5),
        order_type=OrderType.FAK,
    )
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "5", "10")
    assert client_for(1).get_order(resp["orderID"])["status"] == "MATCHED"
    assert client_for(1).get_order_book(market.yes)["asks"] == []


def test_fak_without_liquidity_is_killed(client_for: Clients, market: Mkt) -> None:
    with pytest.raises(PolyApiException) as exc:
        client_for(1).create_and_post_market_order(
            MarketOrderArgsV2(token_id=market.yes, amount=5, side="BUY", price=0.5),
            order_type=OrderType.FAK,
        )
    assert rejected(exc).startswith("no orders found to match with FAK order.")


def test_market_sell_fok(client_for: Clients, market: Mkt, give_shares: Give) -> None:
    buy(client_for(0), market, 0.45, 20)
    give_shares(market, 1, 10)
    resp = client_for(1).create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes, amount=10, side="SELL"), order_type=OrderType.FOK
    )
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "10", "4.5")


def test_post_only(client_for: Clients, market: Mkt, give_shares: Give) -> None:
    give_shares(market, 0, 10)
    sell(client_for(0), market, 0.50, 10)
    c = client_for(1)
    with pytest.raises(PolyApiException) as exc:
        c.post_order(
            c.create_order(OrderArgsV2(token_id=market.yes, price=0.5, size=10, side="BUY")),
            OrderType.GTC,
            post_only=True,
        )
    assert rejected(exc) == "invalid post-only order: order crosses book"
    ok = c.post_order(
        c.create_order(OrderArgsV2(token_id=market.yes, price=0.49, size=10, side="BUY")),
        OrderType.GTC,
        post_only=True,
    )
    assert ok["status"] == "live"


def test_tick_size_violation(client_for: Clients, market: Mkt) -> None:
    c = client_for(0)
    order = c.builder.build_order(
        OrderArgsV2(token_id=market.yes, price=0.555, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.001", neg_risk=False),
    )
    with pytest.raises(PolyApiException) as exc:
        c.post_order(order)
    assert "breaks minimum tick size rule: 0.01" in rejected(exc)


def test_min_size_violation(client_for: Clients, market: Mkt) -> None:
    with pytest.raises(PolyApiException) as exc:
        buy(client_for(0), market, 0.40, 2)
    assert rejected(exc).endswith("Size (2) lower than the minimum: 5")


def test_marketable_buy_needs_one_dollar(
    client_for: Clients, market: Mkt, give_shares: Give
) -> None:
    give_shares(market, 0, 10)
    sell(client_for(0), market, 0.10, 10)
    with pytest.raises(PolyApiException) as exc:
        buy(client_for(1), market, 0.10, 5)
    assert rejected(exc) == "invalid amount for a marketable BUY order ($0.5), min size: $1"


def test_not_enough_balance(client_for: Clients, market: Mkt) -> None:
    with pytest.raises(PolyApiException) as exc:
        buy(client_for(2), market, 0.50, 1_000_000)
    assert rejected(exc) == "not enough balance / allowance"
    with pytest.raises(PolyApiException) as exc:
        sell(client_for(2), market, 0.50, 10)
    assert rejected(exc) == "not enough balance / allowance"


def test_open_orders_lock_balance(client_for: Clients, market: Mkt, give_shares: Give) -> None:
    give_shares(market, 2, 10)
    sell(client_for(2), market, 0.70, 10)
    with pytest.raises(PolyApiException) as exc:
        sell(client_for(2), market, 0.80, 5)
    assert rejected(exc) == "not enough balance / allowance"


def test_duplicated(client_for: Clients, market: Mkt) -> None:
    c = client_for(0)
    order = c.create_order(OrderArgsV2(token_id=market.yes, price=0.30, size=10, side="BUY"))
    first = c.post_order(order)
    with pytest.raises(PolyApiException) as exc:
        c.post_order(order)
    assert rejected(exc) == f"order {first['orderID']} is invalid. Duplicated."


def test_tampered_order_is_rejected(client_for: Clients, market: Mkt) -> None:
    c = client_for(0)
    order = c.create_order(OrderArgsV2(token_id=market.yes, price=0.30, size=10, side="BUY"))
    order.takerAmount = str(int(order.takerAmount) * 2)
    with pytest.raises(PolyApiException) as exc:
        c.post_order(order)
    assert rejected(exc) == "invalid signature"


def test_gtd_expires(client_for: Clients, market: Mkt) -> None:
    import time

    c = client_for(0)
    expiration = int(time.time()) + 3  # the fixture's security threshold is 1 s
    resp = c.create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.2, size=10, side="BUY", expiration=expiration),
        order_type=OrderType.GTD,
    )
    assert resp["status"] == "live"
    deadline = time.time() + 6
    while c.get_order(resp["orderID"])["status"] == "LIVE" and time.time() < deadline:
        time.sleep(0.2)
    assert c.get_order(resp["orderID"])["status"] == "CANCELED"
    with pytest.raises(PolyApiException) as exc:
        c.create_and_post_order(
            OrderArgsV2(
                token_id=market.yes, price=0.2, size=10, side="BUY", expiration=int(time.time())
            ),
            order_type=OrderType.GTD,
        )
    assert rejected(exc) == "invalid expiration"


def test_batch_post_and_cancels(client_for: Clients, market: Mkt) -> None:
    c = client_for(0)
    args = [
        PostOrdersV2Args(
            order=c.create_order(OrderArgsV2(token_id=market.yes, price=p, size=10, side="BUY"))
        )
        for p in (0.1, 0.11, 0.12)
    ] + [
        PostOrdersV2Args(
            order=c.create_order(OrderArgsV2(token_id=market.no, price=0.1, size=1, side="BUY"))
        )
    ]
    results = c.post_orders(args)
    assert [r["success"] for r in results] == [True, True, True, False]
    assert results[3]["errorMsg"].endswith("lower than the minimum: 5")
    ids = [r["orderID"] for r in results[:3]]
    assert c.cancel_orders(ids[:1])["canceled"] == ids[:1]
    from py_clob_client_v2.clob_types import OrderMarketCancelParams

    assert sorted(
        c.cancel_market_orders(OrderMarketCancelParams(asset_id=market.yes))["canceled"]
    ) == sorted(ids[1:])
    buy(c, market, 0.1, 10)
    assert len(c.cancel_all()["canceled"]) >= 1
    assert [o for o in c.get_open_orders() if o["asset_id"] == market.yes] == []
