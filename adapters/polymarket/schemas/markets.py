"""The CLOB's market routes: GET /markets/{condition_id} and GET /markets-by-token/{token_id}, and
what they say as a `MarketInfo` and as "takes orders".

Docs: https://docs.polymarket.com/developers/CLOB/markets/get-market; the by-token route is the
one py-clob-client-v2 resolves a token's condition with (`/markets-by-token/`).

Invariants:
- A market takes orders unless it says it is closed or not accepting orders; when it does not
  say, the CLOB decides (it refuses orders on closed markets).
- Token ids come in the market's outcome order, (Yes, No) for a binary market.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from adapters.polymarket.schemas.common import (
    EMPTY_IF_NULL,
    DecimalText,
    Text,
    Wire,
    parse,
)
from projectk.messages import MarketInfo


def _no_date(value: object) -> object:
    return None if value in ("", None) else value


class MarketToken(Wire):
    """One outcome token of a market."""

    token_id: str  # the outcome token id
    outcome: Text = ""  # the outcome's name ("Yes", "No")
    price: DecimalText = ""  # its last price (a JSON number)
    winner: bool = False  # true once the market resolved to this outcome


class ClobMarket(Wire):
    """The answer to GET /markets/{condition_id}."""

    condition_id: str  # the market's condition id
    question_id: Text = ""  # the question id its resolution is reported for
    question: Text = ""  # the question, as shown
    market_slug: Text = ""  # the market's slug
    tokens: Annotated[list[MarketToken], EMPTY_IF_NULL] = Field(default_factory=list)
    minimum_tick_size: DecimalText = ""  # the price increment (a JSON number)
    minimum_order_size: DecimalText = ""  # the least shares a resting order may have
    neg_risk: bool = False  # a neg-risk market
    active: bool | None = None  # listed and live
    closed: bool = False  # trading has ended
    archived: bool | None = None  # hidden from listings
    accepting_orders: bool | None = None  # the CLOB takes orders for it now
    enable_order_book: bool | None = None  # it trades on the CLOB's book
    end_date_iso: Annotated[datetime | None, BeforeValidator(_no_date)] = None  # planned end

    @property
    def takes_orders(self) -> bool:
        """Tell whether the market takes orders (unsaid: yes, the CLOB decides)."""
        return self.accepting_orders is not False and not self.closed

    def info(self) -> MarketInfo:
        """Return the market as the claim flow needs it (chain facts unset)."""
        return MarketInfo(
            condition_id=self.condition_id,
            token_ids=[t.token_id for t in self.tokens],
            neg_risk=self.neg_risk,
            closed=self.closed,
            end_date=self.end_date_iso,
        )


class MarketOfToken(Wire):
    """The answer to GET /markets-by-token/{token_id}."""

    condition_id: Text = ""  # the token's market
    primary_token_id: Text = ""  # the market's first outcome token (Yes)
    secondary_token_id: Text = ""  # its second outcome token (No)


def read_market(body: object) -> ClobMarket:
    """Parse GET /markets/{condition_id}."""
    return parse(ClobMarket, body, "GET /markets/{condition_id}")


def read_market_of_token(body: object) -> MarketOfToken:
    """Parse GET /markets-by-token/{token_id}."""
    return parse(MarketOfToken, body, "GET /markets-by-token/{token_id}")
