"""The operator's taker fee, pure: what a taker pays for one trade, in micro-pUSD.

Invariants (the sandbox's definition; see NOTES.md for what is and is not confirmed):
- only takers pay; makers' fees are always 0;
- the fee of a trade is sum over its fills of ``shares x rate x (p(1-p))^exponent`` where p is the
  price the taker got on that fill (the maker's price, or 1 - it for a mint/merge fill), computed
  exactly in Decimal and then floored to 5 decimal places (a multiple of 10 micro-pUSD);
- a builder code configured with a taker rate adds ``cash x rate`` (floored to the micro-unit,
  the SDK's flat builder fee) to the taker's fee; unknown codes add nothing;
- the total is capped at ``MAX_FEE_RATE_BPS`` of the trade's cash value (pUSD spent by a BUY,
  received by a SELL), floored to the micro-unit, the most the exchange contracts accept;
- a BUY pays it on top of its cost; a SELL receives its proceeds less the fee.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

from sandbox.chain import MAX_FEE_RATE_BPS
from sandbox.markets import FeeSchedule

MICRO = 1_000_000
FEE_QUANTUM = Decimal("0.00001")  # fees are floored to 5 decimals of pUSD


def fee_per_share(schedule: FeeSchedule, price: Decimal) -> Decimal:
    """Return the exact fee for one share traded at ``price`` (pUSD)."""
    if not schedule.enabled:
        return Decimal(0)
    return schedule.rate * (price * (1 - price)) ** schedule.exponent


def uncapped_fee(schedule: FeeSchedule, fills: Iterable[tuple[int, Decimal]]) -> int:
    """Fee in micro-pUSD of fills given as (shares in micro-units, taker price)."""
    exact = sum(
        (Decimal(shares) / MICRO * fee_per_share(schedule, price) for shares, price in fills),
        Decimal(0),
    )
    floored = exact.quantize(FEE_QUANTUM, rounding=ROUND_FLOOR)
    return int(floored * MICRO)


def fee_cap(cash_micro: int) -> int:
    """The largest fee the exchanges accept for a fill worth ``cash_micro`` pUSD."""
    return cash_micro * MAX_FEE_RATE_BPS // 10_000


def taker_fee(
    schedule: FeeSchedule,
    fills: Iterable[tuple[int, Decimal]],
    cash_micro: int,
    builder_bps: int = 0,
) -> int:
    """Return a taker's fee for one trade: formula (floored) plus builder fee, capped."""
    builder = cash_micro * builder_bps // 10_000
    return min(uncapped_fee(schedule, fills) + builder, fee_cap(cash_micro))
