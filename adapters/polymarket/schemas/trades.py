"""Trade rows of the CLOB (GET /data/trades) with their maker orders, and the part of a trade that
filled one of our orders, as an `OrderTrade`.

Docs: https://docs.polymarket.com/api-reference/trade/get-trades,
https://docs.polymarket.com/developers/CLOB/trades/trades

Invariants:
- One row is one match: one taker order against one or more maker orders. Our order is the taker
  (its shares are what its makers matched) or one or more of the makers.
- The taker's notional is what its makers were paid at their own prices; a maker on the taker's
  own side was a complement (mint/merge) match and trades at 1 - its price.
- The fee is the row's rate applied to the notional, floored; amounts are exact micro-units.
- A trade whose settlement FAILED does not count as filled; the rest do (see `TradeStatus`).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Annotated

from pydantic import Field

from adapters.polymarket.schemas.common import (
    EMPTY_IF_NULL,
    MICRO_QUANTUM,
    DecimalText,
    Text,
    Wire,
    WireSide,
    parse_items,
    to_micro,
    to_price,
    unix_time,
)
from adapters.polymarket.schemas.enums import TradeStatus
from projectk.messages import OrderTrade


class MakerOrder(Wire):
    """One maker order of a trade, as the trade row lists it."""

    order_id: Text = ""  # the maker order's hash
    owner: Text = ""  # the API key that placed it
    maker_address: Text = ""  # its funder
    matched_amount: DecimalText = ""  # its shares matched in this trade
    price: DecimalText = ""  # its limit price, in its own outcome
    fee_rate_bps: DecimalText = ""  # its fee rate (makers pay none today)
    asset_id: Text = ""  # its token: the other outcome in a complement match
    outcome: Text = ""  # its outcome's name
    side: WireSide | None = None  # its side; the taker's own side means a complement match

    @property
    def shares_micro(self) -> int:
        """Return the shares this maker order matched."""
        return to_micro(self.matched_amount)

    def paid_micro(self, complement: bool) -> int:
        """Return the pUSD value of its match, at its price (or 1 - it for a complement)."""
        price = to_price(self.price)
        return int(Decimal(self.shares_micro) * (1 - price if complement else price))


class ClobTrade(Wire):
    """One row of GET /data/trades."""

    id: str  # the trade id
    taker_order_id: Text = ""  # the hash of the order that took liquidity
    market: Text = ""  # the market's condition id
    asset_id: Text = ""  # the taker's token
    side: WireSide | None = None  # the taker's side
    size: DecimalText = ""  # shares the taker matched
    fee_rate_bps: DecimalText = ""  # the taker's fee rate, in basis points
    price: DecimalText = ""  # the taker's price
    status: TradeStatus = TradeStatus.UNKNOWN  # how far its settlement has come
    status_text: Text = Field(default="", validation_alias="status")  # the status as sent
    match_time: Text = ""  # unix seconds
    last_update: Text = ""  # unix seconds of the last status change
    outcome: Text = ""  # the taker's outcome name
    bucket_index: int = 0  # which settlement batch of the match this row is
    owner: Text = ""  # the taker's API key
    maker_address: Text = ""  # the taker's funder
    transaction_hash: Text = ""  # the settlement transaction ("" until sent)
    trader_side: Text = ""  # TAKER or MAKER: where the reading account stood
    maker_orders: Annotated[list[MakerOrder], EMPTY_IF_NULL] = Field(default_factory=list)

    @property
    def status_name(self) -> str:
        """Return the status as the kernel records it (the text as sent when unknown)."""
        known = self.status is not TradeStatus.UNKNOWN
        return self.status.value if known else self.status_text.strip().upper()

    def fill_of(self, order_id: str) -> OrderTrade | None:
        """Return the part of this trade that filled `order_id`, or None if none did."""
        if self.taker_order_id == order_id:
            shares, notional = self._taker_amounts()
        else:
            mine = [m for m in self.maker_orders if m.order_id == order_id]
            shares = sum(m.shares_micro for m in mine)
            notional = sum(m.paid_micro(complement=False) for m in mine)
        if shares <= 0:
            return None
        return OrderTrade(
            trade_id=self.id,
            shares_micro=shares,
            price=(Decimal(notional) / Decimal(shares)).quantize(MICRO_QUANTUM),
            notional_micro=notional,
            fee_micro=self._fee(notional),
            tx_hash=self.transaction_hash or None,
            status=self.status_name,
            matched_at=unix_time(self.match_time),
        )

    def _taker_amounts(self) -> tuple[int, int]:
        if not self.maker_orders:
            shares = to_micro(self.size)
            return shares, int(Decimal(shares) * to_price(self.price))
        shares = sum(m.shares_micro for m in self.maker_orders)
        notional = sum(
            m.paid_micro(complement=self.side is not None and m.side is self.side)
            for m in self.maker_orders
        )
        return shares, notional

    def _fee(self, notional: int) -> int:
        bps = to_price(self.fee_rate_bps)
        return int((Decimal(notional) * bps / 10_000).to_integral_value(ROUND_FLOOR))


def read_trades(body: object) -> list[ClobTrade]:
    """Parse the rows of GET /data/trades (the client joins the pages into one list)."""
    return parse_items(ClobTrade, body, "GET /data/trades")


def is_settled(trade: OrderTrade) -> bool:
    """Tell whether a trade's settlement has an outcome (mined, confirmed or failed)."""
    return TradeStatus(trade.status).settled


def split_counted(trades: list[OrderTrade]) -> tuple[list[OrderTrade], list[OrderTrade]]:
    """Split trades into those that count as filled and those whose settlement failed."""
    counted = [t for t in trades if TradeStatus(t.status).counts]
    return counted, [t for t in trades if not TradeStatus(t.status).counts]
