"""Admin routes under /_sandbox: faults, market creation and resolution, reorgs, sandbox info.

Invariants: these routes exist only in the sandbox (the real CLOB has none); they are never
subject to fault injection; resolving a market first removes its orders from the books, then
reports payouts on chain, so no order can trade on a resolved market; a reorg that cannot be
done is refused (400) before the chain is touched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clob.faults import FaultConfig
from sandbox.clob.service import ClobService, Rejected
from sandbox.markets import OUTCOMES, FeeSchedule, Market, MarketSpec, MarketVersion
from sandbox.reorg import ReorgError

CreateMarket = Callable[[MarketSpec, Decimal | None, bool], Awaitable[Market]]
ResolveMarket = Callable[[Market, int], Awaitable[str]]
Split = Callable[[Market, str, int], Awaitable[None]]
Fund = Callable[[str, int, int | None, bool], Awaitable[None]]
Info = Callable[[], dict[str, Any]]
Reorg = Callable[[int, list[str], int], Awaitable[dict[str, Any]]]
MICRO = Decimal(1_000_000)
WEI = Decimal(10**18)


@dataclass(frozen=True)
class AdminActions:
    """What the admin routes may do to the sandbox."""

    create: CreateMarket
    resolve: ResolveMarket
    split: Split
    fund: Fund
    info: Info
    reorg: Reorg


class AdminRoutes:
    """Sandbox-only control routes."""

    def __init__(self, service: ClobService, faults: FaultConfig, actions: AdminActions) -> None:
        self.s = service
        self.faults = faults
        self.act = actions

    async def get_faults(self, request: Request) -> Response:
        return JSONResponse(self.faults.to_json())

    async def set_faults(self, request: Request) -> Response:
        body = await request.json()
        if body.get("reset"):
            body.pop("reset")
            self.faults.update(FaultConfig().to_json())
        try:
            self.faults.update(body)
        except ValueError as exc:
            raise Rejected(str(exc)) from exc
        return JSONResponse(self.faults.to_json())

    async def create_market(self, request: Request) -> Response:
        body = await request.json()
        spec = market_spec(body)
        if spec.slug in (m.spec.slug for m in self.s.markets.values()):
            raise Rejected(f"market {spec.slug} already exists")
        fair = body.get("fair_price")
        market = await self.act.create(
            spec, Decimal(str(fair)) if fair is not None else None, bool(body.get("quote", True))
        )
        return JSONResponse(market.to_json())

    async def split(self, request: Request) -> Response:
        body = await request.json()
        market = self.find(str(body["market"]))
        amount = int(Decimal(str(body["amount"])) * MICRO)
        await self.act.split(market, str(body["address"]), amount)
        return JSONResponse({"ok": True})

    async def fund(self, request: Request) -> Response:
        body = await request.json()
        pusd = int(Decimal(str(body.get("pusd", "0"))) * MICRO)
        pol = body.get("pol")
        await self.act.fund(
            str(body["address"]),
            pusd,
            int(Decimal(str(pol)) * WEI) if pol is not None else None,
            bool(body.get("approve", False)),
        )
        return JSONResponse({"ok": True})

    def find(self, key: str) -> Market:
        """Find a market by condition id, slug or Gamma id."""
        market = self.s.catalog.find(key)
        if market is None:
            raise Rejected(f"market {key} not found", 404)
        return market

    async def resolve(self, request: Request) -> Response:
        body = await request.json()
        market = self.find(str(body["market"]))
        outcome = str(body["outcome"]).capitalize()
        if outcome not in OUTCOMES:
            raise Rejected("outcome must be Yes or No")
        if market.winner is not None:
            raise Rejected("market already resolved")
        tx = await self.act.resolve(market, OUTCOMES.index(outcome))
        return JSONResponse({"market": market.to_json(), "transaction_hash": tx})

    async def builders(self, request: Request) -> Response:
        body = await request.json()
        code = bytes.fromhex(str(body["code"]).removeprefix("0x"))
        if len(code) != 32:
            raise Rejected("builder code must be 32 bytes")
        self.s.builder_fees[code] = (int(body.get("maker_bps", 0)), int(body.get("taker_bps", 0)))
        return JSONResponse({"ok": True})

    async def info(self, request: Request) -> Response:
        return JSONResponse(self.act.info())

    async def reorg(self, request: Request) -> Response:
        body = await request.json()
        try:
            depth, shift = int(body["depth"]), int(body.get("shift", 1))
            drop = [str(h) for h in body.get("drop") or []]
        except (KeyError, TypeError, ValueError) as exc:
            raise Rejected("reorg needs an integer depth and shift, and a drop list") from exc
        try:
            return JSONResponse(await self.act.reorg(depth, drop, shift))
        except ReorgError as exc:
            raise Rejected(str(exc)) from exc

    def routes(self) -> list[Route]:
        """Return the admin routes (mounted under /_sandbox)."""
        return [
            Route("/faults", self.get_faults),
            Route("/faults", self.set_faults, methods=["POST"]),
            Route("/markets", self.create_market, methods=["POST"]),
            Route("/resolve", self.resolve, methods=["POST"]),
            Route("/split", self.split, methods=["POST"]),
            Route("/fund", self.fund, methods=["POST"]),
            Route("/builders", self.builders, methods=["POST"]),
            Route("/info", self.info),
            Route("/reorg", self.reorg, methods=["POST"]),
        ]


def market_spec(body: dict[str, Any]) -> MarketSpec:
    """Read a market to create from the admin route's JSON body."""
    try:
        version = MarketVersion(str(body.get("version", "v1")).lower())
    except ValueError as exc:
        raise Rejected("version must be v1 or v2") from exc
    event_slug = str(body.get("event_slug") or "")
    neg_risk = bool(body.get("neg_risk", False)) or bool(event_slug)
    if neg_risk and version == MarketVersion.V2:
        raise Rejected("neg-risk markets are v1 markets in the sandbox")
    return MarketSpec(
        question=str(body["question"]),
        slug=str(body.get("slug") or body["question"]),
        tick_size=Decimal(str(body.get("tick_size", "0.01"))),
        min_order_size=Decimal(str(body.get("min_order_size", "5"))),
        neg_risk=neg_risk,
        version=version,
        fee=FeeSchedule(Decimal(str(body.get("fee_rate", "0"))), int(body.get("fee_exponent", 1))),
        event_slug=event_slug,
        event_title=str(body.get("event_title") or ""),
        group_item_title=str(body.get("group_item_title") or ""),
    )
