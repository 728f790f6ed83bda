"""Order activities over an injected venue (paper, sandbox CLOB, live CLOB).

Invariants:
- Venue answers are classified: a result (filled, partly filled, rejected) is returned; a
  temporary fault raises a retryable error; a rejection no retry can fix is returned with its
  reason, never retried.
- Executing the same intent twice yields the same order: venues derive the order from the
  intent deterministically, so a retried activity looks up or re-posts, never adds an order.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from projectk.messages import ExecuteOrderInput, ExecutionResult, Quote, QuoteInput


class Venue(Protocol):
    """Where orders go."""

    async def quote(self, data: QuoteInput) -> Quote:
        """Return the book and market rules of one token."""
        ...

    async def execute(self, data: ExecuteOrderInput) -> ExecutionResult:
        """Place the intent's order and follow it to a terminal state."""
        ...


class OrderActivities:
    """Quote and execute orders on the configured venue."""

    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    @activity.defn(name="quote")
    async def quote(self, data: QuoteInput) -> Quote:
        """Return the current book, tick size, minimum size and market state of a token."""
        return await self._venue.quote(data)

    @activity.defn(name="execute_order")
    async def execute_order(self, data: ExecuteOrderInput) -> ExecutionResult:
        """Place one order and follow it until it is filled, killed or cancelled."""
        result = await self._venue.execute(data)
        activity.logger.info(
            "order %s %s: filled %d of %d shares",
            result.order_id,
            data.intent.side.value,
            result.filled_shares_micro,
            data.intent.shares_micro,
        )
        return result
