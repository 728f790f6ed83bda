"""Where an outcome token's market is: the CLOB's market routes, behind a small protocol.

Invariants:
- Read only. `/markets-by-token/{token}` names the condition and both tokens; `/markets/{cid}`
  says whether it is neg-risk, closed, and when it ends. Both are public routes of the CLOB
  (and of the sandbox, which copies their shapes).
- What never changes for a market (condition, tokens, neg-risk, end date) is cached per process;
  `closed` is read again until it is true.
- Answers are parsed once into `schemas` models; one that does not fit raises `WireError`.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from adapters.polymarket.schemas import read_market, read_market_of_token
from projectk.messages import MarketInfo


class MarketDirectory(Protocol):
    """Looks up the market of an outcome token."""

    async def market_of_token(self, token_id: str) -> MarketInfo | None:
        """Return the token's market without chain facts, or None if the venue does not know it."""
        ...


class NoMarkets:
    """A `MarketDirectory` that knows no market: claims never become due (paper trading)."""

    async def market_of_token(self, token_id: str) -> MarketInfo | None:
        """Return None: paper positions are not on chain, so nothing is ever claimed."""
        return None


class ClobMarketDirectory:
    """A `MarketDirectory` over the CLOB's public HTTP routes."""

    def __init__(self, http: httpx.AsyncClient, host: str) -> None:
        self._http = http
        self._host = host.rstrip("/")
        self._by_token: dict[str, MarketInfo] = {}

    async def market_of_token(self, token_id: str) -> MarketInfo | None:
        """Return the token's market (condition, tokens, neg-risk, closed, end date)."""
        known = self._by_token.get(token_id)
        if known is not None and known.closed:
            return known
        cid = known.condition_id if known else await self._condition_of(token_id)
        if cid is None:
            return None
        body = await self._get(f"/markets/{cid}")
        if body is None:
            return None
        market = read_market(body).info()
        for token in market.token_ids:
            self._by_token[token] = market
        return market

    async def _condition_of(self, token_id: str) -> str | None:
        body = await self._get(f"/markets-by-token/{token_id}")
        if body is None:
            return None
        return read_market_of_token(body).condition_id or None

    async def _get(self, path: str) -> object | None:
        # The decoded JSON body, or None when the CLOB does not know the market (404).
        response = await self._http.get(self._host + path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: object = response.json()
        return body or None
