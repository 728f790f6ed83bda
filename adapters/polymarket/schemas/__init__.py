"""Typed wire schemas of the Polymarket CLOB and Data API, and their conversion to kernel types.

One module per family of answers, each naming the docs page it follows: `orders` (POST /order,
error bodies, GET /data/order, cancels), `trades` (GET /data/trades), `books` (GET /book),
`markets` (GET /markets/{condition_id}, GET /markets-by-token/{token_id}), `data_api` (the Data
API's GET /trades), `enums` (order and trade states) and `common` (the base they share).

Invariants:
- Every answer is parsed once, here, into a frozen model, and turned into kernel types by that
  model; nothing outside this adapter reads a wire dict.
- Amounts stay decimal text on the models and become integer micro-units (floored beyond 6
  decimals) or `Decimal` prices only on conversion; never float.
- A state this code does not know parses as `UNKNOWN`, never as a known state.
- A body that does not fit raises `WireError`, a `ValueError` naming the route.
"""

from adapters.polymarket.schemas.books import OrderBook, PriceLevel, read_book
from adapters.polymarket.schemas.common import WireError, to_micro, to_price
from adapters.polymarket.schemas.data_api import DataApiTrade, read_data_api_trades
from adapters.polymarket.schemas.enums import OrderStatus, TradeStatus
from adapters.polymarket.schemas.markets import (
    ClobMarket,
    MarketOfToken,
    MarketToken,
    read_market,
    read_market_of_token,
)
from adapters.polymarket.schemas.orders import (
    CancelAnswer,
    ErrorBody,
    OpenOrder,
    PostOrderAnswer,
    error_text,
    read_cancel,
    read_order,
)
from adapters.polymarket.schemas.trades import (
    ClobTrade,
    MakerOrder,
    is_settled,
    read_trades,
    split_counted,
)

__all__ = [
    "CancelAnswer",
    "ClobMarket",
    "ClobTrade",
    "DataApiTrade",
    "ErrorBody",
    "MakerOrder",
    "MarketOfToken",
    "MarketToken",
    "OpenOrder",
    "OrderBook",
    "OrderStatus",
    "PostOrderAnswer",
    "PriceLevel",
    "TradeStatus",
    "WireError",
    "error_text",
    "is_settled",
    "read_book",
    "read_cancel",
    "read_data_api_trades",
    "read_market",
    "read_market_of_token",
    "read_order",
    "read_trades",
    "split_counted",
    "to_micro",
    "to_price",
]
