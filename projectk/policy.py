"""Pure trading policy: eligibility, sizing and the price guard.

Invariants:
- Functions of their inputs only: no I/O, no clock, no randomness (time is passed in).
- Integer micro-units for money and shares; `Decimal` for prices; never float.
- Never spend past the budget, the per-order cap or the per-market cap to meet an exchange
  minimum: if the minimum does not fit, the order is skipped with the reason.
- The exchange minimums are the CLOB's: resting order types (GTC, GTD) need the market's
  `min_order_size` shares; a BUY that trades on arrival needs $1. FAK and FOK orders are not held
  to the share minimum, so a SELL mirrors the source's fraction however small.
- A BUY never pays above source price x (1 + cap) and a SELL never sells below
  source price x (1 - cap); limit prices are rounded to the tick in the safe direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from projectk.messages import Quote
from projectk.models import (
    MICRO,
    OrderIntent,
    OrderType,
    PairConfig,
    PairStatus,
    Position,
    Side,
    SizingMode,
    SourceFill,
)

SHARE_STEP_MICRO = 10_000  # the CLOB takes share sizes with 2 decimals
MIN_MARKETABLE_BUY_MICRO = 1 * MICRO  # marketable BUYs need at least $1
RESTING_TYPES = frozenset({OrderType.GTC, OrderType.GTD})  # held to the market's share minimum
# The share minimum most markets have, for reserving budget before the market's own is quoted.
USUAL_MIN_ORDER_MICRO = 5 * MICRO
BPS = Decimal(10_000)


@dataclass(frozen=True)
class Skip:
    """A decision not to trade, with the reason an operator will read."""

    reason: str


def check_eligible(
    config: PairConfig, status: PairStatus, fill: SourceFill, position: Position, now: datetime
) -> Skip | None:
    """Return why a pair must not mirror this fill, or None if it may."""
    guards = config.guards
    if status is not PairStatus.ACTIVE:
        return Skip(f"pair is {status.value}")
    if fill.side is Side.SELL and guards.buys_only:
        return Skip("pair mirrors buys only")
    if fill.side is Side.SELL and position.shares_micro == 0:
        return Skip("follower holds no position in this token")
    if not guards.min_price <= fill.price <= guards.max_price:
        return Skip(f"price {fill.price} outside [{guards.min_price}, {guards.max_price}]")
    if fill.notional_micro < guards.min_source_notional_micro:
        return Skip("source fill below the minimum source notional")
    age = (now - fill.block_time).total_seconds()
    if age > guards.max_fill_age_s:
        return Skip(f"fill is {int(age)} s old (max {guards.max_fill_age_s} s)")
    return None


def target_buy_notional(config: PairConfig, fill: SourceFill) -> int:
    """Return the pUSD (micro) the sizing mode asks to spend on a source BUY."""
    sizing = config.sizing
    if sizing.mode is SizingMode.FIXED:
        return sizing.fixed_micro
    if sizing.mode is SizingMode.PROPORTIONAL:
        return int((Decimal(fill.notional_micro) * sizing.ratio).to_integral_value(ROUND_FLOOR))
    shares = Decimal(fill.shares_micro) * sizing.percent / 100
    return int((shares * fill.price).to_integral_value(ROUND_FLOOR))


def buy_cap(config: PairConfig, position: Position, remaining_micro: int) -> int:
    """Return the most a BUY may spend under the budget, per-order and per-market caps."""
    guards = config.guards
    cap = remaining_micro
    if guards.max_order_micro is not None:
        cap = min(cap, guards.max_order_micro)
    if guards.max_market_exposure_micro is not None:
        cap = min(cap, guards.max_market_exposure_micro - position.cost_micro)
    return max(0, cap)


def reserve_buy(
    config: PairConfig,
    fill: SourceFill,
    position: Position,
    remaining_micro: int,
) -> int | Skip:
    """Return the budget a pair holds back for a BUY mirror, or why it cannot.

    It covers the target raised to the exchange minimum (within the caps), so that the mirror
    can meet the minimum out of what was held back: $1, and for a resting order type the usual
    share minimum at the guarded price (a market with a larger minimum is skipped by the mirror).
    """
    cap = buy_cap(config, position, remaining_micro)
    if cap <= 0:
        return Skip("budget or exposure cap reached")
    worst_price = min(Decimal(1), fill.price * (1 + Decimal(config.guards.slippage_bps) / BPS))
    # $1 in whole share steps costs up to one step more than $1.
    minimum = MIN_MARKETABLE_BUY_MICRO + _notional(SHARE_STEP_MICRO, worst_price)
    if config.order_type in RESTING_TYPES:
        minimum = max(minimum, _notional(USUAL_MIN_ORDER_MICRO, worst_price))
    return min(cap, max(target_buy_notional(config, fill), minimum))


def min_order_shares(order_type: OrderType, quote: Quote) -> int:
    """Return the exchange's share minimum for an order type on the quoted market (0: none)."""
    return quote.min_order_size_micro if order_type in RESTING_TYPES else 0


