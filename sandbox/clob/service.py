"""The CLOB's business logic: admit, match, settle and cancel orders; keep the trade record.

Invariants: orders are processed one at a time under one lock (admission reads balances, so two
orders can never spend the same funds); an order id is its EIP-712 hash under the domain of the
market's exchange (ExchangeV3 for v2 markets) and is accepted once; every match is recorded as a
Trade, with the taker's fee (zero on markets without fees), and sent for settlement before the
response is returned; a BUY taker must hold its cost plus that fee; FOK/FAK remainders never rest;
a rejected order leaves no trace. What the venue's reads show follows the shared FaultConfig:
a trade is listed once ``trades_delay_s`` has passed since its match, and the order lookup may
forget matched FAK/FOK takers or closed orders, as the live venue's does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox import accounts
from sandbox.chain import CTF_EXCHANGE_V2, EXCHANGE_V3, NEG_RISK_EXCHANGE_V2
from sandbox.clob import funds, rules
from sandbox.clob.auth import ApiCreds, KeyStore
from sandbox.clob.catalog import Catalog
from sandbox.clob.engine import BookOrder, Engine, OrderStatus, OrderType, Plan
from sandbox.clob.faults import FaultConfig
from sandbox.clob.fees import taker_fee
from sandbox.clob.orders import (
    OrderFormatError,
    Side,
    SignatureType,
    SignedOrder,
    order_digest,
    parse_order,
)
from sandbox.clob.settlement import Settler, Trade
from sandbox.clob.wallets import order_signature_valid
from sandbox.markets import OUTCOMES, Market
from sandbox.rpc import Rpc


@dataclass
class ClobConfig:
    """Tunables of the CLOB."""

    chain_id: int = 137
    gtd_security_s: int = (
        60  # a GTD order expires this long before its expiration, as on Polymarket
    )
    page_limit: int = 100  # rows per page of /data/orders and /data/trades


class Rejected(Exception):
    """An order or request was refused; ``text`` is the real CLOB error text."""

    def __init__(self, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


class ClobService:
    """All CLOB state of one sandbox."""

    def __init__(
        self,
        rpc: Rpc,
        config: ClobConfig | None = None,
        clock: Callable[[], float] = time.time,
        faults: FaultConfig | None = None,
    ) -> None:
        self.rpc = rpc
        self.config = config or ClobConfig()
        self.clock = clock
        self.faults = faults or FaultConfig()
        self.engine = Engine()
        self.keys = KeyStore(self.config.chain_id)
        self.catalog = Catalog()
        self.markets: dict[str, Market] = self.catalog.markets
        self.by_token: dict[int, Market] = self.catalog.by_token
        self.trades: list[Trade] = []
        self.trade_by_id: dict[str, Trade] = {}
        self.last_price: dict[int, Decimal] = {}
        # builder code -> (maker bps, taker bps); codes not listed are passed through fee-free
        self.builder_fees: dict[bytes, tuple[int, int]] = {}
        self.settler = Settler(rpc, accounts.operator().address)
        self.lock = asyncio.Lock()

    def now(self) -> int:
        """Return the current time in whole seconds."""
        return int(self.clock())

    def add_market(self, market: Market) -> None:
        """Make a market tradable."""
        self.catalog.add(market)
        self.engine.pair(*market.token_ids)

    def exchange_for(self, market: Market) -> str:
        """Return the exchange that orders of this market are signed for and settle on."""
        if market.v2:
            return EXCHANGE_V3
        return NEG_RISK_EXCHANGE_V2 if market.spec.neg_risk else CTF_EXCHANGE_V2

    async def post(self, payload: dict[str, Any], creds: ApiCreds) -> dict[str, Any]:
        """Handle one POST /order payload from an authenticated caller."""
        if not isinstance(payload, dict) or not isinstance(payload.get("order"), dict):
            raise Rejected("Invalid order payload")
        try:
            order = parse_order(payload["order"])
        except OrderFormatError as exc:
            raise Rejected("Invalid order payload") from exc
        if payload.get("owner") != creds.api_key:
            raise Rejected(rules.OWNER_MISMATCH)
        wallet_signed = order.signature_type == SignatureType.POLY_1271
        if not wallet_signed and order.signer != creds.address:
            raise Rejected(rules.SIGNER_MISMATCH)
        order_type = rules.parse_order_type(payload.get("orderType", "GTC"))
        if order_type is None:
            raise Rejected(rules.INVALID_ORDER_TYPE)
        return await self.place(
            order, creds.api_key, order_type, bool(payload.get("postOnly")), creds.address
        )

    async def place(
        self,
        order: SignedOrder,
        owner: str,
        order_type: OrderType,
        post_only: bool = False,
        account: str | None = None,
    ) -> dict[str, Any]:
        """Admit, match and settle one signed order; return the POST /order response.

        ``owner`` is the API key and ``account`` the EOA behind it (the signer by default).
        """
        async with self.lock:
            taker = self._admit(order, owner, order_type, post_only, account or order.signer)
            plan = self.engine.plan(taker)
            fees = self._fees(taker, plan)
            await self._check_funds(taker, sum(fees))
            self._check_fill_rules(taker, plan)
            trades = await self._execute(taker, plan, fees)
            return self._response(taker, trades)

    def _admit(
        self, order: SignedOrder, owner: str, order_type: OrderType, post_only: bool, account: str
    ) -> BookOrder:
        market, order_id = self._identify(order, account)
        if post_only and order_type in (OrderType.FOK, OrderType.FAK):
            raise Rejected(rules.POST_ONLY_TYPE)
        now = self.now()
        error = (
            rules.expiration_error(order, order_type, now, self.config.gtd_security_s)
            or rules.price_error(order_id, order, market.spec.tick_size)
            or rules.size_error(order_id, order, order_type, market.spec.min_order_size)
        )
        if error:
            raise Rejected(error)
        price = rules.tick_price(order, market.spec.tick_size) or order.price()
        gtd = order_type == OrderType.GTD
        expires = order.expiration - self.config.gtd_security_s if gtd else None
        taker = BookOrder(order_id, order, owner, order_type, price, market.condition_id, now,
                          self.engine.next_seq(), expires, account=account)  # fmt: skip
        marketable = self.engine.would_cross(taker)
        if post_only and marketable:
            raise Rejected(rules.POST_ONLY_CROSSES)
        error = rules.marketable_buy_error(order, marketable)
        if error:
            raise Rejected(error)
        return taker

    def _identify(self, order: SignedOrder, account: str) -> tuple[Market, str]:
        # Market, signature and uniqueness come first: they decide whether the order id is real.
        market = self.by_token.get(order.token_id)
        if market is None:
            raise Rejected(rules.MARKET_NOT_FOUND)
        if market.closed:
            raise Rejected(rules.MARKET_CLOSED)
        exchange = self.exchange_for(market)
        order_id = "0x" + order_digest(order, self.config.chain_id, exchange).hex()
        if not order_signature_valid(order, self.config.chain_id, exchange, account):
            raise Rejected(rules.INVALID_SIGNATURE)
        if order_id in self.engine.orders:
            raise Rejected(rules.duplicated(order_id))
        return market, order_id

    def _fees(self, taker: BookOrder, plan: Plan) -> list[int]:
        # The taker's fee of each trade the plan settles as (same-token, then mint/merge).
        schedule = self.by_token[taker.order.token_id].spec.fee
        builder_bps = self.builder_fees.get(taker.order.builder, (0, 0))[1]
        return [
            taker_fee(schedule, [(f.shares, f.price) for f in part.fills], part.usd, builder_bps)
            for part in plan.by_kind()
        ]

    async def _check_funds(self, taker: BookOrder, fee: int) -> None:
        # A BUY needs its whole cost plus the fee of what trades now; a SELL pays fees from its
        # proceeds. Funds already reserved by the funder's live orders do not count.
        order = taker.order
        exchange = self.exchange_for(self.by_token[order.token_id])
        need = order.maker_amount + self.engine.locked(order.maker, order.side, order.token_id)
        token = None if order.side == Side.BUY else order.token_id
        if order.side == Side.BUY:
            need += fee
        if await funds.spendable(self.rpc, order.maker, token, exchange) < need:
            raise Rejected(rules.NOT_ENOUGH_BALANCE)

    def _check_fill_rules(self, taker: BookOrder, plan: Plan) -> None:
        if taker.order_type == OrderType.FOK and not plan.complete:
            raise Rejected(rules.FOK_NOT_FILLED)
        if taker.order_type == OrderType.FAK and not plan.fills:
            raise Rejected(rules.FAK_NO_MATCH)

    async def _execute(self, taker: BookOrder, plan: Plan, fees: list[int]) -> list[Trade]:
        trades = []
        market = self.by_token[taker.order.token_id]
        # same-token and mint/merge fills settle separately
        for part, fee in zip(plan.by_kind(), fees, strict=True):
            trade = Trade(str(uuid.uuid4()), taker, part.fills, market.condition_id,
                          OUTCOMES[market.outcome_of(taker.order.token_id)], self.now(),
                          self.exchange_for(market), fee, last_update=self.now(),
                          matched_at=self.clock())  # fmt: skip
            self.engine.apply(taker, part, trade.id)
            self.trades.append(trade)
            self.trade_by_id[trade.id] = trade
            await self.settler.submit(trade, self.now())
            trades.append(trade)
        if plan.fills:
            self._record_price(market, taker.order.token_id, plan.fills[-1].price)
        rests = taker.order_type in (OrderType.GTC, OrderType.GTD) and taker.remaining > 0
        if rests:
            self.engine.rest(taker)
        else:
            taker.status = OrderStatus.MATCHED if plan.fills else OrderStatus.CANCELED
            self.engine.record(taker)
        return trades

    def _record_price(self, market: Market, token: int, price: Decimal) -> None:
        other = market.token_ids[1 - market.outcome_of(token)]
        self.last_price[token] = price
        self.last_price[other] = 1 - price

    def _response(self, taker: BookOrder, trades: list[Trade]) -> dict[str, Any]:
        making = sum(t.taker_amounts()[0] for t in trades)
        taking = sum(t.taker_amounts()[1] for t in trades)
        return {
            "success": True,
            "errorMsg": "",
            "orderID": taker.id,
            "status": "matched" if trades else "live",
            "makingAmount": str(rules.as_units(making)) if trades else "",
            "takingAmount": str(rules.as_units(taking)) if trades else "",
            "transactionsHashes": [t.tx_hash for t in trades if t.tx_hash],
            "tradeIDs": [t.id for t in trades],
        }

    async def cancel(self, order_ids: list[str], address: str) -> dict[str, Any]:
        """Cancel the caller's live orders; report the rest as not cancelled."""
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        async with self.lock:
            for order_id in order_ids:
                order = self.engine.orders.get(order_id)
                if order is None or order.account != address:
                    not_canceled[order_id] = "order not found"
                elif not self.engine.cancel(order_id):
                    not_canceled[order_id] = "order can't be canceled, already matched or canceled"
                else:
                    canceled.append(order_id)
        return {"canceled": canceled, "not_canceled": not_canceled}

    def funder_of(self, address: str) -> str:
        """Return the funder (proxy, safe or deposit wallet) an account last traded from."""
        for order in reversed(list(self.engine.orders.values())):
            if order.account == address:
                return order.order.maker
        return address

    def live_orders_of(self, address: str) -> list[BookOrder]:
        """Return the caller's live orders in arrival order."""
        return [o for o in self.engine.live() if o.account == address]

    def indexed_trades(self) -> list[Trade]:
        """Return the trades the venue's index lists by now, oldest first."""
        delay = self.faults.trades_delay_s
        if delay <= 0:
            return self.trades
        cutoff = self.clock() - delay
        return [t for t in self.trades if t.matched_at <= cutoff]

    def lookup(self, order_id: str) -> BookOrder | None:
        """Return an order as GET /data/order finds it (None when unknown or forgotten)."""
        order = self.engine.orders.get(order_id)
        if order is None:
            return None
        if self.faults.hide_closed and order.status != OrderStatus.LIVE:
            return None
        taker = order.order_type in (OrderType.FAK, OrderType.FOK)
        if self.faults.hide_matched_taker and taker and order.trade_ids:
            return None
        return order

    def trades_of(self, address: str) -> list[Trade]:
        """Return indexed trades where ``address`` posted or funded any order, newest first."""
        mine = [
            t
            for t in self.indexed_trades()
            if address in (t.taker.order.maker, t.taker.account)
            or any(address in (f.maker.order.maker, f.maker.account) for f in t.fills)
        ]
        return list(reversed(mine))

    async def close_market(self, market: Market) -> None:
        """Cancel every live order of a market (it is resolving)."""
        async with self.lock:
            for order in self.engine.live():
                if order.market == market.condition_id:
                    self.engine.cancel(order.id, OrderStatus.CANCELED_MARKET_RESOLVED)
            market.closed = True

    async def tick(self) -> None:
        """Expire GTD orders and follow settlement receipts once."""
        async with self.lock:
            self.engine.expire(self.now())
        await self.settler.poll(self.now())
