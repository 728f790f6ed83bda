"""Polymarket's SDK (polymarket-client, unmodified) trades on the sandbox in both market versions.

v1 markets settle on CTF Exchange V2 with ConditionalTokens ids; v2 markets settle on ExchangeV3
(matchOrders, EIP-712 domain version "3") with PositionManager position ids. The SDK finds the
sandbox through its own environment config; every check reads the chain or the SDK's models.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from eth_abi.abi import decode
from polymarket import SecureClient
from polymarket.errors import RequestRejectedError
from web3 import Web3

from tests.sandbox.onchain import (
    CONDITIONAL_TOKENS,
    EXCHANGE_V3,
    ORDERS_MATCHED,
    POSITION_MANAGER,
    fills,
    outcome_balance,
    pusd,
    receipt,
)
from tests.sandbox_env import Market

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], SecureClient]
MakeMarket = Callable[..., Market]
Give = Callable[[Market, int, int], None]
VERSIONS = ("v1", "v2")
LEDGER = {"v1": CONDITIONAL_TOKENS, "v2": POSITION_MANAGER}
EXCHANGE = {"v1": "0xE111180000d2663C0091e4f400237545B87B996B", "v2": EXCHANGE_V3}
ORDER_TUPLE = (
    "(uint256,address,address,uint256,uint256,uint256,uint8,uint8,uint256,bytes32,bytes32,bytes)"
)
MAX_UINT = 2**256 - 1


@pytest.mark.parametrize("version", VERSIONS)
def test_limit_orders_partial_fill_reads_and_cancel(
    version: str, sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market(version)
    maker, taker = sdk_for(0), sdk_for(1)
    give_shares(m, 0, 30)
    ask = maker.place_limit_order(asset_id=m.yes, price="0.6", size="20", side="SELL")
    assert ask.ok and ask.status == "live" and ask.trade_ids == ()
    first = taker.place_limit_order(asset_id=m.yes, price="0.6", size="8", side="BUY")
    assert first.ok and first.status == "matched"
    assert (first.making_amount, first.taking_amount) == (Decimal("4.8"), Decimal("8"))
    (tx,) = taker.wait_for_order_fill_settlement(first)
    made, took = fills(receipt(w3, tx))
    a, b = demo[0]["address"], demo[1]["address"]
    assert (made.exchange, took.exchange) == (EXCHANGE[version], EXCHANGE[version])
    assert (made.order_hash, made.maker, made.taker, made.side, made.token_id) == (
        ask.order_id,
        a,
        b,
        1,
        int(m.yes),
    )
    assert (made.making, made.taking, made.fee) == (8_000_000, 4_800_000, 0)
    assert (took.order_hash, took.maker, took.taker, took.side) == (
        first.order_id,
        b,
        EXCHANGE[version],
        0,
    )
    assert (took.token_id, took.making, took.taking, took.fee) == (
        int(m.yes),
        4_800_000,
        8_000_000,
        0,
    )

    resting = maker.get_order(order_id=ask.order_id)
    assert (resting.status, resting.size_matched, resting.original_size) == ("LIVE", 8, 20)
    assert resting.asset_id == m.yes and resting.condition_id == m.condition_id
    assert ask.order_id in [o.id for o in maker.list_open_orders(asset_id=m.yes).iter_items()]
    trade = next(t for t in taker.list_account_trades(asset_id=m.yes).iter_items())
    assert (trade.trader_side, trade.side, trade.size, trade.price) == (
        "TAKER",
        "BUY",
        8,
        Decimal("0.6"),
    )
    assert trade.status == "CONFIRMED" and trade.transaction_hash == tx
    assert [mo.order_id for mo in trade.maker_orders] == [ask.order_id]
    assert outcome_balance(w3, b, m.yes, LEDGER[version]) == 8_000_000

    cancelled = maker.cancel_order(order_id=ask.order_id)
    assert cancelled.canceled == (ask.order_id,)
    assert maker.get_order(order_id=ask.order_id).status == "CANCELED"
    assert maker.get_order_book(asset_id=m.yes).asks == ()


@pytest.mark.parametrize("version", VERSIONS)
def test_marketable_buys_and_sells(
    version: str, sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market(version)
    maker, taker = sdk_for(0), sdk_for(2)
    who = demo[2]["address"]
    give_shares(m, 0, 30)
    maker.place_limit_order(asset_id=m.yes, price="0.5", size="10", side="SELL")
    maker.place_limit_order(asset_id=m.yes, price="0.4", size="10", side="BUY")
    cash, held = pusd(w3, who), outcome_balance(w3, who, m.yes, LEDGER[version])

    bought = taker.place_market_order(asset_id=m.yes, side="BUY", amount="3", order_type="FOK")
    assert bought.status == "matched"
    assert (bought.making_amount, bought.taking_amount) == (Decimal("3"), Decimal("6"))
    taker.wait_for_order_fill_settlement(bought)
    sold = taker.place_market_order(asset_id=m.yes, side="SELL", shares="5", order_type="FAK")
    assert (sold.making_amount, sold.taking_amount) == (Decimal("5"), Decimal("2"))
    taker.wait_for_order_fill_settlement(sold)
    assert pusd(w3, who) == cash - 3_000_000 + 2_000_000
    assert outcome_balance(w3, who, m.yes, LEDGER[version]) == held + 1_000_000

    # FAK takes what is there (4 shares at 0.5 for $2 of the $10) and kills the rest
    partial = taker.place_market_order(
        asset_id=m.yes, side="BUY", amount="10", max_price="0.5", order_type="FAK"
    )
    assert (partial.making_amount, partial.taking_amount) == (Decimal("2"), Decimal("4"))
    assert maker.get_order_book(asset_id=m.yes).asks == ()
    with pytest.raises(RequestRejectedError) as killed:
        taker.place_market_order(
            asset_id=m.yes, side="SELL", shares="5", min_price="0.45", order_type="FOK"
        )
    assert killed.value.status == 400
    assert "FOK orders are fully filled or killed" in str(killed.value)


@pytest.mark.parametrize("version", VERSIONS)
def test_balance_and_allowance_for_every_asset_type(
    version: str, sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market(version)
    c, who = sdk_for(3), demo[3]["address"]
    give_shares(m, 3, 7)
    collateral = c.get_balance_allowance(asset_type="COLLATERAL")
    assert collateral.balance == pusd(w3, who)
    exchanges = {"0xE111180000d2663C0091e4f400237545B87B996B", EXCHANGE_V3,
                 "0xe2222d279d744050d28e00520010520000310F59"}  # fmt: skip
    assert exchanges <= set(collateral.allowances)
    assert all(collateral.allowances[e] == MAX_UINT for e in exchanges)
    asset_type = "CONDITIONAL-V2" if version == "v2" else "CONDITIONAL"
    own = c.get_balance_allowance(asset_type=asset_type, asset_id=m.yes)
    assert own.balance == 7_000_000 == outcome_balance(w3, who, m.yes, LEDGER[version])
    assert own.allowances[EXCHANGE[version]] == MAX_UINT
    other = "CONDITIONAL" if version == "v2" else "CONDITIONAL-V2"
    assert c.get_balance_allowance(asset_type=other, asset_id=m.yes).balance == 0


def test_v2_settlement_is_match_orders_with_the_signed_orders(
    sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3
) -> None:
    m = make_market("v2")
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.7", size="10", side="SELL")
    signed = sdk_for(1).create_limit_order(asset_id=m.yes, price="0.7", size="10", side="BUY")
    resp = sdk_for(1).post_order(signed)
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    sent = w3.eth.get_transaction(tx)
    assert sent["to"] == EXCHANGE_V3 and bytes(sent["input"][:4]).hex() == "0fb25ba4"
    taker, makers, fills_in, fees, amounts = decode(
        [ORDER_TUPLE, f"{ORDER_TUPLE}[]", "uint256[]", "uint256[]", "(uint256,uint256,uint256)"],
        bytes(sent["input"][4:]),
    )
    assert (taker[0], taker[3], taker[11].hex()) == (signed.salt, int(m.yes), signed.signature[2:])
    assert (len(makers), fills_in, fees, amounts) == (
        1,
        (10_000_000,),
        (0,),
        (7_000_000, 10_000_000, 0),
    )
    rec = receipt(w3, tx)
    assert [lg["topics"][0] for lg in rec["logs"] if lg["address"] == EXCHANGE_V3].count(
        ORDERS_MATCHED
    ) == 1
    assert [f.token_id for f in fills(rec)] == [int(m.yes), int(m.yes)]
    assert int(m.yes) >> 248 == 1 and int(m.no) == int(m.yes) + 1  # binary-module position ids


def test_v2_mint_and_merge_through_the_binary_module(
    sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market("v2")
    a, b = demo[0]["address"], demo[1]["address"]
    sdk_for(0).place_limit_order(asset_id=m.no, price="0.35", size="10", side="BUY")
    minted = sdk_for(1).place_limit_order(asset_id=m.yes, price="0.65", size="10", side="BUY")
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(minted)
    made, took = fills(receipt(w3, tx))
    assert (made.token_id, made.making, made.taking) == (int(m.no), 3_500_000, 10_000_000)
    assert (took.token_id, took.making, took.taking) == (int(m.yes), 6_500_000, 10_000_000)
    assert outcome_balance(w3, a, m.no, POSITION_MANAGER) == 10_000_000
    assert outcome_balance(w3, b, m.yes, POSITION_MANAGER) == 10_000_000

    cash_a, cash_b = pusd(w3, a), pusd(w3, b)
    sdk_for(0).place_limit_order(asset_id=m.no, price="0.3", size="10", side="SELL")
    merged = sdk_for(1).place_market_order(
        asset_id=m.yes, side="SELL", shares="10", min_price="0.7", order_type="FOK"
    )
    sdk_for(1).wait_for_order_fill_settlement(merged)
    assert (pusd(w3, a) - cash_a, pusd(w3, b) - cash_b) == (3_000_000, 7_000_000)
    assert outcome_balance(w3, a, m.no, POSITION_MANAGER) == 0
    assert outcome_balance(w3, b, m.yes, POSITION_MANAGER) == 0


def test_builder_code_passes_through_without_a_fee(
    sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3
) -> None:
    m = make_market("v2")
    builder = "0x" + "ab" * 32
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.5", size="10", side="SELL")
    resp = sdk_for(1).place_limit_order(
        asset_id=m.yes, price="0.5", size="10", side="BUY", builder_code=builder
    )
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    rec = receipt(w3, tx)
    taker_log = next(lg for lg in rec["logs"] if lg["topics"][1].to_0x_hex() == resp.order_id)
    *_, fee, logged_builder, _ = decode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        bytes(taker_log["data"]),
    )
    assert ("0x" + logged_builder.hex(), fee) == (builder, 0)


def test_a_configured_builder_fee_adds_to_the_takers_fee(
    sandbox: Any, sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market("v2")
    builder = "0x" + "cd" * 32
    sandbox.admin("/builders", {"code": builder, "taker_bps": 100})
    assert sdk_for(1).get_builder_fee_rates(builder).taker == Decimal("0.01")
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.5", size="10", side="SELL")
    before = pusd(w3, demo[1]["address"])
    resp = sdk_for(1).place_limit_order(
        asset_id=m.yes, price="0.5", size="10", side="BUY", builder_code=builder
    )
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    assert [f.fee for f in fills(receipt(w3, tx))] == [0, 50_000]  # 1 % of the $5 paid
    assert pusd(w3, demo[1]["address"]) == before - 5_050_000


def test_py_clob_client_v2_cannot_trade_a_v2_market(
    client_for: Callable[[int], Any], make_market: MakeMarket
) -> None:
    from py_clob_client_v2.clob_types import OrderArgsV2
    from py_clob_client_v2.exceptions import PolyApiException

    # it signs every order for CTF Exchange V2's domain (version "2"), not ExchangeV3's
    m = make_market("v2")
    with pytest.raises(PolyApiException) as exc:
        client_for(0).create_and_post_order(
            OrderArgsV2(token_id=m.yes, price=0.4, size=10, side="BUY")
        )
    assert exc.value.status_code == 400 and exc.value.error_msg["error"] == "invalid signature"
