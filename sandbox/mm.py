"""The market-maker bot that keeps the sandbox's books liquid.

Invariants: it quotes through the same admission path as any client (orders signed for the
market's exchange domain, balance checks), only with GTC orders of its own account; on each
refresh it re-creates any missing level, so consumed liquidity comes back within one interval; it
never crosses its own quotes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from sandbox import accounts
from sandbox.clob.engine import OrderStatus, OrderType
from sandbox.clob.orders import Side
from sandbox.clob.service import ClobService, Rejected
from sandbox.clob.signing import limit_order
from sandbox.markets import Market

MM_OWNER = "sandbox-market-maker"
log = logging.getLogger(__name__)


@dataclass
class QuoteConfig:
    """How the bot quotes each market."""

    levels: int = 3
    size: Decimal = Decimal("100")
    interval_s: float = 1.0
    fair: dict[str, Decimal] = field(default_factory=dict)  # condition id -> Yes fair price
    skip: set[str] = field(default_factory=set)  # condition ids left unquoted (test markets)


class MarketMaker:
    """Quotes bids and asks around a fair price on both outcomes of every market."""

    def __init__(self, service: ClobService, config: QuoteConfig | None = None) -> None:
        self.service = service
        self.config = config or QuoteConfig()
        self.account = accounts.market_maker()
        self.address = self.account.address
        self._task: asyncio.Task[None] | None = None

    def _targets(self, market: Market) -> list[tuple[int, str, Decimal]]:
        tick = market.spec.tick_size
        fair_yes = self.config.fair.get(market.condition_id, Decimal("0.5"))
        out = []
        for token, fair in zip(market.token_ids, (fair_yes, 1 - fair_yes), strict=True):
            for i in range(1, self.config.levels + 1):
                bid, ask = fair - i * tick, fair + i * tick
                if bid >= tick:
                    out.append((token, "BUY", bid))
                if ask <= 1 - tick:
                    out.append((token, "SELL", ask))
        return out

    def _quoted(self) -> set[tuple[int, str, Decimal]]:
        return {
            (o.order.token_id, "BUY" if o.side == 0 else "SELL", o.price)
            for o in self.service.engine.live()
            if o.owner == MM_OWNER
        }

    async def refresh(self) -> None:
        """Place every missing quote once."""
        quoted = self._quoted()
        for market in list(self.service.markets.values()):
            if market.closed or market.condition_id in self.config.skip:
                continue
            for target in self._targets(market):
                if target not in quoted:
                    await self._quote(market, *target)

    async def _quote(self, market: Market, token: int, side: str, price: Decimal) -> None:
        order = limit_order(
            self.account.private_key,
            self.address,
            token,
            Side.BUY if side == "BUY" else Side.SELL,
            price,
            self.config.size,
            self.service.config.chain_id,
            self.service.exchange_for(market),
        )
        try:
            result = await self.service.place(order, MM_OWNER, OrderType.GTC)
        except Rejected as exc:
            log.debug("market maker quote rejected: %s", exc.text)
            return
        if result["status"] == "matched":
            log.info("market maker quote traded on arrival: %s", result["orderID"])

    async def run(self) -> None:
        """Refresh quotes forever."""
        while True:
            try:
                await self.refresh()
            except Exception:  # keep quoting through transient RPC errors
                log.exception("market maker refresh failed")
            await asyncio.sleep(self.config.interval_s)

    def start(self) -> None:
        """Start the background quoting task."""
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Stop quoting (resting quotes stay on the book)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def live_quotes(self) -> int:
        """Return the number of live quotes."""
        return sum(
            1
            for o in self.service.engine.orders.values()
            if o.owner == MM_OWNER and o.status == OrderStatus.LIVE
        )
