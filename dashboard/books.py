"""Profit and loss as the dashboard shows it, computed from ledger totals and marks.

Invariants:
- Pure functions of their inputs; integers in micro-units; prices `Decimal`; no float.
- Cost basis is the average cost, as in the pair's own books (`projectk.books`): a sale removes
  cost in proportion to the shares sold, realized PnL is proceeds minus that cost.
- The overview works from per-token sums (`TokenTotals`), so it takes the average over all of a
  token's buys; that equals the pair's books whenever buys precede the sales they close. The
  Pair page replays the pair's orders in time order (`replay`), which is exact.
- Marked PnL values what is held at the newest price the ledger saw for the token (its latest
  source fill), by the kernel's rule (`projectk.books.marked_pnl`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from adapters.ledger.records import OrderRecord
from adapters.ledger.summaries import TokenMark, TokenTotals
from projectk.books import marked_pnl
from projectk.models import Position, Side


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
    bought, cost = totals.bought_shares_micro, totals.bought_micro
    sold = min(totals.sold_shares_micro, bought)
    cost_out = cost * sold // bought if bought else 0
    held = Position(shares_micro=bought - sold, cost_micro=cost - cost_out)
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
        held = positions.get(order.token_id, Position())
        if order.side is Side.BUY:
            paid = order.notional_micro + order.fee_micro
            positions[order.token_id] = Position(
                shares_micro=held.shares_micro + order.filled_shares_micro,
                cost_micro=held.cost_micro + paid,
            )
            spent += paid
        else:
            sold = min(order.filled_shares_micro, held.shares_micro)
            cost_out = held.cost_micro * sold // held.shares_micro if held.shares_micro else 0
            positions[order.token_id] = Position(
                shares_micro=held.shares_micro - sold, cost_micro=held.cost_micro - cost_out
            )
            proceeds = order.notional_micro - order.fee_micro
            spent = max(0, spent - proceeds)
            realized += proceeds - cost_out
        points.append(BookPoint(at=order.updated_at, spent_micro=spent, realized_micro=realized))
    return points
