"""Rows of the Data API's GET /trades (a wallet's fills, maker and taker).

Docs: https://docs.polymarket.com/api-reference/core/get-trades-for-a-user-or-markets

Invariants:
- The Data API sends amounts as JSON numbers; they are kept as their decimal text, never used
  as floats. Detection takes only *which transaction* holds a fill from a row: the fill itself is
  read from the chain, so these amounts are informational.
- Rows come newest first.
"""

from __future__ import annotations

from pydantic import Field

from adapters.polymarket.schemas.common import DecimalText, Text, Wire, WireSide, parse_items


class DataApiTrade(Wire):
    """One row of the Data API's GET /trades?user=…"""

    proxy_wallet: Text = Field(default="", alias="proxyWallet")  # the wallet that traded
    side: WireSide | None = None  # its side
    asset: Text = ""  # the outcome token id
    condition_id: Text = Field(default="", alias="conditionId")  # the token's market
    size: DecimalText = ""  # shares filled
    price: DecimalText = ""  # price per share
    timestamp: int = 0  # unix seconds of the fill's block
    title: Text = ""  # the market's question
    slug: Text = ""  # the market's slug
    event_slug: Text = Field(default="", alias="eventSlug")  # its event's slug
    outcome: Text = ""  # the outcome's name
    outcome_index: int | None = Field(default=None, alias="outcomeIndex")  # 0 for Yes, 1 for No
    name: Text = ""  # the trader's profile name, if any
    pseudonym: Text = ""  # the trader's generated name
    transaction_hash: Text = Field(default="", alias="transactionHash")  # the fill's transaction


def read_data_api_trades(body: object) -> list[DataApiTrade]:
    """Parse a page of the Data API's GET /trades."""
    return parse_items(DataApiTrade, body, "Data API GET /trades")
