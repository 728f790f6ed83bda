"""The end of a demo: the drain, then a summary of what each pair did.

When the duration is up the source trader is stopped and its resting orders are cancelled, so the
source makes no fill after the block its last trade settles in (`last_block`). The drain then waits,
within a bound, until every pair has settled every fill of its source; the summary says, per pair,
how many fills it saw, how many decisions it mirrored, which fills it skipped and why, what it
spent, holds and gained.

Invariants:
- The drain and the summary only read (the chain tail's figures, the pairs' `state` query, the
  ledger); the drain ends at its bound whatever the pairs do.
- A pair has settled when the chain tail has read up to `last_block`, the pair has taken every fill
  of its source that the ledger holds, it has no mirror decision in flight and no source order
  waiting for one, and no ledger row is still open. Every fill it took is then covered by a
  decision of its source order (whose outcome the ledger holds) or skipped with its reason.
- Amounts stay integer micro-units until shown; pUSD and shares are shown with 2 decimals.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from pydantic import Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from adapters.chain import read_stats
from adapters.ledger import Ledger, OrderStatus, OutcomeCount
from control.pairs import PairError, PairService
from projectk.books import marked_pnl
from projectk.decisions import waiting_orders
from projectk.models import MICRO, Frozen, PairConfig, PairState

POLL_S = 1.0
# A pair's state can be unreadable for a moment (a query times out on a busy machine): the demo
# reports it and reads again, never ends on it.
READ_ERRORS = (PairError, RPCError, WorkflowQueryFailedError)
MIRRORED = (OrderStatus.FILLED, OrderStatus.PARTIAL)  # the venue took the order and filled some
OPEN = (OrderStatus.INTENT, OrderStatus.POSTED)


class PairOutcome(Frozen):
    """What one demo pair did, from its live state and the ledger."""

    pair_id: str
    status: str = ""
    problem: str = ""  # why the pair's state could not be read
    fills_seen: int = 0
    caught_up: bool = False  # the pair has taken every fill of its source the ledger holds
    in_flight: int = 0
    waiting: int = 0  # source orders with fills waiting for a decision
    orders: list[OutcomeCount] = Field(default_factory=list)
    spent_micro: int = 0
    shares_micro: int = 0
    realized_pnl_micro: int = 0
    marked_pnl_micro: int = 0

    def count(self, *statuses: OrderStatus) -> int:
        """Return how many of the pair's decisions and skipped fills are in one of `statuses`."""
        return sum(o.orders for o in self.orders if o.status in statuses)

    def reasons(self, status: OrderStatus) -> Counter[str]:
        """Return how many decisions or skipped fills ended in `status`, per reason."""
        return Counter(
            {o.reason or "no reason given": o.orders for o in self.orders if o.status is status}
        )

    @property
    def mirrored(self) -> int:
        """Return how many decisions the follower mirrored (its order filled, wholly or in part)."""
        return self.count(*MIRRORED)

    @property
    def settled(self) -> bool:
        """Tell whether every fill the pair saw is decided and settled, and none is left to take.

        A fill is either covered by a mirror decision of its source order or skipped; with no
        decision in flight, no order waiting and no ledger row still open, all have settled.
        """
        return (
            not self.problem
            and self.caught_up
            and self.in_flight == 0
            and self.waiting == 0
            and self.count(*OPEN) == 0
        )


class DemoSummary(Frozen):
    """How the demo ended: whether the drain finished, and each pair's outcome."""

    drained: bool
    waited_s: float
    pairs: list[PairOutcome]


