"""The order book of one token (GET /book), as a `Quote`.

Docs: https://docs.polymarket.com/api-reference/market-data/get-order-book,
https://docs.polymarket.com/trading/orderbook

Invariants:
- A quote lists the best level first on each side, whatever order the CLOB sent (it sends bids
  ascending and asks descending, best last); empty levels are dropped.
- Without a tick size or minimum size in the answer, the CLOB's usual ones apply (0.01, 5).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from adapters.polymarket.schemas.common import (
    EMPTY_IF_NULL,
    DecimalText,
    Text,
    Wire,
    parse,
    to_micro,
    to_price,
)
from projectk.messages import BookLevel, Quote

DEFAULT_TICK = "0.01"
DEFAULT_MIN_SIZE = "5"


class PriceLevel(Wire):
    """One price level: the shares resting at a price."""

    price: DecimalText  # the level's price
    size: DecimalText = ""  # shares resting there

    def level(self) -> BookLevel:
        """Return the level in kernel units."""
        return BookLevel(price=to_price(self.price), size_micro=to_micro(self.size))


class OrderBook(Wire):
    """The answer to GET /book?token_id=…"""

    market: Text = ""  # the condition id of the token's market
    asset_id: Text = ""  # the token id
    timestamp: Text = ""  # when the book was read, unix milliseconds
    hash: Text = ""  # SHA-1 of the summary, which the client checks
    bids: Annotated[list[PriceLevel], EMPTY_IF_NULL] = Field(default_factory=list)  # buyers
    asks: Annotated[list[PriceLevel], EMPTY_IF_NULL] = Field(default_factory=list)  # sellers
    min_order_size: DecimalText = ""  # the least shares a resting order may have
    tick_size: DecimalText = ""  # the price increment
    neg_risk: bool = False  # a neg-risk market: orders are signed for the NegRisk exchange
    last_trade_price: DecimalText = ""  # price of the last trade

    def quote(self, token_id: str) -> Quote:
        """Return the book as a Quote (best level first on each side)."""
        bids = [lv for lv in (b.level() for b in self.bids) if lv.size_micro > 0]
        asks = [lv for lv in (a.level() for a in self.asks) if lv.size_micro > 0]
        return Quote(
            token_id=token_id,
            bids=sorted(bids, key=lambda lv: lv.price, reverse=True),
            asks=sorted(asks, key=lambda lv: lv.price),
            tick_size=to_price(self.tick_size, DEFAULT_TICK).normalize(),
            min_order_size_micro=to_micro(self.min_order_size or DEFAULT_MIN_SIZE),
            neg_risk=self.neg_risk,
        )


def read_book(body: object) -> OrderBook:
    """Parse GET /book."""
    return parse(OrderBook, body, "GET /book")
