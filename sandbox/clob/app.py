"""Authenticated CLOB routes (keys, orders, cancels, trades, balances) and the app factory.

Invariants: every trading route checks L2 auth over the raw body before doing anything; errors
are ``{"error": text}`` with the real status codes (400 rejects, 401 auth, 404 unknown); the
service is the only state, so the routes are thin translations between HTTP and ClobService.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.chain import CONDITIONAL_TOKENS, POSITION_MANAGER
from sandbox.clob import funds, views
from sandbox.clob.auth import L1_ERROR, ApiCreds, AuthError
from sandbox.clob.market_routes import MarketDataRoutes
from sandbox.clob.service import ClobService, Rejected

Handler = Any
# Outcome asset types of /balance-allowance: the ERC-1155 ledger and the operators reported.
_OUTCOME_LEDGERS = {
    "CONDITIONAL": (CONDITIONAL_TOKENS, funds.CONDITIONAL_SPENDERS),
    "CONDITIONAL-V2": (POSITION_MANAGER, funds.CONDITIONAL_V2_SPENDERS),
}


def _json(body: bytes, default: Any) -> Any:
    # A body that is not JSON is a client error, never a 500.
    if not body:
        return default
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Rejected("Invalid order payload") from exc


def error(text: str, status: int = 400) -> JSONResponse:
    """Return the real CLOB's error shape."""
    return JSONResponse({"error": text}, status_code=status)


