"""The catalogue of markets and events that the CLOB, Gamma and the Data API read.

Invariants: a market is listed once, under its condition id, and every one of its outcome ids
maps back to it; Gamma ids are small integers given in listing order (markets and events have
separate sequences); every market belongs to exactly one event: its own (same slug) or the
neg-risk event named by its ``event_slug``, whose markets are the event's mutually exclusive
outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils.crypto import keccak

from sandbox.markets import Market


@dataclass
class Event:
    """A Gamma event: one market, or the outcomes of a neg-risk event."""

    id: int
    slug: str
    title: str
    neg_risk: bool
    markets: list[Market] = field(default_factory=list)

    @property
    def neg_risk_market_id(self) -> str:
        """The event's neg-risk id (bytes32 with a zero last byte), "" when not neg-risk."""
        if not self.neg_risk:
            return ""
        return "0x" + keccak(text=f"projectk-sandbox:event:{self.slug}")[:31].hex() + "00"

    @property
    def closed(self) -> bool:
        """True once every market of the event is closed."""
        return all(m.closed for m in self.markets)


class Catalog:
    """Markets by condition id and outcome id, events by slug, and their Gamma ids."""

    def __init__(self) -> None:
        self.markets: dict[str, Market] = {}
        self.by_token: dict[int, Market] = {}
        self.events: dict[str, Event] = {}
        self._market_ids: dict[str, int] = {}

    def add(self, market: Market) -> None:
        """List a market (and create its event on first sight)."""
        self.markets[market.condition_id] = market
        self._market_ids[market.condition_id] = len(self._market_ids) + 1
        for token in market.token_ids:
            self.by_token[token] = market
        slug = market.event_slug
        event = self.events.get(slug)
        if event is None:
            title = market.spec.event_title or market.spec.question
            event = Event(len(self.events) + 1, slug, title, market.spec.neg_risk)
            self.events[slug] = event
        event.markets.append(market)

    def market_id(self, market: Market) -> int:
        """Return the Gamma id of a market."""
        return self._market_ids[market.condition_id]

    def event_of(self, market: Market) -> Event:
        """Return the event a market belongs to."""
        return self.events[market.event_slug]

    def find(self, key: str) -> Market | None:
        """Find a market by condition id, slug or Gamma id."""
        for m in self.markets.values():
            if key in (m.condition_id, m.spec.slug, str(self.market_id(m))):
                return m
        return None
