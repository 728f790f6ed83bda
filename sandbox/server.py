"""The sandbox server process: deploy on anvil, create demo markets, serve the CLOB and Data API.

Run by ``sandbox.runtime`` as ``python -m sandbox.server --rpc-url ... --ready-file ...``.
Invariants: it binds 127.0.0.1 only; setup runs with anvil automining and the configured block time
is switched on afterwards; the ready file is written (atomically) only once the server accepts
connections, and contains everything ``sandbox status --json`` prints; one FaultConfig is shared
by the fault middleware, the CLOB service and the JSON-RPC proxy (/rpc); a reorg runs with the
service's lock and the settler quiet, so no order is matched or settled while the chain moves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from starlette.routing import BaseRoute, Mount, Route

from sandbox import accounts
from sandbox.chain import (
    CHAIN_ID,
    PUSD_UNIT,
    Contracts,
    approve_as,
    approve_exchanges,
    deploy,
    fund,
)
from sandbox.clob.admin import AdminActions, AdminRoutes
from sandbox.clob.app import create_app
from sandbox.clob.dataapi import DataApiRoutes
from sandbox.clob.dataapi_v2 import DataApiV2Routes
from sandbox.clob.faults import FaultConfig, FaultMiddleware
from sandbox.clob.gamma import GammaRoutes
from sandbox.clob.service import ClobConfig, ClobService
from sandbox.markets import (
    FeeSchedule,
    Market,
    MarketSpec,
    MarketVersion,
    create_market,
    resolve,
    split,
)
from sandbox.mm import MarketMaker, QuoteConfig
from sandbox.reorg import reorg
from sandbox.rpc import Rpc
from sandbox.rpc_proxy import RpcProxy

_ELECTION = "sandbox-election"
_ELECTION_TITLE = "Who will win the sandbox election?"


def _candidate(name: str) -> MarketSpec:
    # one outcome of the neg-risk demo event (a v1 market on the NegRisk exchange)
    return MarketSpec(
        f"Will {name} win the sandbox election?",
        f"{_ELECTION}-{name.lower()}",
        neg_risk=True,
        event_slug=_ELECTION,
        event_title=_ELECTION_TITLE,
        group_item_title=name,
    )


# v1 markets with and without fees, a v2 market with fees, and a three-outcome neg-risk event.
DEMO_MARKETS = (
    (MarketSpec("Will the ProjectK demo market resolve Yes?", "projectk-demo-yes"), Decimal("0.5")),
    (
        MarketSpec(
            "Will it rain in the sandbox tomorrow?",
            "sandbox-rain",
            fee=FeeSchedule(Decimal("0.05"), 1),
        ),
        Decimal("0.3"),
    ),
    (MarketSpec("Will the sandbox benchmark beat 100 orders/s?", "sandbox-bench"), Decimal("0.7")),
    (
        MarketSpec(
            "Will the sandbox settle a Protocol V2 market?",
            "sandbox-v2-demo",
            version=MarketVersion.V2,
            fee=FeeSchedule(Decimal("0.07"), 1),
        ),
        Decimal("0.6"),
    ),
    (_candidate("Alice"), Decimal("0.5")),
    (_candidate("Bob"), Decimal("0.3")),
    (_candidate("Carol"), Decimal("0.2")),
)
DEMO_PUSD = 10_000 * PUSD_UNIT
MM_PUSD = 200_000 * PUSD_UNIT
MARKET_LIQUIDITY = 20_000 * PUSD_UNIT

log = logging.getLogger(__name__)


@dataclass
class ServerOptions:
    """Command-line options of the server process."""

    rpc_url: str
    ready_file: Path
    port: int = 0
    block_time_s: float = 0.0
    demo_markets: bool = True
    market_maker: bool = True
    mm_interval_s: float = 1.0
    gtd_security_s: int = 60
    page_limit: int = 100
    faults: dict[str, Any] = field(default_factory=dict)


class SandboxServer:
    """Owns the RPC client, the CLOB service and the market maker."""

    def __init__(self, opts: ServerOptions) -> None:
        self.opts = opts
        self.rpc = Rpc(opts.rpc_url)
        self.faults = FaultConfig()
        self.faults.update(opts.faults)
        self.service = ClobService(
            self.rpc, ClobConfig(CHAIN_ID, opts.gtd_security_s, opts.page_limit), faults=self.faults
        )
        self.rpc_proxy = RpcProxy(opts.rpc_url, self.faults)
        self.mm = MarketMaker(self.service, QuoteConfig(interval_s=opts.mm_interval_s))
        self.contracts = Contracts()
        self.clob_url = ""

    async def setup(self) -> None:
        """Deploy, fund and approve the well-known accounts, create the demo markets."""
        self.contracts = await deploy(self.rpc)
        mm = accounts.market_maker().address
        await fund(self.rpc, mm, MM_PUSD)
        await approve_exchanges(self.rpc, mm)
        for acct in accounts.demo_accounts():
            await fund(self.rpc, acct.address, DEMO_PUSD)
            await approve_exchanges(self.rpc, acct.address)
        if self.opts.demo_markets:
            for spec, fair in DEMO_MARKETS:
                await self.create_market(spec, fair)
        if self.opts.block_time_s > 0:
            # anvil takes whole seconds here
            seconds = max(1, round(self.opts.block_time_s))
            await self.rpc.request("evm_setIntervalMining", [seconds])

    async def create_market(
        self, spec: MarketSpec, fair: Decimal | None, quote: bool = True
    ) -> Market:
        """Create a market on chain, list it on the CLOB and (optionally) let the bot quote it."""
        market = await create_market(self.rpc, spec, MARKET_LIQUIDITY if quote else 0)
        self.service.add_market(market)
        if fair is not None:
            self.mm.config.fair[market.condition_id] = fair
        if not quote:
            self.mm.config.skip.add(market.condition_id)
        elif self.opts.market_maker:
            await self.mm.refresh()
        return market

    async def split(self, market: Market, owner: str, amount_micro: int) -> None:
        """Give an (unlocked) account ``amount_micro`` of both outcome tokens of a market."""
        await split(self.rpc, owner, market, amount_micro)

    async def fund(self, address: str, pusd_micro: int, pol_wei: int | None, approve: bool) -> None:
        """Mint pUSD to and/or set the POL balance of any address; optionally approve exchanges."""
        await fund(self.rpc, address, pusd_micro, pol_wei)
        if approve:
            await approve_as(self.rpc, address)

    async def resolve(self, market: Market, winner: int) -> str:
        """Close the market's books and report payouts on chain."""
        await self.service.close_market(market)
        return await resolve(self.rpc, market, winner)

    async def reorg(self, depth: int, drop: list[str], shift: int) -> dict[str, Any]:
        """Reorganise the chain (see ``sandbox.reorg``); the trades follow their transactions."""
        service = self.service
        async with service.lock, service.settler.quiet():
            result = await reorg(self.rpc, depth, set(drop), shift, self.opts.block_time_s)
            service.settler.follow(service.trades, result, service.now())
        return result.to_json()

    def info(self) -> dict[str, Any]:
        """Return the public description of this sandbox."""

        def acct(a: accounts.TestAccount) -> dict[str, Any]:
            return {"index": a.index, "address": a.address, "private_key": a.private_key}

        return {
            "chain_id": CHAIN_ID,
            "rpc_url": self.opts.rpc_url,
            "rpc_proxy_url": f"{self.clob_url}/rpc",
            "clob_url": self.clob_url,
            "data_api_url": f"{self.clob_url}/data-api",
            "gamma_url": f"{self.clob_url}/gamma-api",
            "admin_url": f"{self.clob_url}/_sandbox",
            "block_time_s": self.opts.block_time_s,
            "contracts": self.contracts.as_dict(),
            "markets": [m.to_json() for m in self.service.markets.values()],
            "accounts": {
                "operator": acct(accounts.operator()),
                "oracle": acct(accounts.oracle()),
                "market_maker": acct(accounts.market_maker()),
                "demo": [acct(a) for a in accounts.demo_accounts()],
            },
            "faults": self.faults.to_json(),
        }

    def app(self) -> FaultMiddleware:
        """Build the ASGI app: CLOB routes, /rpc, /data-api, /gamma-api, /_sandbox, with faults."""
        actions = AdminActions(
            self.create_market, self.resolve, self.split, self.fund, self.info, self.reorg
        )
        admin = AdminRoutes(self.service, self.faults, actions)
        data_api = DataApiRoutes(self.service).routes() + DataApiV2Routes(self.service).routes()
        mounts: list[BaseRoute] = [
            Route("/rpc", self.rpc_proxy.handle, methods=["POST"]),
            Mount("/data-api", routes=data_api),
            Mount("/gamma-api", routes=GammaRoutes(self.service).routes()),
            Mount("/_sandbox", routes=admin.routes()),
        ]
        return FaultMiddleware(create_app(self.service, mounts), self.faults)

    async def _ticker(self) -> None:
        while True:
            try:
                await self.service.tick()
            except Exception:  # keep following receipts through transient RPC errors
                log.exception("sandbox tick failed")
            await asyncio.sleep(0.2)

    async def serve(self) -> None:
        """Set up, bind, write the ready file and serve until cancelled."""
        await self.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this; without it small responses wait ~40 ms (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self.opts.port))
        self.clob_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off", access_log=False)
        server = _Server(config)
        ticker = asyncio.create_task(self._ticker())
        if self.opts.market_maker:
            self.mm.start()
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        await server.ready.wait()
        _write_atomic(self.opts.ready_file, self.info())
        try:
            await serving
        finally:
            ticker.cancel()
            await self.mm.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await self.rpc.aclose()
            await self.rpc_proxy.aclose()


class _Server(uvicorn.Server):
    # uvicorn has no "listening" event; set one after its startup completes.
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def parse_args(argv: list[str] | None = None) -> ServerOptions:
    """Parse the server command line."""
    p = argparse.ArgumentParser(prog="python -m sandbox.server")
    p.add_argument("--rpc-url", required=True)
    p.add_argument("--ready-file", required=True, type=Path)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--block-time", type=float, default=0.0)
    p.add_argument("--no-demo-markets", action="store_true")
    p.add_argument("--no-market-maker", action="store_true")
    p.add_argument("--mm-interval", type=float, default=1.0)
    p.add_argument("--gtd-security", type=int, default=60)
    p.add_argument("--page-limit", type=int, default=100)
    p.add_argument("--faults", default="{}")
    a = p.parse_args(argv)
    return ServerOptions(
        a.rpc_url,
        a.ready_file,
        a.port,
        a.block_time,
        not a.no_demo_markets,
        not a.no_market_maker,
        a.mm_interval,
        a.gtd_security,
        a.page_limit,
        json.loads(a.faults),
    )


def main(argv: list[str] | None = None) -> None:
    """Run the server process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(SandboxServer(parse_args(argv)).serve())


if __name__ == "__main__":
    main()
