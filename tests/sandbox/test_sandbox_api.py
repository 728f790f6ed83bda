"""Auth, market data routes, paging and the Data API, through the client and plain HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    OrderArgsV2,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from sandbox.chain import CTF_EXCHANGE_V2

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], ClobClient]
Mkt = Any


def test_public_routes(sandbox: Any) -> None:
    c = ClobClient(sandbox.info["clob_url"], 137)
    assert c.get_ok() == "OK"
    assert c.get_version() == 2
    assert isinstance(c.get_server_time(), int)


def test_l1_create_then_derive_returns_same_key(sandbox: Any, demo: Any) -> None:
    c = ClobClient(sandbox.info["clob_url"], 137, key=demo[4]["private_key"])
    created = c.create_api_key(nonce=7)
    assert c.derive_api_key(nonce=7) == created
    with pytest.raises(PolyApiException) as exc:
        c.create_api_key(nonce=7)
    assert exc.value.status_code == 400
    assert c.create_or_derive_api_key(nonce=7) == created
    assert c.derive_api_key(nonce=8) != created


def test_l1_bad_signature_is_401(sandbox: Any, demo: Any) -> None:
    c = ClobClient(sandbox.info["clob_url"], 137, key=demo[4]["private_key"])
    headers = c._l1_headers()
    headers["POLY_ADDRESS"] = demo[5]["address"]
    resp = httpx.get(f"{sandbox.info['clob_url']}/auth/derive-api-key", headers=headers)
    assert (resp.status_code, resp.json()) == (401, {"error": "Invalid L1 Request headers"})


def test_l2_wrong_secret_or_key_is_401(sandbox: Any, demo: Any, client_for: Clients) -> None:
    good = client_for(0).creds
    for creds in (
        ApiCreds(good.api_key, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", good.api_passphrase),
        ApiCreds("00000000-0000-4000-8000-000000000000", good.api_secret, good.api_passphrase),
    ):
        c = ClobClient(sandbox.info["clob_url"], 137, key=demo[0]["private_key"], creds=creds)
        with pytest.raises(PolyApiException) as exc:
            c.get_open_orders()
        assert exc.value.status_code == 401
        assert exc.value.error_msg == {"error": "Unauthorized/Invalid api key"}
    other = ClobClient(sandbox.info["clob_url"], 137, key=demo[1]["private_key"], creds=good)
    with pytest.raises(PolyApiException) as exc:
        other.get_open_orders()
    assert exc.value.status_code == 401


def test_market_routes(client_for: Clients, market: Mkt) -> None:
    c = client_for(0)
    assert c.get_tick_size(market.yes) == "0.01"
    assert c.get_neg_risk(market.yes) is False
    assert c.get_fee_rate_bps(market.yes) == 0
    assert c.get_market(market.condition_id)["tokens"][0]["token_id"] == market.yes
    assert c.get_clob_market_info(market.condition_id)["t"][1]["t"] == market.no
    c.create_and_post_order(OrderArgsV2(token_id=market.yes, price=0.40, size=10, side="BUY"))
    book = c.get_order_book(market.yes)
    assert c.get_order_book_hash(dict(book)) == book["hash"]
    assert c.get_price(market.yes, "BUY") == {"price": "0.4"}
    assert c.get_midpoint(market.yes) == {"mid": "0.4"}


def test_balance_allowance(client_for: Clients, market: Mkt, give_shares: Any) -> None:
    c = client_for(5)
    col = c.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert int(col["balance"]) > 0 and int(col["allowances"][CTF_EXCHANGE_V2]) > 0
    give_shares(market, 5, 7)
    cond = c.update_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=market.yes)
    )
    assert cond["balance"] == "7000000"


def _trade(client_for: Clients, market: Mkt, give_shares: Any, n: int) -> list[str]:
    give_shares(market, 0, 10 * n)
    ids = []
    for _ in range(n):
        client_for(0).create_and_post_order(
            OrderArgsV2(token_id=market.yes, price=0.5, size=10, side="SELL")
        )
        ids.append(
            client_for(6).create_and_post_order(
                OrderArgsV2(token_id=market.yes, price=0.5, size=10, side="BUY")
            )["tradeIDs"][0]
        )
    return ids


def test_trades_paging(client_for: Clients, market: Mkt, give_shares: Any) -> None:
    ids = _trade(client_for, market, give_shares, 7)
    c = client_for(6)
    first = c.get_trades_paginated(TradeParams(market=market.condition_id))
    assert (first["count"], first["limit"]) == (5, 5) and first["next_cursor"] != "LTE="
    second = c.get_trades_paginated(
        TradeParams(market=market.condition_id), next_cursor=first["next_cursor"]
    )
    assert second["count"] == 2 and second["next_cursor"] == "LTE="
    everything = c.get_trades(TradeParams(market=market.condition_id))
    assert {t["id"] for t in everything} == set(ids)
    assert all(
        t["trader_side"] == "TAKER" and t["status"] in ("MATCHED", "MINED", "CONFIRMED")
        for t in everything
    )
    maker_view = client_for(0).get_trades(TradeParams(id=ids[0]))
    assert [t["trader_side"] for t in maker_view] == ["MAKER"]


def test_data_api(
    sandbox: Any, client_for: Clients, market: Mkt, give_shares: Any, demo: Any
) -> None:
    _trade(client_for, market, give_shares, 2)
    url = sandbox.info["data_api_url"]
    maker = demo[0]["address"]
    taker_only = httpx.get(
        f"{url}/trades", params={"user": maker, "market": market.condition_id}
    ).json()
    assert taker_only == []
    rows = httpx.get(
        f"{url}/trades", params={"user": maker, "takerOnly": "false", "market": market.condition_id}
    ).json()
    assert [(r["side"], r["size"], r["price"], r["asset"]) for r in rows] == [
        ("SELL", 10, 0.5, market.yes)
    ] * 2
    positions = httpx.get(f"{url}/positions", params={"user": demo[6]["address"]}).json()
    mine = [p for p in positions if p["asset"] == market.yes]
    assert mine and mine[0]["size"] == 20 and mine[0]["avgPrice"] == 0.5
    activity = httpx.get(f"{url}/activity", params={"user": demo[6]["address"]}).json()
    assert activity[0]["type"] == "TRADE" and activity[0]["usdcSize"] == 5


def test_batch_market_data(client_for: Clients, market: Mkt, give_shares: Any) -> None:
    from py_clob_client_v2.clob_types import BookParams, OrderScoringParams

    c = client_for(0)
    give_shares(market, 0, 10)
    c.create_and_post_order(OrderArgsV2(token_id=market.yes, price=0.40, size=10, side="BUY"))
    c.create_and_post_order(OrderArgsV2(token_id=market.yes, price=0.60, size=10, side="SELL"))
    params = [
        BookParams(token_id=market.yes, side="BUY"),
        BookParams(token_id=market.yes, side="SELL"),
    ]
    assert c.get_prices(params) == {market.yes: {"BUY": "0.4", "SELL": "0.6"}}
    assert c.get_midpoints(params[:1]) == {market.yes: "0.5"}
    assert c.get_spreads(params[:1]) == {market.yes: "0.2"}
    assert [b["asset_id"] for b in c.get_order_books(params[:1])] == [market.yes]
    assert c.is_order_scoring(OrderScoringParams(orderId="0x1")) == {"scoring": False}