async def drain(
    service: PairService,
    ledger: Ledger,
    pairs: list[PairConfig],
    *,
    last_block: int | None,
    stats_path: Path,
    timeout_s: float,
    poll_s: float = POLL_S,
) -> DemoSummary:
    """Wait, at most `timeout_s`, until every pair has settled every fill; return the summary.

    With `last_block` None (the chain head could not be read) the chain tail is not waited for.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        outcomes = [await read_pair(service, ledger, config) for config in pairs]
        synced = last_block is None or _tail_synced(stats_path) >= last_block
        waited = loop.time() - started
        if synced and all(o.settled for o in outcomes):
            return DemoSummary(drained=True, waited_s=waited, pairs=outcomes)
        if waited >= timeout_s:
            return DemoSummary(drained=False, waited_s=waited, pairs=outcomes)
        await asyncio.sleep(poll_s)


async def read_pair(service: PairService, ledger: Ledger, config: PairConfig) -> PairOutcome:
    """Return what a pair did so far, from its live state and the ledger."""
    orders = ledger.outcome_counts(config.pair_id)
    try:
        state = await service.state(config.pair_id)
    except READ_ERRORS as exc:
        return PairOutcome(pair_id=config.pair_id, problem=str(exc), orders=orders)
    newest = ledger.latest_fill_cursor(config.source)
    return PairOutcome(
        pair_id=config.pair_id,
        status=state.status.value,
        fills_seen=state.fills_seen,
        caught_up=newest is None or state.cursor.key() >= newest.key(),
        in_flight=len(state.in_flight),
        waiting=len(waiting_orders(state)),
        orders=orders,
        spent_micro=state.spent_micro,
        shares_micro=sum(p.shares_micro for p in state.positions.values()),
        realized_pnl_micro=state.realized_pnl_micro,
        marked_pnl_micro=_marked(ledger, state),
    )


def _marked(ledger: Ledger, state: PairState) -> int:
    # What the positions would gain or lose if sold at their token's newest source-fill price.
    marks = ledger.token_marks(state.positions)
    return sum(
        marked_pnl(held, marks[token].price if token in marks else None)
        for token, held in state.positions.items()
    )


def _tail_synced(stats_path: Path) -> int:
    # The newest block up to which the worker's chain tail has delivered every watched fill.
    stats = read_stats(stats_path)
    return stats.synced_block if stats is not None else -1


def summary_lines(summary: DemoSummary) -> list[str]:
    """Return the summary as the terminal shows it: two lines per pair."""
    if summary.drained:
        head = f"summary (every fill settled, after {summary.waited_s:.0f} s):"
    else:
        head = f"summary (not every fill settled within {summary.waited_s:.0f} s):"
    lines = [head]
    for pair in summary.pairs:
        lines += _pair_lines(pair)
    return lines


def _pair_lines(pair: PairOutcome) -> list[str]:
    if pair.problem:
        return [f"  {pair.pair_id}: {pair.problem}"]
    mirrored = f"{pair.mirrored} mirrored ({_filled_detail(pair)})"
    parts = [mirrored, *_others(pair), f"{pair.in_flight} in flight"]
    if pair.waiting:
        parts.append(f"{pair.waiting} source orders waiting")
    if not pair.settled:
        parts.append("still settling")
    return [
        f"  {pair.pair_id} ({pair.status}): {pair.fills_seen} source fills seen: "
        + ", ".join(parts),
        f"    spent {amount(pair.spent_micro)} pUSD, position {amount(pair.shares_micro)} shares, "
        f"PnL realized {signed(pair.realized_pnl_micro)} pUSD, "
        f"marked {signed(pair.marked_pnl_micro)} pUSD",
    ]


def _filled_detail(pair: PairOutcome) -> str:
    filled, partial = pair.count(OrderStatus.FILLED), pair.count(OrderStatus.PARTIAL)
    return f"{filled} filled, {partial} partially" if partial else f"{filled} filled"


def _others(pair: PairOutcome) -> list[str]:
    # Every terminal state but a mirror, with the reasons of failures and skips.
    parts = [
        f"{pair.count(status)} {status.value}"
        for status in (OrderStatus.UNFILLED, OrderStatus.CANCELLED)
        if pair.count(status)
    ]
    for status in (OrderStatus.FAILED, OrderStatus.SKIPPED):
        reasons = pair.reasons(status)
        listed = "; ".join(f"{reason} ({n})" for reason, n in sorted(reasons.items()))
        if listed or status is OrderStatus.SKIPPED:
            parts.append(
                f"{sum(reasons.values())} {status.value}" + (f": {listed}" if listed else "")
            )
    return parts


def where_to_look(ui_url: str, dashboard_url: str, data_dir: Path) -> list[str]:
    """Return the lines that say where the demo's workflows, pairs and logs can be seen."""
    return [
        "where to look:",
        f"  Temporal UI  {ui_url}",
        f"  dashboard    {dashboard_url}",
        f"  logs         {data_dir / 'demo.log'} (this demo; the worker's and the dashboard's "
        "beside it)",
        f"  The UI and the dashboard stop with the demo; `PROJECTK_DATA_DIR={data_dir} projectk "
        "dev up` shows this demo's workflows again (until the next demo).",
    ]


def amount(micro: int) -> str:
    """Return pUSD or share micro-units with 2 decimals, rounded half to even ('12.35')."""
    value = (Decimal(micro) / MICRO).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{abs(value):.2f}" if value == 0 else f"{value:.2f}"


def signed(micro: int) -> str:
    """Return micro-units with 2 decimals and a sign unless zero ('+1.20', '-0.35', '0.00')."""
    shown = amount(micro)
    return shown if shown == "0.00" or shown.startswith("-") else f"+{shown}"
