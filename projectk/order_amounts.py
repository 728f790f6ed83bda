"""Exact V2 order amounts for an intent, in integer micro-units (no float anywhere).

py-clob-client-v2 computes amounts from floats (`floor(0.29 * 100)` is 28), so ProjectK computes
them here exactly and hands the client's own order builder finished integers.

Invariants:
- Limit shape (GTC/GTD): shares with 2 decimals; BUY pays shares x price, SELL asks shares x price.
- Market shape (FAK/FOK): a BUY offers pUSD with 2 decimals (floored, so never more than the
  intent's shares x limit) and asks for pUSD / limit shares floored to the tick's amount
  precision; a SELL offers shares with 2 decimals and asks shares x limit.
- The implied price of every order is never worse for the follower than the intent's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from projectk.models import MICRO, OrderType, Side

SHARE_STEP_MICRO = 10_000  # shares carry 2 decimals
CENT_MICRO = 10_000  # market BUY amounts carry 2 decimals of pUSD
# Decimals of the taker amount of market orders, per tick size (py-clob-client-v2 ROUNDING_CONFIG).
AMOUNT_DECIMALS = {
    Decimal("0.1"): 3,
    Decimal("0.01"): 4,
    Decimal("0.005"): 5,
    Decimal("0.0025"): 6,
    Decimal("0.001"): 5,
    Decimal("0.0001"): 6,
}
MARKET_TYPES = frozenset({OrderType.FAK, OrderType.FOK})


@dataclass(frozen=True)
class Amounts:
    """Maker and taker amounts of one V2 order, micro-units."""

    maker_micro: int
    taker_micro: int


def tick_key(tick: Decimal) -> str:
    """Return the client's tick-size key ("0.01") for a tick, or raise for an unknown tick."""
    normal = tick.normalize()
    if normal not in AMOUNT_DECIMALS:
        raise ValueError(f"unsupported tick size {tick}")
    return format(normal, "f")


def floor_to(micro: int, step: int) -> int:
    """Return `micro` floored to a multiple of `step`."""
    return micro - micro % step


def order_amounts(
    side: Side, shares_micro: int, price: Decimal, tick: Decimal, order_type: OrderType
) -> Amounts:
    """Return the maker/taker amounts of an order of `shares_micro` at limit `price`."""
    shares = floor_to(shares_micro, SHARE_STEP_MICRO)
    value = _times(shares, price)
    if order_type in MARKET_TYPES and side is Side.BUY:
        pay = floor_to(value, CENT_MICRO)
        step = 10 ** (6 - AMOUNT_DECIMALS[tick.normalize()])
        get = floor_to(int((Decimal(pay) / price).to_integral_value(ROUND_FLOOR)), step)
        return Amounts(maker_micro=pay, taker_micro=get)
    if side is Side.BUY:
        return Amounts(maker_micro=value, taker_micro=shares)
    return Amounts(maker_micro=shares, taker_micro=value)


def _times(shares_micro: int, price: Decimal) -> int:
    # Shares have 2 decimals and prices at most 4, so the product is exact in micro-units; floor
    # anyway so an odd price can never make an order pay more than its limit.
    return int((Decimal(shares_micro) * price).to_integral_value(ROUND_FLOOR))


def as_decimal(micro: int) -> Decimal:
    """Return micro-units as a Decimal amount."""
    return Decimal(micro) / MICRO
