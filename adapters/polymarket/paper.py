"""Paper venue: no key, no order sent; fills are simulated against a book and recorded.

Invariants:
- The simulation is a pure function of the order and the book it is given; in paper mode the book
  is the CLOB's current public book (`ClobBooks`), or the source's own price
  (`ReferencePriceBook`) when no CLOB is configured.
- The paper order id is derived from the pair, decision and round, so one intent is one paper order.
- Paper trades are recorded like real ones, with status PAPER and no transaction hash.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol

from projectk.messages import (
    BookLevel,
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
)
from projectk.models import OrderType, Side
from projectk.order_amounts import order_amounts


class BookSource(Protocol):
    """Where the paper venue reads books from."""

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the current book of a token."""
        ...


class ReferencePriceBook:
    """A book holding the source's own fill price as its only level, on both sides.

    Used by the orchestration demo and tests when no CLOB is reachable: it assumes the follower
    could have traded where the source just did, up to `depth_micro` shares.
    """

    def __init__(self, depth_micro: int = 1_000_000_000) -> None:
        self._depth = depth_micro

    async def quote(self, data: QuoteInput) -> Quote:
        """Return a one-level book at the reference price."""
        level = BookLevel(price=data.reference_price, size_micro=self._depth)
        return Quote(token_id=data.token_id, bids=[level], asks=[level])


def simulate_fill(intent_side: Side, shares: int, limit: Decimal, quote: Quote) -> tuple[int, int]:
    """Return (shares filled, pUSD notional) of a marketable order walking the book to a limit."""
    levels = quote.asks if intent_side is Side.BUY else quote.bids
    filled, notional = 0, Decimal(0)
    for level in levels:
        crosses = level.price <= limit if intent_side is Side.BUY else level.price >= limit
        if not crosses or filled >= shares:
            break
        take = min(level.size_micro, shares - filled)
        filled += take
        notional += Decimal(take) * level.price
    rounding = ROUND_CEILING if intent_side is Side.BUY else ROUND_FLOOR
    return filled, int(notional.to_integral_value(rounding))


class PaperVenue:
    """Simulates marketable orders against a book source; nothing is signed or sent."""

    def __init__(self, books: BookSource) -> None:
        self._books = books

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the book source's quote."""
        return await self._books.quote(data)

    async def sign(self, data: SignOrderInput) -> SignedOrder:
        """Return an unsigned paper order whose id derives from the pair, decision and round."""
        intent = data.intent
        amounts = order_amounts(
            intent.side, intent.shares_micro, intent.limit_price, data.tick_size, data.order_type
        )
        seed = f"paper:{intent.pair_id}:{intent.decision_id}:{data.round}"
        return SignedOrder(
            order_id=f"0x{hashlib.sha256(seed.encode()).hexdigest()}",
            order_type=data.order_type,
            token_id=intent.token_id,
            side=intent.side,
            limit_price=intent.limit_price,
            maker_amount_micro=amounts.maker_micro,
            taker_amount_micro=amounts.taker_micro,
            neg_risk=data.neg_risk,
        )

    async def post(self, data: PostOrderInput, attempt: int = 1) -> PostOrderResult:
        """Fill the order against the current book; FOK fills all or nothing; the rest is killed.

        Resting (GTC/GTD) paper orders are filled like FAK: a simulation cannot know who would
        have traded against them later.
        """
        del attempt  # a paper order has no side effect to look up
        order = data.order
        quote = await self._books.quote(
            QuoteInput(token_id=order.token_id, reference_price=order.limit_price)
        )
        filled, notional = simulate_fill(order.side, order.shares_micro, order.limit_price, quote)
        if order.order_type is OrderType.FOK and filled < order.shares_micro:
            filled, notional = 0, 0
        if filled == 0:
            return PostOrderResult(
                order_id=order.order_id, state=VenueOrderState.KILLED, reason="paper: no liquidity"
            )
        return PostOrderResult(
            order_id=order.order_id,
            state=VenueOrderState.MATCHED,
            trade_ids=[f"paper:{order.order_id}"],
            filled_shares_micro=filled,
            notional_micro=notional,
        )

    async def follow(self, data: FollowOrderInput) -> FollowOrderResult:
        """Return the simulated fill as one paper trade."""
        posted = data.posted
        if posted.filled_shares_micro == 0:
            return FollowOrderResult(order_id=posted.order_id, state=posted.state)
        trade = OrderTrade(
            trade_id=posted.trade_ids[0],
            shares_micro=posted.filled_shares_micro,
            price=(Decimal(posted.notional_micro) / Decimal(posted.filled_shares_micro)).quantize(
                Decimal("0.000001")
            ),
            notional_micro=posted.notional_micro,
            status="PAPER",
        )
        return FollowOrderResult(
            order_id=posted.order_id,
            state=VenueOrderState.MATCHED,
            filled_shares_micro=trade.shares_micro,
            notional_micro=trade.notional_micro,
            trades=[trade],
        )

    async def cancel_open(self, data: CancelOrdersInput) -> CancelOrdersResult:
        """Cancel nothing: paper orders never rest."""
        del data
        return CancelOrdersResult()
