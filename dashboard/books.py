"""Profit and loss as the dashboard shows it, computed from ledger totals and marks.

Invariants:
- Pure functions of their inputs; integers in micro-units; prices `Decimal`; no float.
- Cost basis is the pair's own average-cost rule (`Position.buy`/`Position.sell`), and the Pair
  page accounts each fill with the books' own `projectk.books.trade`: nothing here re-derives it.
- The overview works from per-token sums (`TokenTotals`), so it takes the average over all of a
  token's buys; whenever buys precede the sales they close, that is the pair's books up to the
  rounding of each sale (at most one micro-unit per sale after the first). The Pair page replays
  the pair's orders in time order (`replay`), which is exact.
- Marked PnL values what is held at the newest price the ledger saw for the token (its latest
  source fill), by the kernel's rule (`projectk.books.marked_pnl`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from adapters.ledger import OrderRecord, TokenMark, TokenTotals
from projectk.books import marked_pnl, trade
from projectk.models import Position


@dataclass(frozen=True)
class PnL:
    """Realized and marked (unrealized) PnL, pUSD micro-units."""

    realized_micro: int = 0
    marked_micro: int = 0

    def __add__(self, other: PnL) -> PnL:
        return PnL(
            self.realized_micro + other.realized_micro, self.marked_micro + other.marked_micro
        )


@dataclass(frozen=True)
class BookPoint:
    """The pair's books right after one filled order."""

    at: datetime
    spent_micro: int  # net pUSD committed (budget used), floored at 0 like the pair's books
    realized_micro: int


def token_position(totals: TokenTotals) -> tuple[Position, int]:
    """Return (the position still held, realized PnL) from one token's summed buys and sales."""
    bought = Position().buy(totals.bought_shares_micro, totals.bought_micro)
    held, cost_out = bought.sell(totals.sold_shares_micro)
    return held, totals.sold_micro - cost_out


def pair_pnl(tokens: Iterable[TokenTotals], marks: Mapping[str, TokenMark]) -> PnL:
    """Return a pair's realized and marked PnL from its per-token totals."""
    total = PnL()
    for totals in tokens:
        held, realized = token_position(totals)
        mark = marks.get(totals.token_id)
        total = total + PnL(realized, marked_pnl(held, mark.price if mark else None))
    return total


def replay(orders: Iterable[OrderRecord]) -> list[BookPoint]:
    """Return the pair's books after each filled order, replaying them in time order."""
    positions: dict[str, Position] = {}
    spent = realized = 0
    points = []
    for order in sorted(orders, key=lambda o: (o.updated_at, o.id)):
        if order.filled_shares_micro == 0:
            continue
        done = trade(
            positions.get(order.token_id, Position()),
            order.side,
            order.filled_shares_micro,
            order.notional_micro,
            order.fee_micro,
        )
        positions[order.token_id] = done.position
        spent = max(0, spent + done.spent_micro)
        realized += done.realized_micro
        points.append(BookPoint(at=order.updated_at, spent_micro=spent, realized_micro=realized))
    return points
