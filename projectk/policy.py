"""Pure trading policy of one mirror decision: sizing against the book, the price guard and the
book check (what a pair decides per source order is in `projectk.decisions`).

Invariants:
- Functions of their inputs only: no I/O, no clock, no randomness (time is passed in).
- Integer micro-units for money and shares; `Decimal` for prices; never float.
- Never spend past the budget, the per-order cap or the per-market cap to meet an exchange
  minimum: if the minimum does not fit, the order is skipped with the reason.
- The exchange minimums are the CLOB's: resting order types (GTC, GTD) need the market's
  `min_order_size` shares; a BUY that trades on arrival needs $1. FAK and FOK orders are not held
  to the share minimum, so a SELL mirrors the source's fraction however small.
- A BUY never pays above source price x (1 + slippage cap) and a SELL never sells below
  source price x (1 - exit slippage cap); limit prices are rounded to the tick in the safe
  direction.
- A source price further than `max_book_distance` from the book's mid at quote time is skipped:
  the source's own print is not trusted as the only reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from projectk import fees
from projectk.messages import Quote
from projectk.models import (
    MICRO,
    OrderIntent,
    OrderType,
    PairConfig,
    Position,
    Side,
    SourceOrder,
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


def book_check(config: PairConfig, price: Decimal, quote: Quote) -> Skip | None:
    """Return why a source price is too far from the book at quote time (None: close enough).

    The book's mid (or its one side when the other is empty) is the reference: a source that
    prints a price in a thin market with a second wallet is far from it.
    """
    distance = config.guards.max_book_distance
    if distance is None:
        return None
    best_bid = quote.bids[0].price if quote.bids else None
    best_ask = quote.asks[0].price if quote.asks else None
    if best_bid is None and best_ask is None:
        return Skip("the book is empty")
    if best_bid is None or best_ask is None:
        mid = best_bid if best_ask is None else best_ask
    else:
        mid = (best_bid + best_ask) / 2
    assert mid is not None
    if abs(price - mid) > distance:
        return Skip(
            f"source price {price} is {abs(price - mid)} from the book's mid {mid} (max {distance})"
        )
    return None


def plan_buy(
    config: PairConfig,
    order: SourceOrder,
    decision_id: str,
    quote: Quote,
    want_micro: int,
    cap_micro: int,
) -> OrderIntent | Skip:
    """Size and price the follower's BUY for a source BUY order: `want_micro` pUSD, at most
    `cap_micro` (what the pair held back), raised to the exchange minimum only within the cap.

    Both are outlays: the BUY's cost at its limit plus the most taker fee the market's schedule
    can charge for it (`projectk.fees`), so a fill never takes more than the pair held back."""
    if not quote.accepting_orders:
        return Skip("market is not accepting orders")
    far = book_check(config, order.last_price, quote)
    if far is not None:
        return far
    limit = guard_price(Side.BUY, order.last_price, config.guards.slippage_bps, quote.tick_size)
    if limit < quote.tick_size:
        return Skip("no valid price on this tick within the slippage cap")
    if not quote.asks or quote.asks[0].price > limit:
        return Skip(f"book is beyond the slippage cap (limit {limit})")
    # Amounts are outlays: the cost at the limit plus the most fee the market can charge.
    target = min(want_micro, cap_micro)
    shares = fees.buy_shares_within(quote.fee, target, limit, SHARE_STEP_MICRO)
    shares_minimum = min_order_shares(config.order_type, quote)
    minimum = max(shares_minimum, _shares_for(MIN_MARKETABLE_BUY_MICRO, limit))
    if shares < minimum:
        if fees.buy_outlay_micro(quote.fee, minimum, limit) > cap_micro:
            return Skip("exchange minimum order does not fit the budget or caps")
        shares = minimum
    return _intent(config, order, decision_id, Side.BUY, shares, limit)


def plan_sell(
    config: PairConfig,
    order: SourceOrder,
    decision_id: str,
    quote: Quote,
    position: Position,
    source_before_micro: int,
) -> OrderIntent | Skip:
    """Size and price the follower's SELL: the fraction of its position the source order sold.

    The fraction is the order's running total over the source's balance before the order's
    first fill; it applies to the follower's shares when the order's first decision started
    (`order.basis_micro`), less what the order's earlier decisions sold, never beyond `position`.
    The limit uses the exit slippage cap.
    """
    if not quote.accepting_orders:
        return Skip("market is not accepting orders")
    if position.shares_micro == 0:
        return Skip("follower holds no position in this token")
    if source_before_micro <= 0:
        return Skip("source position before the sale is unknown")
    far = book_check(config, order.last_price, quote)
    if far is not None:
        return far
    limit = guard_price(
        Side.SELL, order.last_price, config.guards.exit_slippage_bps, quote.tick_size
    )
    if not quote.bids or quote.bids[0].price < limit:
        return Skip(f"book is beyond the exit slippage cap (limit {limit})")
    fraction = min(Decimal(1), Decimal(order.shares_micro) / Decimal(source_before_micro))
    basis = order.basis_micro or position.shares_micro
    target = int(Decimal(basis) * fraction) - order.done_micro
    shares = _floor_shares(min(max(0, target), position.shares_micro))
    minimum = min_order_shares(config.order_type, quote)
    if fraction == 1 or (minimum and position.shares_micro - shares < minimum):
        # All of it, in whole share steps: no position too small to sell is left behind.
        shares = _floor_shares(position.shares_micro)
    if shares < minimum:  # a resting order this small would be refused, even selling all
        return Skip("sell size below the exchange minimum")
    if shares == 0:
        return Skip("sell size rounds to zero shares")
    return _intent(config, order, decision_id, Side.SELL, shares, limit)


def _shares_for(notional_micro: int, price: Decimal) -> int:
    shares = int((Decimal(notional_micro) / price).to_integral_value(ROUND_CEILING))
    return shares + (-shares % SHARE_STEP_MICRO)


def _intent(
    config: PairConfig,
    order: SourceOrder,
    decision_id: str,
    side: Side,
    shares: int,
    limit: Decimal,
) -> OrderIntent:
    return OrderIntent(
        pair_id=config.pair_id,
        decision_id=decision_id,
        token_id=order.token_id,
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