def guard_price(side: Side, source_price: Decimal, slippage_bps: int, tick: Decimal) -> Decimal:
    """Return the worst acceptable limit price, rounded to the tick in the safe direction."""
    if side is Side.BUY:
        raw = source_price * (1 + Decimal(slippage_bps) / BPS)
        price = (raw / tick).to_integral_value(ROUND_FLOOR) * tick
        return min(price, 1 - tick)
    raw = source_price * (1 - Decimal(slippage_bps) / BPS)
    price = (raw / tick).to_integral_value(ROUND_CEILING) * tick
    return max(price, tick)


def _floor_shares(micro: int) -> int:
    return micro - micro % SHARE_STEP_MICRO


def _notional(shares_micro: int, price: Decimal) -> int:
    return int((Decimal(shares_micro) * price).to_integral_value(ROUND_CEILING))


def plan_buy(
    config: PairConfig,
    fill: SourceFill,
    quote: Quote,
    cap_micro: int,
) -> OrderIntent | Skip:
    """Size and price the follower's BUY for a source BUY, within `cap_micro` pUSD."""
    if not quote.accepting_orders:
        return Skip("market is not accepting orders")
    limit = guard_price(Side.BUY, fill.price, config.guards.slippage_bps, quote.tick_size)
    if limit < quote.tick_size:
        return Skip("no valid price on this tick within the slippage cap")
    if not quote.asks or quote.asks[0].price > limit:
        return Skip(f"book is beyond the slippage cap (limit {limit})")
    target = min(target_buy_notional(config, fill), cap_micro)
    shares = _floor_shares(int((Decimal(target) / limit).to_integral_value(ROUND_FLOOR)))
    shares_minimum = min_order_shares(config.order_type, quote)
    minimum = max(shares_minimum, _shares_for(MIN_MARKETABLE_BUY_MICRO, limit))
    if shares < minimum:
        if _notional(minimum, limit) > cap_micro:
            return Skip("exchange minimum order does not fit the budget or caps")
        shares = minimum
    return _intent(config, fill, Side.BUY, shares, limit)


def plan_sell(
    config: PairConfig,
    fill: SourceFill,
    quote: Quote,
    position: Position,
    source_before_micro: int,
) -> OrderIntent | Skip:
    """Size and price the follower's SELL: the same fraction of its position the source sold."""
    if not quote.accepting_orders:
        return Skip("market is not accepting orders")
    if position.shares_micro == 0:
        return Skip("follower holds no position in this token")
    if source_before_micro <= 0:
        return Skip("source position before the sale is unknown")
    limit = guard_price(Side.SELL, fill.price, config.guards.slippage_bps, quote.tick_size)
    if not quote.bids or quote.bids[0].price < limit:
        return Skip(f"book is beyond the slippage cap (limit {limit})")
    fraction = min(Decimal(1), Decimal(fill.shares_micro) / Decimal(source_before_micro))
    shares = _floor_shares(int(Decimal(position.shares_micro) * fraction))
    minimum = min_order_shares(config.order_type, quote)
    if fraction == 1 or (minimum and position.shares_micro - shares < minimum):
        # All of it, in whole share steps: no position too small to sell is left behind.
        shares = _floor_shares(position.shares_micro)
    if shares < minimum:  # a resting order this small would be refused, even selling all
        return Skip("sell size below the exchange minimum")
    if shares == 0:
        return Skip("sell size rounds to zero shares")
    return _intent(config, fill, Side.SELL, shares, limit)


def _shares_for(notional_micro: int, price: Decimal) -> int:
    shares = int((Decimal(notional_micro) / price).to_integral_value(ROUND_CEILING))
    return shares + (-shares % SHARE_STEP_MICRO)


def _intent(
    config: PairConfig, fill: SourceFill, side: Side, shares: int, limit: Decimal
) -> OrderIntent:
    return OrderIntent(
        pair_id=config.pair_id,
        fill_id=fill.fill_id,
        token_id=fill.token_id,
        side=side,
        shares_micro=shares,
        limit_price=limit,
        notional_micro=_notional(shares, limit),
        order_type=config.order_type,
    )


def plan_remainder(
    intent: OrderIntent, target_shares_micro: int, filled_shares_micro: int, quote: Quote
) -> OrderIntent | Skip:
    """Size the next order for what is still unfilled, at the same guarded limit price."""
    if not quote.accepting_orders:
        return Skip("market is not accepting orders")
    shares = _floor_shares(target_shares_micro - filled_shares_micro)
    if shares <= 0:
        return Skip("nothing left to fill")
    limit = intent.limit_price
    if intent.side is Side.BUY:
        if not quote.asks or quote.asks[0].price > limit:
            return Skip(f"book is beyond the slippage cap (limit {limit})")
        if _notional(shares, limit) < MIN_MARKETABLE_BUY_MICRO:
            return Skip("remainder below the $1 marketable minimum")
    elif not quote.bids or quote.bids[0].price < limit:
        return Skip(f"book is beyond the slippage cap (limit {limit})")
    if shares < min_order_shares(intent.order_type, quote):
        return Skip("remainder below the exchange minimum")
    return intent.model_copy(
        update={"shares_micro": shares, "notional_micro": _notional(shares, limit)}
    )
