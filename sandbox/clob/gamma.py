"""Gamma read routes (mounted at /gamma-api): markets and events, with their protocol version.

Invariants: the JSON is Gamma's camelCase shape with string-encoded arrays (``outcomes``,
``outcomePrices``, ``clobTokenIds``/``positionIds``); a "v1" market lists its CTF token ids in
``clobTokenIds``, a "v2" market its PositionManager ids in ``positionIds`` and its 32-byte
condition id as ``requestId``; every market names its event, and a neg-risk event lists its
markets (one per outcome) with ``negRisk`` and a shared ``negRiskMarketID``; keyset routes page
with an opaque ``next_cursor`` (absent on the last page) sent back as ``after_cursor``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clob.catalog import Event
from sandbox.clob.orders import Side
from sandbox.clob.service import ClobService
from sandbox.clob.views import fmt
from sandbox.markets import OUTCOMES, Market

DEFAULT_LIMIT = 20
_START_DATE = "2026-01-01T00:00:00Z"


def _truthy(value: str) -> bool:
    return value.lower() in ("1", "true", "yes")


def _values(request: Request, key: str) -> set[str]:
    # Repeated keys and comma-separated values both count (clients send either form).
    out: set[str] = set()
    for raw in request.query_params.getlist(key):
        out.update(v.strip() for v in raw.split(",") if v.strip())
    return out


class GammaRoutes:
    """Gamma handlers bound to one ClobService."""

    def __init__(self, service: ClobService) -> None:
        self.s = service

    # -- shapes ------------------------------------------------------------------------------
    def _price(self, token: int) -> Decimal:
        return self.s.last_price.get(token, Decimal("0.5"))

    def _best(self, token: int, side: Side) -> Decimal | None:
        book = self.s.engine.book(token)
        rows = book.bids if side == Side.BUY else book.asks
        return rows[0].price if rows else None

    def market_json(self, m: Market) -> dict[str, Any]:
        """Render one market as Gamma does."""
        event = self.s.catalog.event_of(m)
        yes = m.token_ids[0]
        prices = [self._price(t) for t in m.token_ids]
        if m.winner is not None:
            prices = [Decimal(1 if i == m.winner else 0) for i in range(2)]
        bid, ask = self._best(yes, Side.BUY), self._best(yes, Side.SELL)
        ids = json.dumps([str(t) for t in m.token_ids])
        row: dict[str, Any] = {
            "id": str(self.s.catalog.market_id(m)),
            "version": m.spec.version.value,
            "question": m.spec.question,
            "conditionId": m.condition_id,
            "questionID": m.question_id,
            "slug": m.spec.slug,
            "description": m.spec.question,
            "groupItemTitle": m.spec.group_item_title,
            "outcomes": json.dumps(list(OUTCOMES)),
            "outcomePrices": json.dumps([fmt(p) for p in prices]),
            "active": True,
            "closed": m.closed,
            "archived": False,
            "acceptingOrders": not m.closed,
            "enableOrderBook": True,
            "negRisk": m.spec.neg_risk,
            "negRiskMarketID": event.neg_risk_market_id,
            "startDate": _START_DATE,
            "endDate": m.spec.end_date_iso,
            "orderMinSize": float(m.spec.min_order_size),
            "orderPriceMinTickSize": float(m.spec.tick_size),
            "secondsDelay": 0,
            "feesEnabled": m.spec.fee.enabled,
            "feeSchedule": _fee_schedule(m),
            "bestBid": float(bid) if bid is not None else None,
            "bestAsk": float(ask) if ask is not None else None,
            "spread": float(ask - bid) if bid is not None and ask is not None else None,
            "lastTradePrice": float(prices[0]),
            "umaResolutionStatus": "resolved" if m.winner is not None else "",
            "events": [{"id": str(event.id), "slug": event.slug, "title": event.title}],
        }
        if m.v2:
            row["positionIds"] = ids
            row["requestId"] = m.condition_id
            row["resolutionStatus"] = "resolved" if m.winner is not None else "active"
        else:
            row["clobTokenIds"] = ids
        return row

    def event_json(self, e: Event) -> dict[str, Any]:
        """Render one event with its markets as Gamma does."""
        versions = {m.spec.version.value for m in e.markets}
        return {
            "id": str(e.id),
            "version": versions.pop() if len(versions) == 1 else None,
            "slug": e.slug,
            "title": e.title,
            "description": e.title,
            "active": True,
            "closed": e.closed,
            "archived": False,
            "negRisk": e.neg_risk,
            "enableNegRisk": e.neg_risk,
            "negRiskMarketID": e.neg_risk_market_id,
            "enableOrderBook": True,
            "startDate": _START_DATE,
            "endDate": max(m.spec.end_date_iso for m in e.markets),
            "markets": [self.market_json(m) for m in e.markets],
        }

    # -- filters -----------------------------------------------------------------------------
    def _markets(self, request: Request) -> list[Market]:
        cat = self.s.catalog
        q = request.query_params
        checks: list[tuple[set[str], Callable[[Market], set[str]]]] = [
            (_values(request, "id"), lambda m: {str(cat.market_id(m))}),
            (_values(request, "slug"), lambda m: {m.spec.slug}),
            (_values(request, "condition_ids"), lambda m: {m.condition_id.lower()}),
            (_values(request, "question_ids"), lambda m: {m.question_id}),
            (_values(request, "version"), lambda m: {m.spec.version.value}),
            (
                _values(request, "clob_token_ids"),
                lambda m: set() if m.v2 else {str(t) for t in m.token_ids},
            ),
            (
                _values(request, "position_ids"),
                lambda m: {str(t) for t in m.token_ids} if m.v2 else set(),
            ),
        ]
        out = []
        for m in cat.markets.values():
            if "closed" in q and m.closed != _truthy(q["closed"]):
                continue
            if all(not wanted or {w.lower() for w in wanted} & {v.lower() for v in have(m)}
                   for wanted, have in checks):  # fmt: skip
                out.append(m)
        return out

    def _events(self, request: Request) -> list[Event]:
        q = request.query_params
        ids, slugs = _values(request, "id"), _values(request, "slug")
        versions = _values(request, "version")
        out = []
        for e in self.s.catalog.events.values():
            if "closed" in q and e.closed != _truthy(q["closed"]):
                continue
            if (ids and str(e.id) not in ids) or (slugs and e.slug not in slugs):
                continue
            if versions and not versions & {m.spec.version.value for m in e.markets}:
                continue
            out.append(e)
        return out

    # -- handlers ----------------------------------------------------------------------------
    async def markets(self, request: Request) -> Response:
        rows = [self.market_json(m) for m in self._markets(request)]
        return JSONResponse(_offset_window(request, rows))

    async def markets_keyset(self, request: Request) -> Response:
        rows = [self.market_json(m) for m in self._markets(request)]
        return JSONResponse(_keyset_page(request, "markets", rows))

    async def market(self, request: Request) -> Response:
        market = self.s.catalog.find(request.path_params["key"])
        if market is None:
            return JSONResponse({"error": "market not found"}, status_code=404)
        return JSONResponse(self.market_json(market))

    async def events(self, request: Request) -> Response:
        rows = [self.event_json(e) for e in self._events(request)]
        return JSONResponse(_offset_window(request, rows))

    async def events_keyset(self, request: Request) -> Response:
        rows = [self.event_json(e) for e in self._events(request)]
        return JSONResponse(_keyset_page(request, "events", rows))

    async def event(self, request: Request) -> Response:
        key = request.path_params["key"]
        for e in self.s.catalog.events.values():
            if key in (str(e.id), e.slug):
                return JSONResponse(self.event_json(e))
        return JSONResponse({"error": "event not found"}, status_code=404)

    def routes(self) -> list[Route]:
        """Return the Gamma routes (mounted under /gamma-api)."""
        return [
            Route("/markets", self.markets),
            Route("/markets/keyset", self.markets_keyset),
            Route("/markets/slug/{key}", self.market),
            Route("/markets/{key}", self.market),
            Route("/events", self.events),
            Route("/events/keyset", self.events_keyset),
            Route("/events/slug/{key}", self.event),
            Route("/events/{key}", self.event),
        ]


def _fee_schedule(m: Market) -> dict[str, Any] | None:
    if not m.spec.fee.enabled:
        return None
    return {
        "exponent": m.spec.fee.exponent,
        "rate": float(m.spec.fee.rate),
        "takerOnly": True,
        "rebateRate": 0,
    }


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "")
    return max(1, min(int(raw), 1000)) if raw.isdigit() else DEFAULT_LIMIT


def _offset_window(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    raw = request.query_params.get("offset", "0")
    offset = int(raw) if raw.isdigit() else 0
    return rows[offset : offset + _limit(request)]


def _keyset_page(request: Request, key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    # The cursor is an opaque base64 offset; clients only echo it back.
    cursor = request.query_params.get("after_cursor", "")
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except ValueError:
        offset = 0
    limit = _limit(request)
    page: dict[str, Any] = {key: rows[offset : offset + limit]}
    if offset + limit < len(rows):
        page["next_cursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return page
