"""Paper mode: no key and no order; fills are simulated against the CLOB's current public book."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2

from adapters.polymarket.book import ClobBooks
from adapters.polymarket.paper import PaperVenue
from adapters.polymarket.session import ClobEndpoint, ClobSessions
from projectk.messages import (
    FollowOrderInput,
    PostOrderInput,
    SignOrderInput,
    VenueOrderState,
    Wallet,
)
from projectk.models import MICRO, OrderIntent, OrderType, Side
from sandbox.runtime import Sandbox
from tests.venue_sandbox import Market

WALLET = Wallet(key_ref="vault://nobody", funder="0x2222222222222222222222222222222222222222")


def paper_on(sandbox: Sandbox) -> PaperVenue:
    endpoint = ClobEndpoint(host=sandbox.info["clob_url"])
    return PaperVenue(ClobBooks(ClobSessions(endpoint, vault=None, passphrase=None)))


def buy(token: str, shares: int, order_type: OrderType = OrderType.FAK) -> OrderIntent:
    return OrderIntent(
        pair_id="paper",
        decision_id="order-1",
        token_id=token,
        side=Side.BUY,
        shares_micro=shares * MICRO,
        limit_price=Decimal("0.55"),
        notional_micro=int(shares * MICRO * Decimal("0.55")),
        order_type=order_type,
    )


async def run(venue: PaperVenue, intent: OrderIntent) -> tuple[VenueOrderState, int, int]:
    signed = await venue.sign(
        SignOrderInput(intent=intent, wallet=WALLET, order_type=intent.order_type)
    )
    assert signed.wire == {}  # nothing signed: paper mode has no key
    posted = await venue.post(PostOrderInput(order=signed, wallet=WALLET))
    followed = await venue.follow(
        FollowOrderInput(order=signed, wallet=WALLET, posted=posted, deadline=datetime.now(UTC))
    )
    return followed.state, followed.filled_shares_micro, followed.notional_micro


@pytest.mark.sandbox
async def test_paper_fills_against_the_current_book_and_sends_nothing(
    sandbox: Sandbox,
    client_for: Callable[[int], ClobClient],
    market: Market,
    give_shares: Callable[[Market, int, int], None],
) -> None:
    venue = paper_on(sandbox)
    assert (await run(venue, buy(market.yes, 10)))[0] is VenueOrderState.KILLED  # empty book
    give_shares(market, 2, 20)
    client_for(2).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.50, size=6, side="SELL")
    )
    client_for(2).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.60, size=10, side="SELL")
    )
    state, shares, notional = await run(venue, buy(market.yes, 10))
    assert state is VenueOrderState.MATCHED
    assert (shares, notional) == (6 * MICRO, 3 * MICRO)  # only the 0.50 level is within 0.55
    fok = await run(venue, buy(market.yes, 10, OrderType.FOK))
    assert fok[0] is VenueOrderState.KILLED  # FOK: all or nothing
    book = client_for(2).get_order_book(market.yes)
    assert [a["size"] for a in book["asks"]] == ["10", "6"]  # the book is untouched
