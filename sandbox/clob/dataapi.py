"""Data API read routes (/trades, /activity, /positions) computed from the sandbox's trade record.

Invariants: a wallet sees each of its fills once: as taker one row per trade, as maker one row per
maker order filled (only when takerOnly=false, the real API's default being true); positions are
the wallet's on-chain balance of each token it traded (so redeemed or sold shares disappear) at
its average buy price; /activity adds REDEEM rows from chain logs; the Data API's JSON uses
numbers, converted from Decimal only at this edge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eth_utils.address import to_checksum_address
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.chain import ledger_of
from sandbox.clob.orders import Side
from sandbox.clob.redemptions import redemptions
from sandbox.clob.rules import as_units
from sandbox.clob.service import ClobService, Rejected
from sandbox.clob.settlement import Trade, TradeStatus
from sandbox.clob.views import side_name
from sandbox.markets import OUTCOMES


def _num(value: Decimal) -> float:
    return float(value)  # the Data API wire format carries JSON numbers


FillRow = tuple[int, Side, int, int, Decimal]  # token, side, shares, pUSD, price


def _fills_of(t: Trade, user: str, taker_only: bool) -> list[FillRow]:
    # The rows of ``user`` in one trade; a maker on the other outcome traded its own token.
    rows = []
    if t.taker.order.maker == user:
        price = Decimal(t.usd) / Decimal(t.shares)
        rows.append((t.taker.order.token_id, t.taker.side, t.shares, t.usd, price))
    if not taker_only:
        rows += [
            (f.maker.order.token_id, f.maker.side, f.shares, f.usd, f.maker.price)
            for f in t.fills
            if f.maker.order.maker == user
        ]
    return rows


class DataApiRoutes:
    """Data API handlers bound to one ClobService."""

    def __init__(self, service: ClobService) -> None:
        self.s = service

    def _user(self, request: Request) -> str:
        try:
            return str(to_checksum_address(request.query_params.get("user", "")))
        except ValueError as exc:
            raise Rejected("invalid user") from exc

    def _rows(self, request: Request, taker_only: bool) -> list[dict[str, Any]]:
        user = self._user(request)
        market_filter = request.query_params.get("market", "")
        rows = []
        for t in reversed(self.s.indexed_trades()):
            if t.status == TradeStatus.FAILED or (market_filter and t.market not in market_filter):
                continue
            market = self.s.markets[t.market]
            for token, side, shares, usd, price in _fills_of(t, user, taker_only):
                idx = market.outcome_of(token)
                rows.append(
                    {
                        "proxyWallet": user,
                        "side": side_name(side),
                        "asset": str(token),
                        "conditionId": t.market,
                        "size": _num(as_units(shares)),
                        "usdcSize": _num(as_units(usd)),
                        "price": _num(price.quantize(Decimal("0.000001"))),
                        "timestamp": t.match_time,
                        "title": market.spec.question,
                        "slug": market.spec.slug,
                        "eventSlug": market.spec.slug,
                        "outcome": OUTCOMES[idx],
                        "outcomeIndex": idx,
                        "transactionHash": t.tx_hash or "",
                        "name": "",
                        "pseudonym": "",
                    }
                )
        return rows

    def _window(self, request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        q = request.query_params
        offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
        return rows[offset : offset + limit]

    async def trades(self, request: Request) -> Response:
        taker_only = request.query_params.get("takerOnly", "true").lower() != "false"
        rows = self._rows(request, taker_only)
        for row in rows:
            row.pop("usdcSize")
        return JSONResponse(self._window(request, rows))

    async def activity(self, request: Request) -> Response:
        user = self._user(request)
        rows = self._rows(request, taker_only=False)
        for row in rows:
            row["type"] = "TRADE"
        for r in await redemptions(self.s.rpc, user):
            market = self.s.markets.get(r.condition_id)
            rows.append(
                {
                    "proxyWallet": user,
                    "type": "REDEEM",
                    "conditionId": r.condition_id,
                    "size": _num(as_units(r.payout)),
                    "usdcSize": _num(as_units(r.payout)),
                    "price": 0,
                    "asset": "",
                    "side": "",
                    "outcomeIndex": 999,
                    "outcome": "",
                    "timestamp": r.timestamp,
                    "transactionHash": r.tx_hash,
                    "title": market.spec.question if market else "",
                    "slug": market.spec.slug if market else "",
                }
            )
        rows.sort(key=lambda row: int(row["timestamp"]), reverse=True)
        return JSONResponse(self._window(request, rows))

    async def positions(self, request: Request) -> Response:
        user = self._user(request)
        bought: dict[int, list[int]] = {}  # token -> [shares bought, pUSD paid]
        for t in self.s.trades:
            if t.status == TradeStatus.FAILED:
                continue
            for token, side, shares, usd, _ in _fills_of(t, user, taker_only=False):
                pos = bought.setdefault(token, [0, 0])
                if side == Side.BUY:
                    pos[0] += shares
                    pos[1] += usd
        tokens = list(bought)
        balances = (
            await self.s.rpc.call_many(
                [
                    (ledger_of(token), "balanceOf(address,uint256)", (user, token), ["uint256"])
                    for token in tokens
                ]
            )
            if tokens
            else []
        )
        return JSONResponse(
            [
                self._position(user, token, int(bal), bought[token])
                for token, (bal,) in zip(tokens, balances, strict=True)
                if int(bal) > 0
            ]
        )

    def _position(self, user: str, token: int, shares: int, bought: list[int]) -> dict[str, Any]:
        market = self.s.by_token[token]
        idx = market.outcome_of(token)
        if market.winner is not None:
            cur = Decimal(1 if market.winner == idx else 0)
        else:
            cur = self.s.last_price.get(token, Decimal("0.5"))
        size = as_units(shares)
        avg = Decimal(bought[1]) / Decimal(bought[0]) if bought[0] else Decimal(0)
        initial = (size * avg).quantize(Decimal("0.000001"))
        value = size * cur
        return {
            "proxyWallet": user,
            "asset": str(token),
            "conditionId": market.condition_id,
            "size": _num(size),
            "avgPrice": _num(avg.quantize(Decimal("0.000001"))),
            "initialValue": _num(initial),
            "currentValue": _num(value),
            "cashPnl": _num(value - initial),
            "curPrice": _num(cur),
            "percentPnl": _num(((value - initial) / initial * 100) if initial else Decimal(0)),
            "redeemable": market.winner is not None,
            "mergeable": False,
            "title": market.spec.question,
            "slug": market.spec.slug,
            "outcome": OUTCOMES[idx],
            "outcomeIndex": idx,
            "oppositeOutcome": OUTCOMES[1 - idx],
            "oppositeAsset": str(market.token_ids[1 - idx]),
            "endDate": market.spec.end_date_iso,
            "negativeRisk": market.spec.neg_risk,
        }

    def routes(self) -> list[Route]:
        """Return the Data API routes (mounted under /data-api)."""
        return [
            Route("/trades", self.trades),
            Route("/activity", self.activity),
            Route("/positions", self.positions),
        ]
