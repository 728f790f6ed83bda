"""The pair's books: pure state transitions of a PairState.

Invariants:
- Each function returns a new state (and the alerts it implies); none mutates its input.
- A mirror report is applied at most once: a report for a decision not in flight is ignored.
  Its fills are added to the source order the decision mirrored (`decisions.settle_order`).
- Reserved budget is released exactly when its child reports; spent budget never goes below 0.
- Positions use average cost (`Position.buy`/`Position.sell`): a sale removes cost in proportion
  to the shares sold, and realized PnL is the proceeds minus that cost. `trade` accounts one
  fill; the dashboard's replay of the ledger uses it too, so both tell the same figures.
- A position is marked at a price rounded down to the micro-unit; without a price it is marked at
  cost (marked PnL 0), never at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from projectk.decisions import settle_order
from projectk.models import (
    AlertKind,
    AlertLevel,
    InFlight,
    MirrorOutcome,
    MirrorReport,
    PairState,
    PairStatus,
    Position,
    Side,
)

MAX_RECENT_FILL_IDS = 512  # dedup memory; the cursor and the child id guard beyond it


@dataclass(frozen=True)
class AlertSpec:
    """An alert a transition asks the workflow to raise."""

    dedup_key: str
    level: AlertLevel
    kind: AlertKind
    message: str


def roll_day(state: PairState, now: datetime) -> PairState:
    """Return the state with day counters reset if `now` is a new UTC day."""
    today = now.date().isoformat()
    if state.day == today:
        return state
    return state.model_copy(update={"day": today, "day_realized_pnl_micro": 0, "day_fills": 0})


def remember_fill(state: PairState, fill_id: str) -> PairState:
    """Return the state with a fill id added to the bounded dedup memory."""
    recent = [*state.recent_fill_ids, fill_id][-MAX_RECENT_FILL_IDS:]
    return state.model_copy(update={"recent_fill_ids": recent, "fills_seen": state.fills_seen + 1})


@dataclass(frozen=True)
class Trade:
    """What one filled order does to its token's position and to the pair's figures."""

    position: Position  # the position after the fill
    spent_micro: int  # change of net pUSD committed: + paid for a buy, - received for a sale
    realized_micro: int  # change of realized PnL: a sale's proceeds minus the cost it removed


def trade(
    held: Position, side: Side, shares_micro: int, notional_micro: int, fee_micro: int
) -> Trade:
    """Return what a fill of `shares_micro` for `notional_micro` and `fee_micro` does to `held`."""
    if side is Side.BUY:
        paid = notional_micro + fee_micro
        return Trade(held.buy(shares_micro, paid), paid, 0)
    left, cost_out = held.sell(shares_micro)
    proceeds = notional_micro - fee_micro
    return Trade(left, -proceeds, proceeds - cost_out)


def _trade(state: PairState, report: MirrorReport) -> tuple[dict[str, Position], int, int]:
    # Returns (positions, spent delta, realized pnl delta) of a report's fills.
    positions = dict(state.positions)
    if report.filled_shares_micro == 0:
        return positions, 0, 0
    held = positions.get(report.token_id, Position())
    done = trade(
        held, report.side, report.filled_shares_micro, report.notional_micro, report.fee_micro
    )
    if done.position.shares_micro == 0:
        positions.pop(report.token_id, None)
    else:
        positions[report.token_id] = done.position
    return positions, done.spent_micro, done.realized_micro


def apply_report(
    state: PairState, report: MirrorReport, now: datetime
) -> tuple[PairState, list[AlertSpec]]:
    """Return the state after a child's report, and the alerts it raises."""
    flight = state.in_flight.get(report.decision_id)
    if flight is None:
        return state, []
    state = roll_day(state, now)
    positions, spent_delta, pnl_delta = _trade(state, report)
    if report.side is Side.BUY:
        done = report.notional_micro + report.fee_micro  # pUSD the order's mirrors paid
    else:
        done = report.filled_shares_micro  # shares the order's mirrors sold
    state = settle_order(state, flight, done)
    in_flight = {k: v for k, v in state.in_flight.items() if k != report.decision_id}
    failures = _failure_streak(state.consecutive_failures, report.outcome)
    state = state.model_copy(
        update={
            "in_flight": in_flight,
            "reserved_micro": max(0, state.reserved_micro - flight.reserved_micro),
            "positions": positions,
            "spent_micro": max(0, state.spent_micro + spent_delta),
            "realized_pnl_micro": state.realized_pnl_micro + pnl_delta,
            "day_realized_pnl_micro": state.day_realized_pnl_micro + pnl_delta,
            "day_fills": state.day_fills + (1 if report.filled_shares_micro else 0),
            "consecutive_failures": failures,
        }
    )
    return _guard_transitions(state, report)


