"""ClobVenue against the sandbox through the unmodified py-clob-client-v2: sign, post, follow."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from temporalio.exceptions import ApplicationError

from adapters.polymarket.venue import ClobVenue
from projectk.messages import (
    FollowOrderInput,
    PostOrderInput,
    QuoteInput,
    SignedOrder,
    SignOrderInput,
    VenueOrderState,
    Wallet,
)
from projectk.models import MICRO, OrderIntent, OrderType, Side
from sandbox.runtime import Sandbox
from tests.venue_sandbox import Market

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], ClobClient]
Give = Callable[[Market, int, int], None]
Wallets = Callable[[int], Wallet]


def intent(m: Market, side: Side, shares: int, price: str, order_type: OrderType) -> OrderIntent:
    limit = Decimal(price)
    return OrderIntent(
        pair_id="p",
        decision_id=f"order-{m.yes[-6:]}",
        token_id=m.yes,
        side=side,
        shares_micro=shares * MICRO,
        limit_price=limit,
        notional_micro=int(shares * MICRO * limit),
        order_type=order_type,
    )


async def sign(venue: ClobVenue, wallet: Wallet, it: OrderIntent) -> SignedOrder:
    return await venue.sign(SignOrderInput(intent=it, wallet=wallet, order_type=it.order_type))


def follow_input(
    order: SignedOrder, wallet: Wallet, posted: Any, in_s: float = 5
) -> FollowOrderInput:
    deadline = datetime.now(UTC) + timedelta(seconds=in_s)
    return FollowOrderInput(
        order=order, wallet=wallet, posted=posted, deadline=deadline, poll_interval_s=0.1
    )


async def test_quote_reads_book_rules_and_state(
    venue: ClobVenue, client_for: Clients, market: Market, give_shares: Give
) -> None:
    give_shares(market, 0, 20)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.55, size=10, side="SELL")
    )
    quote = await venue.quote(QuoteInput(token_id=market.yes, reference_price=Decimal("0.5")))
    assert quote.asks[0].price == Decimal("0.55") and quote.asks[0].size_micro == 10 * MICRO
    assert quote.tick_size == Decimal("0.01") and quote.min_order_size_micro == 5 * MICRO
    assert quote.accepting_orders and not quote.neg_risk


async def test_a_known_tokens_quote_still_reads_the_market_state_each_time(
    venue: ClobVenue, sandbox: Sandbox, client_for: Clients, market: Market, give_shares: Give
) -> None:
    # After the first quote the token's market is known and book and state are read together;
    # the state itself is never remembered, so a market that closes is seen at once.
    give_shares(market, 0, 20)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.55, size=10, side="SELL")
    )
    ask = QuoteInput(token_id=market.yes, reference_price=Decimal("0.5"))
    first, second = await venue.quote(ask), await venue.quote(ask)
    assert first == second and second.accepting_orders
    sandbox.resolve(market.condition_id, "Yes")
    assert not (await venue.quote(ask)).accepting_orders


async def test_fak_buy_fills_within_limit_and_records_trades(
    venue: ClobVenue, wallet_of: Wallets, client_for: Clients, market: Market, give_shares: Give
) -> None:
    give_shares(market, 0, 20)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.50, size=6, side="SELL")
    )
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.60, size=10, side="SELL")
    )
    wallet = wallet_of(1)
    order = await sign(venue, wallet, intent(market, Side.BUY, 10, "0.52", OrderType.FAK))
    assert (order.maker_amount_micro, order.taker_amount_micro) == (5_200_000, 10_000_000)
    posted = await venue.post(PostOrderInput(order=order, wallet=wallet))
    assert posted.order_id == order.order_id  # our hash is the CLOB's order id
    assert posted.state is VenueOrderState.MATCHED
    followed = await venue.follow(follow_input(order, wallet, posted))
    # $5.20 buys the 6 shares at 0.50 ($3.00); the 0.60 level is beyond the limit: killed
    assert followed.filled_shares_micro == 6 * MICRO
    assert followed.notional_micro == 3 * MICRO
    assert [t.status for t in followed.trades] in (["MINED"], ["CONFIRMED"])
    assert followed.trades[0].tx_hash and followed.trades[0].tx_hash.startswith("0x")


async def test_gtc_partial_fill_is_cancelled_at_the_deadline(
    venue: ClobVenue, wallet_of: Wallets, client_for: Clients, market: Market, give_shares: Give
) -> None:
    give_shares(market, 2, 20)
    wallet = wallet_of(1)
    order = await sign(venue, wallet, intent(market, Side.BUY, 10, "0.40", OrderType.GTC))
    posted = await venue.post(PostOrderInput(order=order, wallet=wallet))
    assert posted.state is VenueOrderState.LIVE
    seller = client_for(2)
    seller.post_order(
        seller.create_order(OrderArgsV2(token_id=market.yes, price=0.40, size=4, side="SELL")),
        "FAK",
    )
    followed = await venue.follow(follow_input(order, wallet, posted, in_s=1.0))
    assert followed.cancelled_rest and followed.state is VenueOrderState.CANCELED
    assert followed.filled_shares_micro == 4 * MICRO
    assert followed.notional_micro == 1_600_000
    assert client_for(1).get_order(order.order_id)["status"] == "CANCELED"


async def test_fok_kill_is_an_unfilled_result_not_an_error(
    venue: ClobVenue, wallet_of: Wallets, market: Market
) -> None:
    wallet = wallet_of(1)
    order = await sign(venue, wallet, intent(market, Side.BUY, 10, "0.50", OrderType.FOK))
    posted = await venue.post(PostOrderInput(order=order, wallet=wallet))
    assert posted.state is VenueOrderState.KILLED
    assert "FOK" in posted.reason


async def test_balance_rejection_is_non_retryable(
    venue: ClobVenue, wallet_of: Wallets, market: Market
) -> None:
    wallet = wallet_of(3)
    order = await sign(venue, wallet, intent(market, Side.SELL, 10, "0.50", OrderType.GTC))
    with pytest.raises(ApplicationError) as err:
        await venue.post(PostOrderInput(order=order, wallet=wallet))
    assert err.value.type == "OrderRejected" and err.value.non_retryable
    assert "not enough balance / allowance" in err.value.message


async def test_retry_finds_the_posted_order_by_hash_and_never_posts_another(
    venue: ClobVenue, wallet_of: Wallets, client_for: Clients, market: Market
) -> None:
    wallet = wallet_of(1)
    order = await sign(venue, wallet, intent(market, Side.BUY, 10, "0.30", OrderType.GTC))
    first = await venue.post(PostOrderInput(order=order, wallet=wallet))
    again = await venue.post(PostOrderInput(order=order, wallet=wallet), attempt=2)
    dup = await venue.post(PostOrderInput(order=order, wallet=wallet))  # "Duplicated."
    assert first.order_id == again.order_id == dup.order_id == order.order_id
    assert again.reason == "found by hash" and dup.state is VenueOrderState.LIVE
    live = [o["id"] for o in client_for(1).get_open_orders() if o["asset_id"] == market.yes]
    assert live == [order.order_id]


@pytest.mark.slow
async def test_accepted_then_response_lost_is_found_by_hash(
    venue: ClobVenue, wallet_of: Wallets, client_for: Clients, market: Market, faults: Any
) -> None:
    wallet = wallet_of(1)
    order = await sign(venue, wallet, intent(market, Side.BUY, 10, "0.20", OrderType.GTC))
    faults.set_faults(lost_rate=1.0, lost_delay_s=6.0, paths=["/order"])
    posted = await venue.post(PostOrderInput(order=order, wallet=wallet))
    faults.set_faults(reset=True)
    assert posted.order_id == order.order_id and posted.state is VenueOrderState.LIVE
    live = [o["id"] for o in client_for(1).get_open_orders() if o["asset_id"] == market.yes]
    assert live == [order.order_id]


@pytest.mark.parametrize(("setting", "kind"), [("error_rate", "unknown"), ("rate_429", "429")])
async def test_faults_on_post_are_retryable_typed_errors(
    venue: ClobVenue, wallet_of: Wallets, market: Market, faults: Any, setting: str, kind: str
) -> None:
    wallet = wallet_of(1)
    order = await sign(venue, wallet, intent(market, Side.BUY, 10, "0.20", OrderType.GTC))
    faults.set_faults(**{setting: 1.0, "retry_after_s": 3, "paths": ["/order"]})
    with pytest.raises(ApplicationError) as err:
        await venue.post(PostOrderInput(order=order, wallet=wallet))
    assert not err.value.non_retryable
    if kind == "429":
        assert err.value.type == "VenueThrottled"
        assert err.value.next_retry_delay == timedelta(seconds=3)
    else:
        assert err.value.type == "OrderOutcomeUnknown"
    faults.set_faults(reset=True)
    posted = await venue.post(PostOrderInput(order=order, wallet=wallet), attempt=2)
    assert posted.order_id == order.order_id  # the same signed order, re-posted


async def test_signed_order_holds_no_secret(
    venue: ClobVenue, wallet_of: Wallets, demo: list[dict[str, Any]], market: Market
) -> None:
    order = await sign(venue, wallet_of(1), intent(market, Side.BUY, 10, "0.20", OrderType.FAK))
    dumped = json.dumps(order.model_dump(mode="json")).lower()
    key = demo[1]["private_key"].lower().removeprefix("0x")
    assert key not in dumped
    assert key not in repr(venue).lower()
    assert order.wire["signature"].startswith("0x")
