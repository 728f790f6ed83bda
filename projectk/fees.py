"""The operator's taker fee, as the pair budgets for it (pure).

Polymarket charges takers (never makers) at match time: shares x r x (p(1-p))^e for a fill at
price p, with the market's rate r and exponent e (`GET /clob-markets/{condition}`, field `fd`).
A BUY pays it in pUSD on top of its cost; a SELL has it taken from its proceeds.

Invariants:
- `fee_bound_micro` is never below what the operator can charge for those shares at any price
  up to the limit: p(1-p) is largest at 0.5, so for a limit above 0.5 the bound takes p = 0.5 (a
  BUY may fill below its limit), and it is rounded up to the micro-unit (the operator floors).
- `buy_shares_within` returns the most shares (in `step` units) whose cost at the limit plus
  that bound fits the amount: a BUY's outlay, fee included, never exceeds what the pair held
  back for it. With no fee schedule both are plain cost.
- The charged fee itself is the venue's (its trade rows, the chain's OrderFilled event): the
  books record that, never this bound.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from projectk.models import FeeSchedule

HALF = Decimal("0.5")


def fee_per_share_bound(schedule: FeeSchedule, limit: Decimal) -> Decimal:
    """Return the most fee one share can cost when filled at a price up to `limit` (pUSD)."""
    if not schedule.charged:
        return Decimal(0)
    worst = min(limit, HALF)
    return schedule.rate * (worst * (1 - worst)) ** int(schedule.exponent)


def fee_bound_micro(schedule: FeeSchedule, shares_micro: int, limit: Decimal) -> int:
    """Return the most fee, in micro-pUSD, `shares_micro` can cost at prices up to `limit`."""
    exact = Decimal(shares_micro) * fee_per_share_bound(schedule, limit)
    return int(exact.to_integral_value(ROUND_CEILING))


def buy_outlay_micro(schedule: FeeSchedule, shares_micro: int, limit: Decimal) -> int:
    """Return the most pUSD a BUY of `shares_micro` at `limit` takes out of the wallet."""
    cost = int((Decimal(shares_micro) * limit).to_integral_value(ROUND_CEILING))
    return cost + fee_bound_micro(schedule, shares_micro, limit)


def buy_shares_within(
    schedule: FeeSchedule, amount_micro: int, limit: Decimal, step_micro: int
) -> int:
    """Return the most shares (a multiple of `step_micro`) a BUY at `limit` can take for
    `amount_micro` pUSD, fee included."""
    if amount_micro <= 0 or limit <= 0:
        return 0
    per_share = limit + fee_per_share_bound(schedule, limit)
    shares = int((Decimal(amount_micro) / per_share).to_integral_value(ROUND_FLOOR))
    shares -= shares % step_micro
    while shares > 0 and buy_outlay_micro(schedule, shares, limit) > amount_micro:
        shares -= step_micro  # rounding up the cost and the fee can cost one step
    return max(shares, 0)
