"""Public CLOB reads: an order book plus the market's rules and state, as a `Quote`.

Invariants:
- Reads only, no key; used by the CLOB venue and by paper mode, which fills against the current
  book of the CLOB it is pointed at.
- The book and the market are parsed once into `schemas` models; an answer that does not fit
  is a retryable `VenueUnreadable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from adapters.polymarket.errors import read_failure, unreadable
from adapters.polymarket.schemas import ClobMarket, OrderBook, WireError, read_book, read_market
from adapters.polymarket.session import ClobCallError, ClobSessions, call
from projectk.messages import Quote, QuoteInput

MAX_KNOWN_TOKENS = 20_000  # bounds the condition memory of a long-running worker (a few MB)

A = TypeVar("A")
B = TypeVar("B")


class ClobBooks:
    """Read books and market state from a CLOB's public routes."""

    def __init__(self, sessions: ClobSessions) -> None:
        self._sessions = sessions
        # token id -> its market's condition id: fixed for a token's life, so known after the
        # first book, and the book and the market state can then be read at the same time.
        self._conditions: dict[str, str] = {}

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the token's book, tick, minimum size, neg-risk flag and whether it trades."""
        known = self._conditions.get(data.token_id)
        try:
            book, market = await self._read(data.token_id, known)
        except ClobCallError as err:
            raise read_failure(err) from None
        except WireError as err:
            raise unreadable(err) from None
        if book.market and book.market != known:
            if len(self._conditions) >= MAX_KNOWN_TOKENS:
                self._conditions.clear()
            self._conditions[data.token_id] = book.market
        open_ = market.takes_orders if market is not None else True  # unsaid: the CLOB decides
        return book.quote(data.token_id).model_copy(update={"accepting_orders": open_})

    async def _read(self, token_id: str, known: str | None) -> tuple[OrderBook, ClobMarket | None]:
        client = self._sessions.public()
        if known is None:
            book = read_book(await call(lambda: client.get_order_book(token_id)))
            market = None
        else:
            book_body, market_body = await _together(
                call(lambda: client.get_order_book(token_id)),
                call(lambda: client.get_market(known)),
            )
            book, market = read_book(book_body), read_market(market_body)
        if book.market and book.market != known:  # first sight (or, never expected, a new id)
            market = read_market(await call(lambda: client.get_market(book.market)))
        return book, market


async def _together(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Await two reads at once. The first failure is raised and the other read is cancelled, so
    nothing is left running (or failing unseen) after the activity has given up."""
    one, two = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        done, _ = await asyncio.wait({one, two}, return_when=asyncio.FIRST_EXCEPTION)
        for task in (one, two):
            error = task.exception() if task in done else None
            if error is not None:
                raise error
        return one.result(), two.result()
    finally:
        for task in (one, two):
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # marks a second failure as seen