class ClobRoutes:
    """HTTP handlers bound to one ClobService."""

    def __init__(self, service: ClobService) -> None:
        self.s = service

    # -- helpers ---------------------------------------------------------------------------
    async def _l2(self, request: Request) -> tuple[ApiCreds, bytes]:
        body = await request.body()
        creds = self.s.keys.verify_l2(
            {k.lower(): v for k, v in request.headers.items()},
            request.method,
            request.url.path,
            body.decode(),
        )
        return creds, body

    # -- L1 --------------------------------------------------------------------------------
    def _l1(self, request: Request) -> tuple[str, int]:
        return self.s.keys.verify_l1({k.lower(): v for k, v in request.headers.items()})

    async def create_api_key(self, request: Request) -> Response:
        address, nonce = self._l1(request)
        creds = self.s.keys.create(address, nonce)
        if creds is None:
            return error("Could not create api key")
        return JSONResponse(creds.to_json())

    async def derive_api_key(self, request: Request) -> Response:
        address, nonce = self._l1(request)
        return JSONResponse(self.s.keys.derive(address, nonce).to_json())

    # -- L2 --------------------------------------------------------------------------------
    async def api_keys(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        return JSONResponse({"apiKeys": self.s.keys.keys_of(creds.address)})

    async def delete_api_key(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        self.s.keys.delete(creds.api_key)
        return JSONResponse("OK")

    async def closed_only(self, request: Request) -> Response:
        await self._l2(request)
        return JSONResponse({"closed_only": False})

    async def post_order(self, request: Request) -> Response:
        creds, body = await self._l2(request)
        return JSONResponse(await self.s.post(_json(body, None), creds))

    async def post_orders(self, request: Request) -> Response:
        creds, body = await self._l2(request)
        payloads = _json(body, [])
        if not isinstance(payloads, list):
            raise Rejected("Invalid order payload")
        out = []
        for payload in payloads:
            try:
                out.append(await self.s.post(payload, creds))
            except Rejected as exc:
                out.append(
                    {
                        "success": False,
                        "errorMsg": exc.text,
                        "orderID": "",
                        "status": "",
                        "makingAmount": "",
                        "takingAmount": "",
                        "transactionsHashes": [],
                        "tradeIDs": [],
                    }
                )
        return JSONResponse(out)

    async def get_order(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        order = self.s.lookup(request.path_params["order_id"])
        if order is None or order.account != creds.address:
            return JSONResponse(None)
        return JSONResponse(views.order_json(order, self.s.markets[order.market]))

    async def orders(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        q = request.query_params
        rows = [
            views.order_json(o, self.s.markets[o.market])
            for o in self.s.live_orders_of(creds.address)
            if (not q.get("id") or o.id == q["id"])
            and (not q.get("market") or o.market == q["market"])
            and (not q.get("asset_id") or str(o.order.token_id) == q["asset_id"])
        ]
        return JSONResponse(views.page(rows, q.get("next_cursor"), self.s.config.page_limit))

    async def trades(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        q = request.query_params
        rows = []
        for t in self.s.trades_of(creds.address):
            row = views.trade_json(t, creds.address)
            if q.get("id") and row["id"] != q["id"]:
                continue
            if q.get("market") and row["market"] != q["market"]:
                continue
            if q.get("asset_id") and row["asset_id"] != q["asset_id"]:
                continue
            if q.get("after") and t.match_time <= int(q["after"]):
                continue
            if q.get("before") and t.match_time >= int(q["before"]):
                continue
            rows.append(row)
        return JSONResponse(views.page(rows, q.get("next_cursor"), self.s.config.page_limit))

    async def cancel(self, request: Request) -> Response:
        creds, body = await self._l2(request)
        payload = _json(body, {})
        order_id = str(payload.get("orderID", "")) if isinstance(payload, dict) else ""
        return JSONResponse(await self.s.cancel([order_id], creds.address))

    async def cancel_orders(self, request: Request) -> Response:
        creds, body = await self._l2(request)
        return JSONResponse(await self.s.cancel(list(_json(body, [])), creds.address))

    async def cancel_all(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        ids = [o.id for o in self.s.live_orders_of(creds.address)]
        return JSONResponse(await self.s.cancel(ids, creds.address))

    async def cancel_market(self, request: Request) -> Response:
        creds, body = await self._l2(request)
        q = _json(body, {})
        if not isinstance(q, dict):
            raise Rejected("Invalid payload")
        ids = [
            o.id
            for o in self.s.live_orders_of(creds.address)
            if (not q.get("market") or o.market == q["market"])
            and (not q.get("asset_id") or str(o.order.token_id) == q["asset_id"])
        ]
        return JSONResponse(await self.s.cancel(ids, creds.address))

    async def balance_allowance(self, request: Request) -> Response:
        creds, _ = await self._l2(request)
        q = request.query_params
        asset = q.get("asset_type", "COLLATERAL").upper()
        # The real CLOB knows each account's proxy/deposit wallet; the sandbox learns it from orders
        holder = (
            creds.address
            if q.get("signature_type", "0") == "0"
            else self.s.funder_of(creds.address)
        )
        if asset == "COLLATERAL":
            balance, allowances = await funds.collateral(
                self.s.rpc, holder, funds.COLLATERAL_SPENDERS
            )
        elif asset in _OUTCOME_LEDGERS:
            token = q.get("token_id", "")
            if not token.isdigit():
                raise Rejected("Invalid token id")
            ledger, spenders = _OUTCOME_LEDGERS[asset]
            balance, allowances = await funds.conditional(
                self.s.rpc, holder, int(token), spenders, ledger=ledger
            )
        else:
            raise Rejected("invalid asset type")
        return JSONResponse(
            {"balance": str(balance), "allowances": {k: str(v) for k, v in allowances.items()}}
        )

    async def order_scoring(self, request: Request) -> Response:
        await self._l2(request)
        return JSONResponse({"scoring": False})  # the sandbox pays no liquidity rewards

    async def orders_scoring(self, request: Request) -> Response:
        _, body = await self._l2(request)
        ids = _json(body, [])
        return JSONResponse({str(i): False for i in ids} if isinstance(ids, list) else {})

    async def heartbeat(self, request: Request) -> Response:
        await self._l2(request)
        return JSONResponse({"heartbeat_id": ""})

    def routes(self) -> list[BaseRoute]:
        """Return the CLOB routes."""
        r = Route
        return [
            r("/auth/api-key", self.create_api_key, methods=["POST"]),
            r("/auth/api-key", self.delete_api_key, methods=["DELETE"]),
            r("/auth/derive-api-key", self.derive_api_key),
            r("/auth/api-keys", self.api_keys),
            r("/auth/ban-status/closed-only", self.closed_only),
            r("/order", self.post_order, methods=["POST"]),
            r("/order", self.cancel, methods=["DELETE"]),
            r("/orders", self.post_orders, methods=["POST"]),
            r("/orders", self.cancel_orders, methods=["DELETE"]),
            r("/cancel-all", self.cancel_all, methods=["DELETE"]),
            r("/cancel-market-orders", self.cancel_market, methods=["DELETE"]),
            r("/data/order/{order_id}", self.get_order),
            r("/data/orders", self.orders),
            r("/data/trades", self.trades),
            r("/balance-allowance", self.balance_allowance),
            r("/balance-allowance/update", self.balance_allowance),
            r("/v1/heartbeats", self.heartbeat, methods=["POST"]),
            r("/order-scoring", self.order_scoring),
            r("/orders-scoring", self.orders_scoring, methods=["POST"]),
        ]


async def _rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Rejected)
    return error(exc.text, exc.status)


async def _unauthorized(request: Request, exc: Exception) -> Response:
    text = str(exc) or L1_ERROR
    return error(text, 401)


def create_app(service: ClobService, extra_mounts: list[BaseRoute] | None = None) -> Starlette:
    """Build the Starlette app serving the CLOB routes (and any extra routes and mounts)."""
    routes: list[BaseRoute] = [
        *MarketDataRoutes(service).routes(),
        *ClobRoutes(service).routes(),
        *(extra_mounts or []),
    ]
    return Starlette(
        routes=routes, exception_handlers={Rejected: _rejected, AuthError: _unauthorized}
    )
