"""Market lookups as activities: which condition an outcome token trades in.

Invariant: thin; the lookup and its cache live in `adapters.polymarket.markets`.
"""

from __future__ import annotations

from temporalio import activity

from adapters.polymarket import MarketDirectory
from projectk.messages import MarketOfToken, MarketOfTokenInput


class MarketActivities:
    """Look markets up through an injected directory."""

    def __init__(self, markets: MarketDirectory) -> None:
        self._markets = markets

    @activity.defn(name="market_of_token")
    async def market_of_token(self, data: MarketOfTokenInput) -> MarketOfToken:
        """Return the condition id of a token's market ("" when the venue does not know it)."""
        market = await self._markets.market_of_token(data.token_id)
        return MarketOfToken(condition_id=market.condition_id if market else "")