def stale_flights(state: PairState, now: datetime, after: timedelta) -> list[InFlight]:
    """Return the flights started longer than `after` ago, oldest first (their child is closed
    by its execution timeout by then, and never reported)."""
    stale = [f for f in state.in_flight.values() if now - f.started_at > after]
    return sorted(stale, key=lambda flight: (flight.started_at, flight.decision_id))


def stale_report(
    flight: InFlight, filled_shares_micro: int, notional_micro: int, fee_micro: int
) -> MirrorReport:
    """Return the report a pair makes for a child that never reported, from what the ledger
    recorded of its trades: what filled is kept, the reservation is released."""
    outcome = MirrorOutcome.PARTIAL if filled_shares_micro else MirrorOutcome.UNFILLED
    return MirrorReport(
        decision_id=flight.decision_id,
        outcome=outcome,
        token_id=flight.token_id,
        side=flight.side,
        filled_shares_micro=filled_shares_micro,
        notional_micro=notional_micro,
        fee_micro=fee_micro,
        reason="the mirror flow never reported; settled from its recorded trades",
    )


def _failure_streak(streak: int, outcome: MirrorOutcome) -> int:
    # A failure extends the streak; a skip or cancel leaves it; an order the venue took ends it.
    if outcome is MirrorOutcome.FAILED:
        return streak + 1
    if outcome in (MirrorOutcome.SKIPPED, MirrorOutcome.CANCELLED):
        return streak
    return 0


def _guard_transitions(state: PairState, report: MirrorReport) -> tuple[PairState, list[AlertSpec]]:
    alerts: list[AlertSpec] = []
    pair = state.config.pair_id
    guards = state.config.guards
    if report.outcome is MirrorOutcome.FAILED:
        alerts.append(
            AlertSpec(
                f"failed:{pair}:{report.decision_id}",
                AlertLevel.HIGH,
                AlertKind.FAILED,
                f"pair {pair}: mirror of {report.decision_id} failed: {report.reason}",
            )
        )
    active = state.status is PairStatus.ACTIVE
    if active and state.consecutive_failures >= guards.max_consecutive_failures:
        state = state.model_copy(
            update={
                "status": PairStatus.BLOCKED,
                "status_reason": f"{state.consecutive_failures} consecutive failures",
            }
        )
        alerts.append(
            AlertSpec(
                f"blocked:{pair}:{report.decision_id}",
                AlertLevel.CRITICAL,
                AlertKind.BLOCKED,
                f"pair {pair} blocked after {state.consecutive_failures} consecutive failures",
            )
        )
    limit = guards.daily_loss_limit_micro
    loss = -state.day_realized_pnl_micro
    if state.status is PairStatus.ACTIVE and limit is not None and loss > limit:
        state = state.model_copy(
            update={"status": PairStatus.PAUSED, "status_reason": "daily loss limit reached"}
        )
        alerts.append(
            AlertSpec(
                f"loss-limit:{pair}:{state.day}",
                AlertLevel.CRITICAL,
                AlertKind.PAUSED,
                f"pair {pair} paused: daily loss limit reached",
            )
        )
    return state, alerts


def mark_value(shares_micro: int, price: Decimal) -> int:
    """Return the pUSD micro-units `shares_micro` are worth at `price` (rounded down)."""
    return int((Decimal(shares_micro) * price).to_integral_value(rounding=ROUND_FLOOR))


def marked_pnl(position: Position, mark: Decimal | None) -> int:
    """Return what a position would gain or lose if sold at `mark` (0 without a mark)."""
    if mark is None:
        return 0
    return mark_value(position.shares_micro, mark) - position.cost_micro
