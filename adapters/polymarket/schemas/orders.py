"""Order answers of the CLOB: POST /order, error bodies, GET /data/order and cancels, and what
they say in the kernel's terms.

Docs: https://docs.polymarket.com/api-reference/trade/post-a-new-order,
https://docs.polymarket.com/api-reference/trade/get-single-order-by-id,
https://docs.polymarket.com/trading/orders/cancel, https://docs.polymarket.com/resources/error-codes

Invariants:
- An order status becomes a `VenueOrderState` through one table per route; a status with no
  entry (UNKNOWN) becomes None, and the caller reads the order again instead of guessing.
- A matched taker BUY reports pUSD as makingAmount and shares as takingAmount; a SELL the
  reverse. Amounts become micro-units exactly (see `common`).
- A lookup answer without an order id (null, {}) means the CLOB does not know the order.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from adapters.polymarket.schemas.common import (
    DecimalText,
    Text,
    TextMap,
    Texts,
    Wire,
    parse,
    to_micro,
    to_price,
)
from adapters.polymarket.schemas.enums import OrderStatus
from projectk.messages import PostOrderResult, SignedOrder, VenueOrderState
from projectk.models import Side

# What an accepted POST answer says about the order: it rests (or waits for matching), or it is
# done matching; `follow` reads the order for its final state either way.
_POSTED = {
    OrderStatus.LIVE: VenueOrderState.LIVE,
    OrderStatus.DELAYED: VenueOrderState.LIVE,
    OrderStatus.MATCHED: VenueOrderState.MATCHED,
    OrderStatus.UNMATCHED: VenueOrderState.MATCHED,
}

# What a lookup says: only LIVE and DELAYED can still change; every other known status is final.
_LOOKED_UP = {
    OrderStatus.LIVE: VenueOrderState.LIVE,
    OrderStatus.DELAYED: VenueOrderState.LIVE,
    OrderStatus.MATCHED: VenueOrderState.MATCHED,
    OrderStatus.UNMATCHED: VenueOrderState.CANCELED,
    OrderStatus.CANCELED: VenueOrderState.CANCELED,
    OrderStatus.CANCELED_MARKET_RESOLVED: VenueOrderState.CANCELED,
    OrderStatus.INVALID: VenueOrderState.CANCELED,
}


class ErrorBody(Wire):
    """The body of a refused request: `{"error": text}` (some routes say `errorMsg`)."""

    error: Text = ""  # the CLOB's reason, e.g. "not enough balance / allowance"
    error_msg: Text = Field(default="", alias="errorMsg")  # the same, on order routes


def error_text(body: object) -> str:
    """Return the human text of an error body (a JSON object, or already text)."""
    if isinstance(body, dict):
        parsed = ErrorBody.model_validate(body)
        return parsed.error or parsed.error_msg or str(body)
    return str(body or "")


class PostOrderAnswer(Wire):
    """The 200 answer to POST /order."""

    success: bool = False  # true: the CLOB holds the order (live, delayed or matched)
    order_id: Text = Field(default="", alias="orderID")  # the order's EIP-712 hash
    status: OrderStatus = OrderStatus.UNKNOWN  # live, delayed, matched or unmatched
    status_text: Text = Field(default="", validation_alias="status")  # the status as sent
    making_amount: DecimalText = Field(default="", alias="makingAmount")  # given in a match
    taking_amount: DecimalText = Field(default="", alias="takingAmount")  # received in it
    trade_ids: Texts = Field(default_factory=list, alias="tradeIDs")  # trades of the match
    tx_hashes: Texts = Field(default_factory=list, alias="transactionsHashes")  # their settlements
    error_msg: Text = Field(default="", alias="errorMsg")  # why not ("" when accepted)
    error: Text = ""  # the same text, when the body is an error body

    @property
    def message(self) -> str:
        """Return the answer's error text, if any."""
        return self.error_msg or self.error

    @property
    def state(self) -> VenueOrderState | None:
        """Return what an acceptance says of the order, or None when its status is unknown."""
        return _POSTED.get(self.status)

    def accepted(self, order: SignedOrder) -> PostOrderResult | None:
        """Return the result of this accepted order, or None if its status says nothing known."""
        state = self.state
        if state is None:
            return None
        making, taking = to_micro(self.making_amount), to_micro(self.taking_amount)
        shares, notional = (taking, making) if order.side is Side.BUY else (making, taking)
        return PostOrderResult(
            order_id=self.order_id or order.order_id,
            state=state,
            trade_ids=list(self.trade_ids),
            tx_hashes=list(self.tx_hashes),
            filled_shares_micro=shares,
            notional_micro=notional,
        )


class OpenOrder(Wire):
    """An order as GET /data/order (and GET /data/orders) report it."""

    id: Text = ""  # the order's EIP-712 hash; empty: the CLOB does not know it
    status: OrderStatus = OrderStatus.UNKNOWN  # see `OrderStatus`
    status_text: Text = Field(default="", validation_alias="status")  # the status as sent
    owner: Text = ""  # the API key that placed it
    maker_address: Text = ""  # the funder
    market: Text = ""  # the market's condition id
    asset_id: Text = ""  # the outcome token id
    side: Text = ""  # BUY or SELL
    original_size: DecimalText = ""  # shares at placement
    size_matched: DecimalText = ""  # shares matched so far (kept after a cancel)
    price: DecimalText = ""  # limit price
    outcome: Text = ""  # the outcome's name ("Yes", "No")
    expiration: Text = ""  # unix seconds; "0" for none
    order_type: Text = ""  # GTC, GTD, FOK or FAK
    created_at: Text = ""  # unix seconds
    associate_trades: Texts = Field(default_factory=list)  # ids of the trades that filled it

    @property
    def state(self) -> VenueOrderState | None:
        """Return the order's state, or None when its status is unknown (read it again)."""
        return _LOOKED_UP.get(self.status)

    @property
    def original_shares_micro(self) -> int:
        """Return the shares the order was placed for."""
        return to_micro(self.original_size)

    @property
    def matched_shares_micro(self) -> int:
        """Return the shares matched so far."""
        return to_micro(self.size_matched)

    @property
    def limit_price(self) -> Decimal:
        """Return the limit price."""
        return to_price(self.price)


def read_order(body: object) -> OpenOrder | None:
    """Parse GET /data/order; None when the CLOB does not know the order."""
    if not body:
        return None
    order = parse(OpenOrder, body, "GET /data/order")
    return order if order.id else None


class CancelAnswer(Wire):
    """The answer to DELETE /order, /orders, /cancel-all and /cancel-market-orders."""

    canceled: Texts = Field(default_factory=list)  # hashes of the orders it cancelled
    not_canceled: TextMap = Field(default_factory=dict)  # hash -> why it was not cancelled


def read_cancel(body: object) -> CancelAnswer:
    """Parse the answer to a cancel (an empty answer cancelled nothing)."""
    return parse(CancelAnswer, body, "DELETE /cancel…") if body else CancelAnswer()
