"""Data API v2 read routes (/v2/trades, /v2/activity, /v2/positions, under /data-api).

Invariants: rows are snake_case with JSON numbers, wrapped as ``{"data": [...], "pagination":
{"has_more", "next_cursor"}}`` and paged by an opaque ``cursor`` (``next_cursor`` is null exactly
when ``has_more`` is false); a wallet's fill appears once per trade (its taker row, and its maker
rows unless ``taker_only``, which defaults to true for trades); failed settlements are not
listed; positions are the on-chain balances of outcomes the wallet traded, valued at the last
price or, once resolved, at the payout; a taker's fee is reported as the position's
``entry_fees_usdc`` (BUYs) and kept out of ``entry_cost_usdc``.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from eth_utils.address import to_checksum_address
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clob.positions import Fill, Holding, fills_of, holdings
from sandbox.clob.redemptions import redemptions
from sandbox.clob.rules import as_units
from sandbox.clob.service import ClobService, Rejected
from sandbox.clob.settlement import TradeStatus
from sandbox.clob.views import side_name
from sandbox.markets import OUTCOMES, Market

MAX_LIMIT = 1000
NO_OUTCOME = 999  # the Data API's outcome_index when a row has none


def _num(value: Decimal) -> float:
    return float(value)  # the Data API wire format carries JSON numbers


def _page(request: Request, rows: list[dict[str, Any]]) -> dict[str, Any]:
    q = request.query_params
    raw_limit = q.get("limit", "")
    limit = max(1, min(int(raw_limit), MAX_LIMIT)) if raw_limit.isdigit() else 100
    cursor = q.get("cursor", "")
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except ValueError as exc:
        raise Rejected("invalid cursor") from exc
    more = offset + limit < len(rows)
    nxt = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return {
        "data": rows[offset : offset + limit],
        "pagination": {"has_more": more, "next_cursor": nxt},
    }


class DataApiV2Routes:
    """Data API v2 handlers bound to one ClobService."""

    def __init__(self, service: ClobService) -> None:
        self.s = service

    def _user(self, request: Request, required: bool) -> str | None:
        raw = request.query_params.get("user", "")
        if not raw and not required:
            return None
        try:
            return str(to_checksum_address(raw))
        except ValueError as exc:
            raise Rejected("invalid user") from exc

    def _describe(self, m: Market, outcome: int | None) -> dict[str, Any]:
        return {
            "title": m.spec.question,
            "slug": m.spec.slug,
            "icon": "",
            "event_slug": m.event_slug,
            "outcome": OUTCOMES[outcome] if outcome is not None else "",
            "outcome_index": outcome if outcome is not None else NO_OUTCOME,
        }

    def _fill_rows(self, request: Request, user: str | None, taker_only: bool) -> list[Fill]:
        q = request.query_params
        cids = {c.lower() for c in q.get("condition_id", "").split(",") if c}
        side = q.get("side", "").upper()
        start, end = int(q.get("start") or 0), int(q.get("end") or 2**62)
        out = []
        for t in reversed(self.s.indexed_trades()):
            if t.status == TradeStatus.FAILED or (cids and t.market.lower() not in cids):
                continue
            if not start <= t.match_time <= end:
                continue
            out += [
                f for f in fills_of(t, user, taker_only) if not side or side_name(f.side) == side
            ]
        return out

    def _trade_row(self, f: Fill, with_usd: bool) -> dict[str, Any]:
        m = self.s.markets[f.trade.market]
        row = {
            "proxy_wallet": f.wallet,
            "side": side_name(f.side),
            "token_id": str(f.token),
            "condition_id": m.condition_id,
            "size": _num(as_units(f.shares)),
            "price": _num(f.price.quantize(Decimal("0.000001"))),
            "timestamp": f.trade.match_time,
            "transaction_hash": f.trade.tx_hash or "",
            "name": "",
            "pseudonym": "",
            **self._describe(m, m.outcome_of(f.token)),
        }
        if with_usd:
            row.update(type="TRADE", is_combo=False, usdc_size=_num(as_units(f.usd)))
        return row

    async def trades(self, request: Request) -> Response:
        user = self._user(request, required=False)
        taker_only = request.query_params.get("taker_only", "true").lower() != "false"
        rows = [self._trade_row(f, False) for f in self._fill_rows(request, user, taker_only)]
        return JSONResponse(_page(request, rows))

    async def activity(self, request: Request) -> Response:
        user = self._user(request, required=True)
        assert user is not None
        q = request.query_params
        types = {t.upper() for t in q.get("type", "").split(",") if t}
        rows = []
        if not types or "TRADE" in types:
            rows += [self._trade_row(f, True) for f in self._fill_rows(request, user, False)]
        if not types or "REDEEM" in types:
            rows += await self._redeem_rows(request, user)
        rows.sort(
            key=lambda row: int(row["timestamp"]),
            reverse=q.get("sort_direction", "DESC").upper() != "ASC",
        )
        return JSONResponse(_page(request, rows))

    async def _redeem_rows(self, request: Request, user: str) -> list[dict[str, Any]]:
        cids = {c.lower() for c in request.query_params.get("condition_id", "").split(",") if c}
        rows = []
        for r in await redemptions(self.s.rpc, user):
            market = self.s.markets.get(r.condition_id)
            if market is None or (cids and r.condition_id.lower() not in cids):
                continue
            rows.append(
                {
                    "type": "REDEEM",
                    "is_combo": False,
                    "proxy_wallet": user,
                    "condition_id": r.condition_id,
                    "usdc_size": _num(as_units(r.payout)),
                    "timestamp": r.timestamp,
                    "transaction_hash": r.tx_hash,
                    **self._describe(market, r.outcome),
                }
            )
        return rows

    async def positions(self, request: Request) -> Response:
        user = self._user(request, required=False)
        q = request.query_params
        cids = {c.lower() for c in q.get("condition_id", "").split(",") if c}
        if user is None and len(cids) != 1:
            raise Rejected("Provide user or exactly one condition_id")
        status = q.get("status", "").upper()
        held = await holdings(self.s, user, cids)
        rows = [self._position_row(h) for h in held if _status_matches(h, status)]
        return JSONResponse(_page(request, rows))

    def _position_row(self, h: Holding) -> dict[str, Any]:
        m, idx = h.market, h.outcome
        event = self.s.catalog.event_of(m)
        size = as_units(h.balance)
        avg = as_units(h.bought_usd) / as_units(h.bought) if h.bought else Decimal(0)
        entry = (size * avg).quantize(Decimal("0.000001"))
        fees = as_units(h.fees)
        value = size * h.price
        realized = as_units(h.sold_usd) - as_units(h.sold) * avg
        unrealized = value - entry
        cost = entry + fees
        return {
            "proxy_wallet": h.wallet,
            "token_id": str(h.token),
            "condition_id": m.condition_id,
            "current_size": _num(size),
            "avg_price": _num(avg.quantize(Decimal("0.000001"))),
            "entry_cost_usdc": _num(entry),
            "entry_fees_usdc": _num(fees),
            "total_cost_usdc": _num(cost),
            "current_price": _num(h.price),
            "current_value": _num(value),
            "total_size": _num(as_units(h.bought)),
            "realized_pnl": _num(realized),
            "unrealized_pnl": _num(unrealized),
            "total_pnl": _num(realized + unrealized),
            "percent_pnl": _percent(realized + unrealized, cost),
            "percent_realized_pnl": _percent(realized, cost),
            "status": "CLOSED" if h.balance == 0 else "REDEEMABLE" if h.resolved else "OPEN",
            "redeemable": h.resolved and h.balance > 0,
            "mergeable": h.mergeable,
            "negative_risk": m.spec.neg_risk,
            "archived": False,
            "verified": True,
            "name": "",
            "opposite_outcome": OUTCOMES[1 - idx],
            "event_id": str(event.id),
            "opposite_token_id": str(m.token_ids[1 - idx]),
            "end_date": m.spec.end_date_iso[:10],
            "last_event_at": h.last_at,
            "first_entry_at": h.first_at,
            **self._describe(m, idx),
        }

    def routes(self) -> list[Route]:
        """Return the v2 routes (mounted under /data-api, next to the v1 ones)."""
        return [
            Route("/v2/trades", self.trades),
            Route("/v2/activity", self.activity),
            Route("/v2/positions", self.positions),
        ]


def _percent(pnl: Decimal, cost: Decimal) -> float:
    return _num(pnl / cost * 100) if cost else 0.0


def _status_matches(h: Holding, status: str) -> bool:
    if status == "CLOSED":
        return h.balance == 0
    if h.balance == 0:
        return False
    return {
        "": True,
        "OPEN": not h.resolved,
        "REDEEMABLE": h.resolved,
        "REDEEMABLE_LOST": h.resolved and h.price == 0,
        "MERGEABLE": h.mergeable,
    }.get(status, False)
