"""The CLOB venue: quote, sign, post, follow and cancel through the unmodified py-clob-client-v2.

Invariants:
- `sign` does no network I/O beyond opening the wallet's client once; it returns the signed order
  (public) whose EIP-712 hash is the order id. The key never leaves `ClobSessions`.
- `post` looks the order up by its hash before anything else when it may already have been sent
  (any retry, any unknown answer); re-posting the same signed order is its only retry, and
  "Duplicated." counts as posted. It never signs or posts a different order.
- Every post answer is classified (see `verdicts`): accepted -> result; FOK/FAK kill
  -> result with nothing filled; temporary or unknown -> retryable `ApplicationError` (429 with
  `next_retry_delay` = Retry-After); any other rejection -> non-retryable `OrderRejected`. An
  accepted answer whose status is unknown is looked up by hash like an unknown answer.
- Every answer is parsed once into a `schemas` model; an order whose status this code does not
  know is a retryable `VenueUnreadable`, never taken for a live or finished order.
- `follow` only reads and cancels, so it is safe to retry from the start; at the deadline it
  cancels what rests and re-reads the order, so fills that raced the cancel are counted. Its
  result's `trades` are the trades that count; failed settlements are in `failed_trades`.
- `follow` never reports less filled than the CLOB said matched (see `fills`): it keeps every
  trade id it was told of, waits a bounded time for their rows to appear and settle, and counts
  what the rows still lack at the limit price, marked `trades_missing`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderMarketCancelParams, OrderPayload, TradeParams
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import OrderDataV2, SignedOrderV2
from py_clob_client_v2.order_utils.model.side import Side as WireSide
from py_clob_client_v2.order_utils.model.signature_type_v2 import SignatureTypeV2
from temporalio import activity

from adapters.polymarket.book import ClobBooks
from adapters.polymarket.errors import (
    lookup_failure,
    post_failure,
    read_failure,
    unknown_state,
    unreadable,
)
from adapters.polymarket.fills import FillEvidence, followed
from adapters.polymarket.schemas import (
    OpenOrder,
    WireError,
    read_cancel,
    read_order,
    read_trades,
)
from adapters.polymarket.session import ClobCallError, ClobSessions, beat, call
from adapters.polymarket.verdicts import Verdict, classify_post_answer, classify_post_error
from projectk.messages import (
    CancelOrdersInput,
    CancelOrdersResult,
    FollowOrderInput,
    FollowOrderResult,
    OrderTrade,
    PostOrderInput,
    PostOrderResult,
    Quote,
    QuoteInput,
    SignedOrder,
    SignOrderInput,
    VenueOrderState,
    Wallet,
)
from projectk.models import Side, SignatureType
from projectk.order_amounts import order_amounts

ZERO32 = "0x" + "00" * 32
UNAUTHORIZED = 401
NOT_FOUND = 404
TRADE_SEARCH_SLACK_S = 120  # trades this long before an order's signing time are searched too
TRADE_SETTLE_WAIT_S = 20.0  # after the order is terminal, wait this long for trade receipts


class Venue(Protocol):
    """Where orders go."""

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the book and market rules of one token."""
        ...

    async def sign(self, data: SignOrderInput) -> SignedOrder:
        """Build and sign the order of an intent."""
        ...

    async def post(self, data: PostOrderInput, attempt: int = 1) -> PostOrderResult:
        """Post a signed order (a retry looks it up by hash first)."""
        ...

    async def follow(self, data: FollowOrderInput) -> FollowOrderResult:
        """Follow an accepted order to a terminal state, cancelling the rest at the deadline."""
        ...

    async def cancel_open(self, data: CancelOrdersInput) -> CancelOrdersResult:
        """Cancel a wallet's open orders."""
        ...


