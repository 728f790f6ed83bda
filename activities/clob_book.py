"""Public CLOB reads: an order book plus the market's rules and state, as a `Quote`.

Invariant: reads only, no key; used by the CLOB venue and by paper mode, which fills against the
current book of the CLOB it is pointed at.
"""

from __future__ import annotations

from activities.clob_errors import read_failure
from activities.clob_session import ClobCallError, ClobSessions, call
from projectk import clob_responses as wire
from projectk.messages import Quote, QuoteInput


class ClobBooks:
    """Read books and market state from a CLOB's public routes."""

    def __init__(self, sessions: ClobSessions) -> None:
        self._sessions = sessions

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the token's book, tick, minimum size, neg-risk flag and whether it trades."""
        client = self._sessions.public()
        try:
            book = await call(lambda: client.get_order_book(data.token_id))
            quote = wire.parse_book(book, data.token_id)
            condition = book.get("market") if isinstance(book, dict) else None
            market = await call(lambda: client.get_market(condition)) if condition else None
        except ClobCallError as err:
            raise read_failure(err) from None
        return quote.model_copy(update={"accepting_orders": wire.market_open(market)})
