"""Public CLOB reads: an order book plus the market's rules and state, as a `Quote`.

Invariant: reads only, no key; used by the CLOB venue and by paper mode, which fills against the
current book of the CLOB it is pointed at.
"""

from __future__ import annotations

import asyncio

from activities.clob_errors import read_failure
from activities.clob_session import ClobCallError, ClobSessions, call
from projectk import clob_responses as wire
from projectk.messages import Quote, QuoteInput

MAX_KNOWN_TOKENS = 100_000  # bounds the condition memory of a long-running worker


class ClobBooks:
    """Read books and market state from a CLOB's public routes."""

    def __init__(self, sessions: ClobSessions) -> None:
        self._sessions = sessions
        # token id -> its market's condition id: fixed for a token's life, so known after the
        # first book, and the book and the market state can then be read at the same time.
        self._conditions: dict[str, str] = {}

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the token's book, tick, minimum size, neg-risk flag and whether it trades."""
        client = self._sessions.public()
        known = self._conditions.get(data.token_id)
        try:
            if known is None:
                book = await call(lambda: client.get_order_book(data.token_id))
                market = None
            else:
                book, market = await asyncio.gather(
                    call(lambda: client.get_order_book(data.token_id)),
                    call(lambda: client.get_market(known)),
                )
            condition = book.get("market") if isinstance(book, dict) else None
            if condition and condition != known:  # first sight (or, never expected, a new id)
                market = await call(lambda: client.get_market(condition))
        except ClobCallError as err:
            raise read_failure(err) from None
        quote = wire.parse_book(book, data.token_id)
        if isinstance(condition, str) and condition and condition != known:
            if len(self._conditions) >= MAX_KNOWN_TOKENS:
                self._conditions.clear()
            self._conditions[data.token_id] = condition
        return quote.model_copy(update={"accepting_orders": wire.market_open(market)})
