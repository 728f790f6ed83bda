"""A `ClobVenue` over recorded CLOB answers, and orders to give it, for the venue's tests that
need no sandbox."""

from __future__ import annotations

from decimal import Decimal

from adapters.polymarket.venue import TRADE_SETTLE_WAIT_S, ClobVenue
from projectk.messages import SignedOrder, Wallet
from projectk.models import MICRO, OrderType, Side
from tests.fakes import RecordedClob, RecordedSessions
from tests.recorded import ORDERS, Sample, body

WALLET = Wallet(key_ref="vault://nobody", funder="0x2222222222222222222222222222222222222222")
WIRE = {
    "salt": "1",
    "maker": WALLET.funder,
    "signer": WALLET.funder,
    "tokenId": "1",
    "makerAmount": "4800000",
    "takerAmount": "8000000",
    "side": "0",
    "signatureType": "0",
    "timestamp": "0",
    "metadata": "0x" + "00" * 32,
    "builder": "0x" + "00" * 32,
    "expiration": "0",
    "signature": "0x00",
}


def signed(order_id: str, side: Side = Side.BUY) -> SignedOrder:
    """Return an order for 8 shares at 0.6 with this id (signed in name only)."""
    return SignedOrder(
        order_id=order_id,
        order_type=OrderType.GTC,
        token_id="1",
        side=side,
        limit_price=Decimal("0.6"),
        maker_amount_micro=4_800_000,
        taker_amount_micro=8 * MICRO,
        wire=WIRE,
    )


def venue_over(
    trade_wait_s: float = TRADE_SETTLE_WAIT_S, **routes: Sample | list[Sample]
) -> tuple[ClobVenue, RecordedClob]:
    """Return a ClobVenue whose CLOB answers each route with these samples (and that waits
    `trade_wait_s` for an order's trades to show)."""
    clob = RecordedClob(**routes)
    return ClobVenue(RecordedSessions(clob), trade_wait_s=trade_wait_s), clob


def order_of(case: str) -> SignedOrder:
    """Return an order with the id of a recorded GET /data/order answer."""
    return signed(body(ORDERS, case)["id"])
