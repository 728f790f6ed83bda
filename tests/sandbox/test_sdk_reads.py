"""Polymarket's SDK reads the sandbox's Gamma and Data API, redeems a resolved v2 market through
the Router, and trades a neg-risk event on the NegRisk exchange."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from polymarket import SecureClient
from polymarket.models import RedeemActivity, TradeActivity
from web3 import Web3
from web3.exceptions import ContractLogicError

from tests.sandbox.onchain import POSITION_MANAGER, fills, outcome_balance, pusd, receipt
from tests.sandbox_env import Market

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], SecureClient]
MakeMarket = Callable[..., Market]
Give = Callable[[Market, int, int], None]
ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
PAYOUT_ABI = [
    {
        "name": "getPayout",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "p", "type": "uint256"}, {"name": "a", "type": "uint256"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]


def test_v2_market_resolves_and_the_router_redeems(
    sandbox: Any, sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market("v2")
    holder, c = demo[4]["address"], sdk_for(4)
    give_shares(m, 0, 20)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.3", size="20", side="SELL")
    c.wait_for_order_fill_settlement(
        c.place_limit_order(asset_id=m.yes, price="0.3", size="20", side="BUY")
    )
    payouts = w3.eth.contract(address=POSITION_MANAGER, abi=PAYOUT_ABI).functions
    with pytest.raises(ContractLogicError):
        payouts.getPayout(int(m.yes), 1).call()
    sandbox.resolve(m.condition_id, "Yes")
    assert payouts.getPayout(int(m.yes), 20_000_000).call() == 20_000_000
    assert payouts.getPayout(int(m.no), 20_000_000).call() == 0
    listed = c.list_markets(condition_ids=[m.condition_id], closed=True).first_page().items
    assert [(x.version, x.state.closed, x.resolution.resolution_status) for x in listed] == [
        ("v2", True, "resolved")
    ]

    before = pusd(w3, holder)
    outcome = c.redeem_positions(condition_id=m.condition_id).wait()
    sent = w3.eth.get_transaction(outcome.transaction_hash)
    selector = Web3.keccak(text="redeem(bytes31,uint256,uint256)")[:4]
    assert sent["to"] == ROUTER and bytes(sent["input"][:4]) == selector
    assert receipt(w3, outcome.transaction_hash)["status"] == 1
    assert pusd(w3, holder) == before + 20_000_000
    assert outcome_balance(w3, holder, m.yes, POSITION_MANAGER) == 0
    assert c.list_positions(user=holder, condition_id=m.condition_id).first_page().items == ()
    activity = c.list_activity(user=holder, condition_id=m.condition_id).first_page().items
    redeems = [a for a in activity if isinstance(a, RedeemActivity)]
    assert [(r.amount, r.transaction_hash) for r in redeems] == [
        (Decimal(20), outcome.transaction_hash)
    ]


def test_gamma_knows_both_versions_fees_and_the_neg_risk_event(
    sandbox: Any, sdk_for: Clients
) -> None:
    c = sdk_for(0)
    v2 = list(c.list_markets(version="v2", page_size=2).iter_items())
    assert v2 and all(x.version == "v2" for x in v2)
    for x in v2:
        yes, no = x.outcomes.yes, x.outcomes.no
        assert yes.token_id is None and yes.position_id is not None and no.position_id is not None
        assert x.condition_id is not None
        assert (
            int(yes.position_id) == int(x.condition_id, 16)
            and int(no.position_id) == int(yes.position_id) + 1
        )
    v1 = c.get_market(slug="projectk-demo-yes")
    assert v1.version == "v1" and v1.outcomes.yes.token_id and v1.outcomes.yes.position_id is None
    rain = c.get_market(slug="sandbox-rain")
    assert rain.trading.fees_enabled and rain.trading.fee_schedule is not None
    assert (rain.trading.fee_schedule.rate, rain.trading.fee_schedule.exponent) == (
        Decimal("0.05"),
        1,
    )
    assert not v1.trading.fees_enabled
    election = c.get_event(slug="sandbox-election")
    assert election.trading.neg_risk and len(election.markets) >= 3
    assert all(x.state.neg_risk for x in election.markets)
    assert {x.group_item_title for x in election.markets} >= {"Alice", "Bob", "Carol"}
    everything = list(c.list_markets(page_size=2).iter_items())
    assert len(everything) == len({x.id for x in everything}) >= len(sandbox.info["markets"])


def test_data_api_v2_trades_activity_and_positions(
    sdk_for: Clients, make_market: MakeMarket, give_shares: Give, w3: Web3, demo: Any
) -> None:
    m = make_market("v2", fee_rate="0.07", fee_exponent=1)
    seller, buyer = demo[0]["address"], demo[5]["address"]
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.5", size="10", side="SELL")
    resp = sdk_for(5).place_limit_order(asset_id=m.yes, price="0.5", size="10", side="BUY")
    (tx,) = sdk_for(5).wait_for_order_fill_settlement(resp)
    c = sdk_for(5)
    trades = c.list_trades(user=buyer, condition_id=m.condition_id).first_page().items
    assert [(t.side, t.size, t.price, t.asset_id, t.transaction_hash) for t in trades] == [
        ("BUY", Decimal(10), Decimal("0.5"), m.yes, tx)
    ]
    maker_side = c.list_trades(user=seller, condition_id=m.condition_id, taker_only=False)
    assert [(t.side, t.wallet) for t in maker_side.first_page().items] == [("SELL", seller)]
    activity = c.list_activity(user=buyer, condition_id=m.condition_id).first_page().items
    assert [(a.shares, a.amount) for a in activity if isinstance(a, TradeActivity)] == [
        (Decimal(10), Decimal(5))
    ]
    (position,) = c.list_positions(user=buyer, condition_id=m.condition_id).first_page().items
    assert (position.current_size, position.avg_price, position.status) == (
        Decimal(10),
        Decimal("0.5"),
        "OPEN",
    )
    # 10 x 0.07 x 0.25 = 0.175 paid on top of the $5 entry cost
    assert (position.entry_cost_usdc, position.entry_fees_usdc) == (Decimal(5), Decimal("0.175"))
    assert position.asset_id == m.yes and position.opposite_asset_id == m.no


def test_neg_risk_event_outcome_trades_on_the_neg_risk_exchange(
    sandbox: Any, sdk_for: Clients, give_shares: Give, w3: Web3
) -> None:
    event = f"sdk-event-{uuid.uuid4().hex[:8]}"
    outcomes = []
    for name in ("Ann", "Ben", "Cid"):
        raw = sandbox.create_market(
            f"Will {name} win {event}?",
            f"{event}-{name.lower()}",
            quote=False,
            event_slug=event,
            event_title=f"Who wins {event}?",
            group_item_title=name,
        )
        outcomes.append(
            Market(raw["condition_id"], raw["tokens"][0]["token_id"], raw["tokens"][1]["token_id"])
        )
    listed = sdk_for(0).get_event(slug=event)
    assert listed.trading.neg_risk and [x.group_item_title for x in listed.markets] == [
        "Ann",
        "Ben",
        "Cid",
    ]
    m = outcomes[1]
    give_shares(m, 0, 10)
    sdk_for(0).place_limit_order(asset_id=m.yes, price="0.2", size="10", side="SELL")
    resp = sdk_for(1).place_limit_order(asset_id=m.yes, price="0.2", size="10", side="BUY")
    (tx,) = sdk_for(1).wait_for_order_fill_settlement(resp)
    assert {f.exchange for f in fills(receipt(w3, tx))} == {NEG_RISK_EXCHANGE_V2}