class ClobVenue:
    """Orders on a CLOB V2 (the live Polymarket CLOB or the sandbox)."""

    def __init__(
        self,
        sessions: ClobSessions,
        books: ClobBooks | None = None,
        trade_wait_s: float = TRADE_SETTLE_WAIT_S,
    ) -> None:
        self._sessions = sessions
        self._books = books or ClobBooks(sessions)
        self._trade_wait_s = trade_wait_s

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the book, tick size, minimum size, neg-risk flag and market state."""
        return await self._books.quote(data)

    async def sign(self, data: SignOrderInput) -> SignedOrder:
        """Build and sign the V2 order of an intent with the follower's key."""
        client = await self._client(data.wallet)
        return await asyncio.to_thread(self._build, client.builder.signer, data)

    def _build(self, signer: Any, data: SignOrderInput) -> SignedOrder:
        intent, wallet = data.intent, data.wallet
        amounts = order_amounts(
            intent.side, intent.shares_micro, intent.limit_price, data.tick_size, data.order_type
        )
        config = get_contract_config(self._sessions.endpoint.chain_id)
        exchange = config.neg_risk_exchange_v2 if data.neg_risk else config.exchange_v2
        builder = ExchangeOrderBuilderV2(exchange, self._sessions.endpoint.chain_id, signer)
        wallet_signed = wallet.signature_type is SignatureType.POLY_1271
        order = builder.build_signed_order(
            OrderDataV2(
                maker=wallet.funder,
                tokenId=intent.token_id,
                makerAmount=str(amounts.maker_micro),
                takerAmount=str(amounts.taker_micro),
                side=WireSide.BUY if intent.side is Side.BUY else WireSide.SELL,
                signer=wallet.funder if wallet_signed else signer.address(),
                signatureType=SignatureTypeV2(int(wallet.signature_type)),
                metadata=ZERO32,
                builder=ZERO32,
                expiration=str(data.expiration),
            )
        )
        order_id = builder.build_order_hash(builder.build_order_typed_data(order))
        return SignedOrder(
            order_id=order_id,
            order_type=data.order_type,
            token_id=intent.token_id,
            side=intent.side,
            limit_price=intent.limit_price,
            maker_amount_micro=amounts.maker_micro,
            taker_amount_micro=amounts.taker_micro,
            neg_risk=data.neg_risk,
            wire={
                k: str(int(v) if k in ("side", "signatureType") else v)
                for k, v in vars(order).items()
            },
        )

    async def post(self, data: PostOrderInput, attempt: int = 1) -> PostOrderResult:
        """Post a signed order once; on a retry or an unknown answer, look it up first."""
        order = data.order
        client = await self._client(data.wallet)
        if attempt > 1:
            found = await self._lookup(data)
            if found is not None:
                return found
        try:
            body = await call(lambda: client.post_order(_to_wire(order), order.order_type.value))
            verdict = classify_post_answer(body)
        except ClobCallError as err:
            verdict = classify_post_error(err.status, err.text, err.retry_after)
            if err.status == UNAUTHORIZED:
                self._sessions.forget(data.wallet)
        accepted = verdict.answer.accepted(order) if verdict.answer is not None else None
        if verdict.verdict is Verdict.ACCEPTED and accepted is not None:
            return accepted
        if verdict.verdict is Verdict.REJECTED and verdict.killed:
            return PostOrderResult(
                order_id=order.order_id, state=VenueOrderState.KILLED, reason=verdict.reason
            )
        if verdict.verdict is not Verdict.REJECTED or verdict.retryable:
            found = await self._lookup(data)  # unknown, duplicate or temporary: ask by hash
            if found is not None:
                return found
        if verdict.duplicate:
            # The CLOB says it holds this very order, but neither its lookup nor its trades show
            # it yet: accepted. The follow reads it (and searches the trades) until they do.
            return PostOrderResult(
                order_id=order.order_id, state=VenueOrderState.LIVE, reason=verdict.reason
            )
        raise post_failure(verdict)

    async def _lookup(self, data: PostOrderInput) -> PostOrderResult | None:
        # By hash first; an order the lookup does not return (a matched FAK often is not) may
        # still have traded: the account's trades since it was signed are searched for it.
        found = await self._order(data.wallet, data.order.order_id)
        if found is None:
            trades = await self._trades_naming(data.wallet, data.order)
            if not trades:
                return None
            activity.logger.info("order %s found in its trades", data.order.order_id)
            return PostOrderResult(
                order_id=data.order.order_id,
                state=VenueOrderState.MATCHED,
                reason="found in trades",
                trade_ids=list(dict.fromkeys(t.trade_id for t in trades)),
                filled_shares_micro=sum(t.shares_micro for t in trades),
            )
        state = _state_of(found)
        activity.logger.info("order %s found by hash (%s)", found.id, state.value)
        return PostOrderResult(
            order_id=found.id,
            state=state,
            reason="found by hash",
            trade_ids=list(found.associate_trades),
            filled_shares_micro=found.matched_shares_micro,
        )

    async def _order(self, wallet: Wallet, order_id: str) -> OpenOrder | None:
        # A lookup the CLOB refuses says nothing about the order: only "not found" (404, or
        # the null body the CLOB sends for an id it does not know) is an answer.
        client = await self._client(wallet)
        try:
            body = await call(lambda: client.get_order(order_id))
        except ClobCallError as err:
            if err.status == NOT_FOUND:
                return None
            if err.status == UNAUTHORIZED:
                self._sessions.forget(wallet)
            raise lookup_failure(err) from None
        try:
            return read_order(body)
        except WireError as err:
            raise unreadable(err) from None

    async def _trades_naming(self, wallet: Wallet, order: SignedOrder) -> list[OrderTrade]:
        # The wallet's trades in the order's token since the order was signed, as they fill it.
        client = await self._client(wallet)
        params = TradeParams(
            asset_id=order.token_id, after=_signed_at(order) - TRADE_SEARCH_SLACK_S
        )
        rows = await self._read(wallet, partial(client.get_trades, params))
        try:
            trades = read_trades(rows)
        except WireError as err:
            raise unreadable(err) from None
        fills = (t.fill_of(order.order_id) for t in trades)
        return [f for f in fills if f is not None]

    async def follow(self, data: FollowOrderInput) -> FollowOrderResult:
        """Poll the order and its trades until terminal; cancel the rest at the deadline."""
        order, posted = data.order, data.posted
        if posted.state is VenueOrderState.KILLED:
            return FollowOrderResult(order_id=order.order_id, state=VenueOrderState.KILLED)
        client = await self._client(data.wallet)
        evidence = FillEvidence.of_post(posted)
        cancelled = False
        while True:
            beat()
            found = await self._order(data.wallet, order.order_id)
            if found is not None:
                evidence.add(found)
            state = _state_of(found) if found else VenueOrderState.MISSING
            due = data.cancel_now or datetime.now(UTC) >= data.deadline
            if state is VenueOrderState.LIVE and due and not cancelled:
                await self._read(
                    data.wallet, lambda: client.cancel_order(OrderPayload(orderID=order.order_id))
                )
                cancelled = True
                continue  # re-read: a fill may have raced the cancel
            if state is not VenueOrderState.LIVE:
                break
            await asyncio.sleep(data.poll_interval_s)
        missing = state is VenueOrderState.MISSING
        trades = await self._settled_trades(data, evidence, missing)
        return followed(order, state, trades, cancelled, evidence)

    async def _settled_trades(
        self, data: FollowOrderInput, evidence: FillEvidence, missing: bool
    ) -> list[OrderTrade]:
        # Trades are indexed a moment after the match: read them (and the order, which may name
        # more of them) until they tell the whole settled story, or the wait runs out.
        # An order the lookup no longer returns and no answer named a trade of may have traded
        # all the same (its post's answer lost, a matched FAK missing from the lookup): the
        # account's trades are searched for it until the wait runs out.
        client = await self._client(data.wallet)
        loop = asyncio.get_running_loop()
        until = loop.time() + self._trade_wait_s
        while True:
            if missing and evidence.unproven():
                for found_trade in await self._trades_naming(data.wallet, data.order):
                    evidence.name(found_trade.trade_id)
            trades: list[OrderTrade] = []
            for trade_id in list(evidence.trade_ids):
                params = TradeParams(id=trade_id)
                rows = await self._read(
                    data.wallet, partial(client.get_trades, params, only_first_page=True)
                )
                trades.extend(_fills(rows, data.order.order_id, trade_id))
            searching = missing and evidence.unproven()
            if (evidence.settled(trades) and not searching) or loop.time() >= until:
                return trades
            beat()
            await asyncio.sleep(data.poll_interval_s)
            found = await self._order(data.wallet, data.order.order_id)
            if found is not None:
                evidence.add(found)

    async def cancel_open(self, data: CancelOrdersInput) -> CancelOrdersResult:
        """Cancel the wallet's open orders in the given tokens (all of them when none given)."""
        client = await self._client(data.wallet)
        answers = []
        if not data.token_ids:
            answers.append(await self._read(data.wallet, client.cancel_all))
        for token in data.token_ids:
            params = OrderMarketCancelParams(asset_id=token)
            answers.append(
                await self._read(data.wallet, partial(client.cancel_market_orders, params))
            )
        try:
            parsed = [read_cancel(a) for a in answers]
        except WireError as err:
            raise unreadable(err) from None
        return CancelOrdersResult(cancelled=[i for a in parsed for i in a.canceled])

    async def _client(self, wallet: Wallet) -> ClobClient:
        try:
            return await self._sessions.client(wallet)
        except ClobCallError as err:
            raise read_failure(err) from None

    async def _read(self, wallet: Wallet, fn: Callable[[], Any]) -> Any:
        try:
            return await call(fn)
        except ClobCallError as err:
            if err.status == UNAUTHORIZED:  # stale API credentials: derive them again on retry
                self._sessions.forget(wallet)
            raise read_failure(err) from None


def _to_wire(order: SignedOrder) -> SignedOrderV2:
    fields = dict(order.wire)
    return SignedOrderV2(
        **{
            **fields,
            "side": WireSide(int(fields["side"])),
            "signatureType": SignatureTypeV2(int(fields["signatureType"])),
        }
    )


def _state_of(found: OpenOrder) -> VenueOrderState:
    state = found.state
    if state is None:
        raise unknown_state(found)
    return state


def _signed_at(order: SignedOrder) -> int:
    # Unix seconds the order was signed at (its V2 `timestamp` is in milliseconds); now if absent.
    stamp = order.wire.get("timestamp", "")
    return int(stamp) // 1000 if stamp.isdigit() else int(datetime.now(UTC).timestamp())


def _fills(rows: object, order_id: str, trade_id: str) -> list[OrderTrade]:
    # The part of each row of this trade id that filled our order.
    try:
        trades = read_trades(rows)
    except WireError as err:
        raise unreadable(err) from None
    fills = (t.fill_of(order_id) for t in trades if t.id == trade_id)
    return [f for f in fills if f is not None]
