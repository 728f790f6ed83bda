"""Public market-data routes of the CLOB (no auth): health, books, prices, market descriptions.

Invariants: read-only views of the ClobService; unknown tokens answer 404 "No orderbook exists for
the requested token id" and malformed ones 400 "Invalid token id", as the real CLOB does; batch
routes take the client's ``[{"token_id": ..., "side": ...}]`` bodies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clob import views
from sandbox.clob.orders import Side
from sandbox.clob.service import ClobService, Rejected
from sandbox.markets import Market


def _error(text: str, status: int) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status)


class MarketDataRoutes:
    """Public handlers bound to one ClobService."""

    def __init__(self, service: ClobService) -> None:
        self.s = service

    def _market_of_token(self, request: Request) -> tuple[Market, int]:
        raw = request.query_params.get("token_id", "")
        if not raw.isdigit():
            raise Rejected("Invalid token id")
        market = self.s.by_token.get(int(raw))
        if market is None:
            raise Rejected("No orderbook exists for the requested token id", 404)
        return market, int(raw)

    def _best(self, token: int, side: Side) -> Decimal | None:
        book = self.s.engine.book(token)
        rows = book.bids if side == Side.BUY else book.asks
        return rows[0].price if rows else None

    # -- public ----------------------------------------------------------------------------
    async def ok(self, request: Request) -> Response:
        return JSONResponse("OK")

    async def time(self, request: Request) -> Response:
        return JSONResponse(self.s.now())

    async def version(self, request: Request) -> Response:
        return JSONResponse({"version": 2})

    async def book(self, request: Request) -> Response:
        market, token = self._market_of_token(request)
        return JSONResponse(self._book(market, token))

    def _book(self, market: Market, token: int) -> dict[str, Any]:
        return views.book_json(
            market,
            token,
            self.s.engine.book(token),
            int(self.s.clock() * 1000),
            self.s.last_price.get(token),
        )

    async def books(self, request: Request) -> Response:
        out = []
        for item in await request.json():
            market = self.s.by_token.get(int(item.get("token_id", "0")))
            if market is not None:
                out.append(self._book(market, int(item["token_id"])))
        return JSONResponse(out)

    async def tick_size(self, request: Request) -> Response:
        market, _ = self._market_of_token(request)
        return JSONResponse({"minimum_tick_size": float(market.spec.tick_size)})

    async def neg_risk(self, request: Request) -> Response:
        market, _ = self._market_of_token(request)
        return JSONResponse({"neg_risk": market.spec.neg_risk})

    async def builder_fees(self, request: Request) -> Response:
        raw = request.path_params["code"].removeprefix("0x")
        if len(raw) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in raw):
            raise Rejected("invalid builder code")
        maker, taker = self.s.builder_fees.get(bytes.fromhex(raw), (0, 0))
        return JSONResponse(
            {"builder_maker_fee_rate_bps": maker, "builder_taker_fee_rate_bps": taker}
        )

    async def fee_rate(self, request: Request) -> Response:
        market, _ = self._market_of_token(request)
        return JSONResponse({"base_fee": views.base_fee(market)})

    async def price(self, request: Request) -> Response:
        _, token = self._market_of_token(request)
        side = request.query_params.get("side", "").upper()
        if side not in ("BUY", "SELL"):
            raise Rejected("Invalid side")
        best = self._best(token, Side.BUY if side == "BUY" else Side.SELL)
        return JSONResponse({"price": views.fmt(best) if best is not None else "0"})

    async def midpoint(self, request: Request) -> Response:
        _, token = self._market_of_token(request)
        return JSONResponse({"mid": views.fmt(self._mid(token))})

    async def spread(self, request: Request) -> Response:
        _, token = self._market_of_token(request)
        bid, ask = self._best(token, Side.BUY), self._best(token, Side.SELL)
        spread = (ask - bid) if bid is not None and ask is not None else Decimal(0)
        return JSONResponse({"spread": views.fmt(spread)})

    async def last_trade_price(self, request: Request) -> Response:
        _, token = self._market_of_token(request)
        last = self.s.last_price.get(token, Decimal("0.5"))
        return JSONResponse({"price": views.fmt(last), "side": ""})

    async def markets(self, request: Request) -> Response:
        rows = [views.market_json(m, self.s.last_price) for m in self.s.markets.values()]
        return JSONResponse(views.page(rows, request.query_params.get("next_cursor"), 500))

    async def market(self, request: Request) -> Response:
        market = self.s.markets.get(request.path_params["condition_id"])
        if market is None:
            return _error("market not found", 404)
        return JSONResponse(views.market_json(market, self.s.last_price))

    async def clob_market(self, request: Request) -> Response:
        market = self.s.markets.get(request.path_params["condition_id"])
        if market is None:
            return _error("market not found", 404)
        return JSONResponse(views.clob_market_json(market))

    async def market_by_token(self, request: Request) -> Response:
        raw = request.path_params["token_id"]
        market = self.s.by_token.get(int(raw)) if raw.isdigit() else None
        if market is None:
            return _error("market not found", 404)
        return JSONResponse(
            {
                "condition_id": market.condition_id,
                "primary_token_id": str(market.token_ids[0]),
                "secondary_token_id": str(market.token_ids[1]),
            }
        )

    # -- batch forms ---------------------------------------------------------------------------
    async def _items(self, request: Request) -> list[tuple[int, str]]:
        try:
            items = json.loads(await request.body() or b"[]")
        except ValueError as exc:
            raise Rejected("Invalid payload") from exc
        out = []
        for item in items if isinstance(items, list) else []:
            raw = str(item.get("token_id", "")) if isinstance(item, dict) else ""
            if raw.isdigit() and int(raw) in self.s.by_token:
                out.append((int(raw), str(item.get("side", "")).upper()))
        return out

    def _mid(self, token: int) -> Decimal:
        bid, ask = self._best(token, Side.BUY), self._best(token, Side.SELL)
        if bid is None or ask is None:
            return bid or ask or self.s.last_price.get(token, Decimal("0.5"))
        return (bid + ask) / 2

    async def prices(self, request: Request) -> Response:
        out: dict[str, dict[str, str]] = {}
        for token, side in await self._items(request):
            best = self._best(token, Side.BUY if side == "BUY" else Side.SELL)
            out.setdefault(str(token), {})[side or "BUY"] = views.fmt(best) if best else "0"
        return JSONResponse(out)

    async def midpoints(self, request: Request) -> Response:
        return JSONResponse(
            {str(t): views.fmt(self._mid(t)) for t, _ in await self._items(request)}
        )

    async def spreads(self, request: Request) -> Response:
        out = {}
        for token, _ in await self._items(request):
            bid, ask = self._best(token, Side.BUY), self._best(token, Side.SELL)
            out[str(token)] = views.fmt(ask - bid) if bid is not None and ask is not None else "0"
        return JSONResponse(out)

    async def last_trades_prices(self, request: Request) -> Response:
        rows = [
            {
                "token_id": str(t),
                "price": views.fmt(self.s.last_price.get(t, Decimal("0.5"))),
                "side": "",
            }
            for t, _ in await self._items(request)
        ]
        return JSONResponse(rows)

    def routes(self) -> list[Route]:
        """Return the public routes."""
        r = Route
        return [
            r("/ok", self.ok),
            r("/time", self.time),
            r("/version", self.version),
            r("/book", self.book),
            r("/books", self.books, methods=["POST"]),
            r("/tick-size", self.tick_size),
            r("/neg-risk", self.neg_risk),
            r("/fee-rate", self.fee_rate),
            r("/fees/builder-fees/{code}", self.builder_fees),
            r("/price", self.price),
            r("/prices", self.prices, methods=["POST"]),
            r("/midpoint", self.midpoint),
            r("/midpoints", self.midpoints, methods=["POST"]),
            r("/spread", self.spread),
            r("/spreads", self.spreads, methods=["POST"]),
            r("/last-trade-price", self.last_trade_price),
            r("/last-trades-prices", self.last_trades_prices, methods=["POST"]),
            r("/markets", self.markets),
            r("/sampling-markets", self.markets),
            r("/simplified-markets", self.markets),
            r("/sampling-simplified-markets", self.markets),
            r("/markets/{condition_id}", self.market),
            r("/clob-markets/{condition_id}", self.clob_market),
            r("/markets-by-token/{token_id}", self.market_by_token),
        ]
