"""Operator fees, to the micro-unit: takers pay shares x r x (p(1-p))^e, makers pay nothing.

The expected fee is computed here, independently of the sandbox: exact decimal arithmetic,
floored to 5 decimal places, capped at 5 % of the trade's cash value. A BUY pays it in pUSD on
top of its cost, a SELL receives its proceeds less the fee; it appears as the taker's
OrderFilled ``fee`` and in a FeeCharged event to the fee receiver.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import httpx
import pytest
from polymarket import SecureClient
from web3 import Web3

from tests.sandbox.onchain import fees_charged, fills, outcome_balance, pusd, receipt
from tests.sandbox.test_sdk_trading import LEDGER, VERSIONS
from tests.sandbox_env import Market

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], SecureClient]
MakeMarket = Callable[..., Market]
Give = Callable[[Market, int, int], None]


def expected_fee(fills_: list[tuple[str, str]], rate: str, exponent: int, cash_micro: int) -> int:
    """Fee in micro-pUSD of (shares, price) fills: formula, floored to 5 dp, capped at 5 %."""
    exact = sum(
        Decimal(s) * Decimal(rate) * (Decimal(p) * (1 - Decimal(p))) ** exponent for s, p in fills_
    )
    floored = int(exact.quantize(Decimal("0.00001"), rounding=ROUND_FLOOR) * 1_000_000)
    return min(floored, cash_micro * 500 // 10_000)


@pytest.fixture(scope="module")
def receiver(sandbox: Any) -> str:
    address: str = sandbox.info["contracts"]["fee_receiver"]
    return address


@pytest.mark.parametrize("version", VERSIONS)
def test_taker_buy_pays_the_fee_on_top(
    version: str,
    sdk_for: Clients,
    make_market: MakeMarket,
    give_shares: Give,
    w3: Web3,
    demo: Any,
    receiver: str,
    sandbox: Any,
) -> None:
    m = make_market(version, fee_rate="0.07", fee_exponent=1)
    clob_market = httpx.get(f"{sandbox.info['clob_url']}/clob-markets/{m.condition_id}").json()
    assert clob_market["fd"] == {"r": 0.07, "e": 1, "to": True}
    a, b = demo[0]["address"], demo[1]["address"]
    give_shares(m, 0, 20)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.3", size="20", side="SELL")
    before = {who: pusd(w3, who) for who in (a, b, receiver)}
    resp = sdk_for(1).place_limit_order(asset_id=m.yes, price="0.3", size="13.5", side="BUY")
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    rec = receipt(w3, tx)
    fee = expected_fee([("13.5", "0.3")], "0.07", 1, 4_050_000)
    assert fee == 198_450  # 13.5 x 0.07 x 0.21 = 0.19845
    made, took = fills(rec)
    assert (made.fee, took.fee) == (0, fee)
    assert fees_charged(rec) == [(receiver, fee)]
    assert pusd(w3, b) == before[b] - 4_050_000 - fee
    assert pusd(w3, a) == before[a] + 4_050_000
    assert pusd(w3, receiver) == before[receiver] + fee
    assert outcome_balance(w3, b, m.yes, LEDGER[version]) == 13_500_000  # no shares deducted


@pytest.mark.parametrize("version", VERSIONS)
def test_taker_sell_pays_the_fee_from_its_proceeds(
    version: str,
    sdk_for: Clients,
    make_market: MakeMarket,
    give_shares: Give,
    w3: Web3,
    demo: Any,
    receiver: str,
) -> None:
    m = make_market(version, fee_rate="0.07", fee_exponent=1)
    a, b = demo[0]["address"], demo[1]["address"]
    give_shares(m, 1, 11)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.55", size="20", side="BUY")
    before = {who: pusd(w3, who) for who in (a, b, receiver)}
    resp = sdk_for(1).place_market_order(
        asset_id=m.yes, side="SELL", shares="11", min_price="0.55", order_type="FOK"
    )
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    rec = receipt(w3, tx)
    fee = expected_fee([("11", "0.55")], "0.07", 1, 6_050_000)
    assert fee == 190_570  # 11 x 0.07 x 0.2475 = 0.190575, floored to 5 decimals
    assert [f.fee for f in fills(rec)] == [0, fee]
    assert fees_charged(rec) == [(receiver, fee)]
    assert pusd(w3, b) == before[b] + 6_050_000 - fee
    assert pusd(w3, a) == before[a] - 6_050_000
    assert pusd(w3, receiver) == before[receiver] + fee


@pytest.mark.parametrize("version", VERSIONS)
def test_fee_is_capped_at_five_percent_of_the_cash_value(
    version: str,
    sdk_for: Clients,
    make_market: MakeMarket,
    give_shares: Give,
    w3: Web3,
    demo: Any,
) -> None:
    m = make_market(version, fee_rate="0.07", fee_exponent=1)
    give_shares(m, 0, 100)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.05", size="100", side="SELL")
    before = pusd(w3, demo[1]["address"])
    resp = sdk_for(1).place_limit_order(asset_id=m.yes, price="0.05", size="100", side="BUY")
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    # the formula gives 100 x 0.07 x 0.0475 = 0.3325, over 5 % of the $5 paid
    assert expected_fee([("100", "0.05")], "0.07", 1, 5_000_000) == 250_000
    assert fills(receipt(w3, tx))[-1].fee == 250_000
    assert pusd(w3, demo[1]["address"]) == before - 5_000_000 - 250_000


def test_exponent_two_across_price_levels_and_a_mint(
    sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market("v2", fee_rate="0.25", fee_exponent=2)
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.4", size="10", side="SELL")
    sdk_for(2).place_limit_order(asset_id=m.no, price="0.55", size="10", side="BUY")
    before = pusd(w3, demo[1]["address"])
    resp = sdk_for(1).place_limit_order(asset_id=m.yes, price="0.45", size="17", side="BUY")
    # 10 at 0.40 from the resting SELL, 7 at 1 - 0.55 = 0.45 minted against the NO buyer
    assert (resp.making_amount, resp.taking_amount) == (Decimal("7.15"), Decimal("17"))
    hashes = sdk_for(1).wait_for_order_fill_settlement(resp)
    same_token = expected_fee([("10", "0.4")], "0.25", 2, 4_000_000)
    minted = expected_fee([("7", "0.45")], "0.25", 2, 3_150_000)
    taker_fees = sorted(fills(receipt(w3, tx))[-1].fee for tx in hashes)
    assert taker_fees == sorted([same_token, minted]) == [107_190, 144_000]
    assert pusd(w3, demo[1]["address"]) == before - 7_150_000 - same_token - minted


@pytest.mark.parametrize("version", VERSIONS)
def test_no_fee_market_charges_nothing(
    version: str,
    sdk_for: Clients,
    make_market: MakeMarket,
    give_shares: Give,
    w3: Web3,
    demo: Any,
    sandbox: Any,
) -> None:
    m = make_market(version)
    clob_market = httpx.get(f"{sandbox.info['clob_url']}/clob-markets/{m.condition_id}").json()
    assert clob_market["fd"]["r"] == 0
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.5", size="10", side="SELL")
    before = pusd(w3, demo[1]["address"])
    resp = sdk_for(1).place_limit_order(asset_id=m.yes, price="0.5", size="10", side="BUY")
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    rec = receipt(w3, tx)
    assert [f.fee for f in fills(rec)] == [0, 0] and fees_charged(rec) == []
    assert pusd(w3, demo[1]["address"]) == before - 5_000_000
    trade = next(sdk_for(1).list_account_trades(id=resp.trade_ids[0]).iter_items())
    assert trade.fee_rate_bps == 0
