"""Paper venue: no key, no order sent; fills are simulated against a book and recorded.

Invariants:
- The simulation is a pure function of the intent and the book it is given, so a retried
  activity produces the same fills.
- The paper order id is derived from the pair and fill, so one intent is one paper order.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol

from projectk.messages import BookLevel, ExecuteOrderInput, ExecutionResult, Quote, QuoteInput
from projectk.models import OrderType, Side


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
    """Simulates marketable orders against a book source."""

    def __init__(self, books: BookSource) -> None:
        self._books = books

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the book source's quote."""
        return await self._books.quote(data)

    async def execute(self, data: ExecuteOrderInput) -> ExecutionResult:
        """Fill the intent against the current book; FOK fills all or nothing."""
        intent = data.intent
        quote = await self._books.quote(
            QuoteInput(token_id=intent.token_id, reference_price=intent.limit_price)
        )
        filled, notional = simulate_fill(
            intent.side, intent.shares_micro, intent.limit_price, quote
        )
        if data.order_type is OrderType.FOK and filled < intent.shares_micro:
            filled, notional = 0, 0
        digest = hashlib.sha256(f"paper:{intent.pair_id}:{intent.fill_id}".encode()).hexdigest()
        return ExecutionResult(
            order_id=f"0x{digest}", filled_shares_micro=filled, notional_micro=notional
        )
