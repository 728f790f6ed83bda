"""One mirror decision per source order: fold a pair's source fills into their orders and decide
what each order's mirror may do now (pure).

A source order filled by several takers arrives as several fills with one order hash. The pair
folds each fill into the order's running totals (`fold_fill`) and then asks `decide`:

- `Start`: start a mirror decision now. The first decision of an order has the order hash as id,
  the n-th top-up "<hash>/n". A BUY holds back `reserved_micro` of the budget while in flight.
- `Wait`: not now, and not skipped: a decision of the same order is in flight, an earlier order
  in its market waits, or a SELL's market has a BUY (or its token a SELL) in flight. The order
  is decided again when a mirror reports (`waiting_orders`).
- `Skip`: not for these fills (guards, budget, caps, a top-up still below the exchange minimum);
  the reason goes to the ledger per fill. The order's running totals keep the skipped fills, so
  a later fill of a proportional order tops up to the whole order's total.

Invariants:
- Functions of their inputs only: no I/O, no clock (time is an argument), no randomness.
- Money committed counts what is in flight: a BUY's room is the budget left after spent and
  reserved pUSD, the per-order cap, and the per-market cap minus the market's booked cost and
  the reservations of BUYs in flight in that market (all tokens of the condition together).
- One decision of an order is in flight at a time, and one SELL per token: a SELL is sized from
  a position that no other in-flight SELL is selling from, so SELLs never sell more than held.
- Per market, decisions start in the source's order (an order waits while an earlier one in its
  market waits), and a SELL whose market has a BUY in flight waits for it instead of being
  skipped.
- Sizing follows the order's running total: FIXED spends once per source BUY order;
  PROPORTIONAL and PERCENT_SHARES top up to what the order's total asks for. Only an order's
  first decision is raised to the exchange minimum; later pieces wait until the top-up reaches
  it, so dust pieces are never each raised to the minimum.
- SELLs have their own age limit (none by default): exits are not dropped for being late; their
  price is still guarded (the mirror's exit slippage cap and book check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from projectk.models import (
    InFlight,
    MarketVersion,
    PairConfig,
    PairState,
    PairStatus,
    Position,
    Side,
    SizingMode,
    SourceFill,
    SourceOrder,
)
from projectk.policy import (
    BPS,
    MIN_MARKETABLE_BUY_MICRO,
    RESTING_TYPES,
    SHARE_STEP_MICRO,
    USUAL_MIN_ORDER_MICRO,
    Skip,
)

MAX_ORDERS_KEPT = 256  # source orders remembered after they have nothing in flight or waiting
MAX_FILLS_KEPT = 16  # fill ids an order remembers (the first ones): its state stays small


@dataclass(frozen=True)
class Start:
    """Start a mirror decision for an order now."""

    decision_id: str
    order: SourceOrder  # the order's totals as the decision sees them
    reserved_micro: int = 0  # BUY: budget held back while in flight
    want_micro: int = 0  # BUY: pUSD the decision should spend (within `reserved_micro`)
    fill_ids: tuple[str, ...] = ()  # the source fills it covers


@dataclass(frozen=True)
class Wait:
    """Decide the order again later; nothing is skipped."""

    reason: str


Decision = Start | Wait | Skip


def fold_fill(state: PairState, fill: SourceFill) -> PairState:
    """Return the state with a new source fill added to its order's running totals."""
    key = fill.order_key
    order = state.orders.get(key)
    if order is None:
        order = SourceOrder(
            key=key,
            token_id=fill.token_id,
            side=fill.side,
            last_price=fill.price,
            first_block=fill.block_number,
            last_time=fill.block_time,
            market_version=fill.market_version,
        )
    order = order.model_copy(
        update={
            "shares_micro": order.shares_micro + fill.shares_micro,
            "notional_micro": order.notional_micro + fill.notional_micro,
            "last_price": fill.price,
            "last_time": max(order.last_time, fill.block_time),
            "fills": [*order.fills, fill.fill_id][:MAX_FILLS_KEPT],
            "fill_count": order.fill_count + 1,
            "undecided": [*order.undecided, fill.fill_id],
            "pending_block": order.pending_block if order.undecided else fill.block_number,
        }
    )
    versions = state.versions
    if fill.market_version is not MarketVersion.V1:
        versions = {**versions, fill.token_id: fill.market_version}
    return state.model_copy(update={"orders": {**state.orders, key: order}, "versions": versions})


def versions_of(state: PairState, token_ids: Iterable[str]) -> dict[str, MarketVersion]:
    """Return the market version of each token that is not a v1 one (the balance reads need it)."""
    return {token: state.versions[token] for token in token_ids if token in state.versions}


def market_of(state: PairState, token_id: str) -> str:
    """Return the condition id of a token as looked up, else the token itself (its own market)."""
    return state.markets.get(token_id) or token_id


def _flight_market(flight: InFlight) -> str:
    # As `market_of` says it: the condition looked up when the flight started, else the token.
    return flight.market or flight.token_id


def market_exposure(state: PairState, market: str) -> int:
    """Return the pUSD committed in a market: booked cost plus reservations of BUYs in flight."""
    booked = sum(
        held.cost_micro
        for token, held in state.positions.items()
        if market_of(state, token) == market
    )
    flying = sum(
        flight.reserved_micro
        for flight in state.in_flight.values()
        if flight.side is Side.BUY and _flight_market(flight) == market
    )
    return booked + flying


def buy_room(state: PairState, token_id: str) -> int:
    """Return the most a new BUY in `token_id` may hold back under the budget and caps."""
    guards = state.config.guards
    room = state.remaining_micro
    if guards.max_order_micro is not None:
        room = min(room, guards.max_order_micro)
    if guards.max_market_exposure_micro is not None:
        used = market_exposure(state, market_of(state, token_id))
        room = min(room, guards.max_market_exposure_micro - used)
    return max(0, room)


def order_target_micro(config: PairConfig, order: SourceOrder) -> int:
    """Return the pUSD the sizing mode asks to spend on a source BUY order's running total."""
    sizing = config.sizing
    if sizing.mode is SizingMode.FIXED:
        return sizing.fixed_micro
    if sizing.mode is SizingMode.PROPORTIONAL:
        return _floor(Decimal(order.notional_micro) * sizing.ratio)
    shares = Decimal(order.shares_micro) * sizing.percent / 100
    return _floor(shares * order.last_price)


def buy_minimum_micro(config: PairConfig, price: Decimal) -> int:
    """Return the least pUSD a BUY at the guarded price of `price` needs to meet the minimums.

    $1 in whole share steps costs up to one step more than $1; a resting order type needs the
    usual share minimum (a market with a larger one is skipped by the mirror).
    """
    worst = min(Decimal(1), price * (1 + Decimal(config.guards.slippage_bps) / BPS))
    minimum = MIN_MARKETABLE_BUY_MICRO + _ceil(Decimal(SHARE_STEP_MICRO) * worst)
    if config.order_type in RESTING_TYPES:
        minimum = max(minimum, _ceil(Decimal(USUAL_MIN_ORDER_MICRO) * worst))
    return minimum


def decide(state: PairState, key: str, now: datetime) -> Decision:
    """Return what the pair does now with the undecided fills of source order `key`."""
    order = state.orders[key]
    if any(flight.order_key == key for flight in state.in_flight.values()):
        return Wait("a mirror of this source order is in flight")
    if _earlier_waiting(state, order):
        return Wait("an earlier source order in this market is waiting")
    skip = _ineligible(state, order, now)
    if skip is not None:
        return skip
    if order.side is Side.BUY:
        return _decide_buy(state, order)
    return _decide_sell(state, order)


def _earlier_waiting(state: PairState, order: SourceOrder) -> bool:
    # Decisions in one market start in the source's order: a later BUY never overtakes an
    # earlier SELL (which would then sell the new shares too), nor a later SELL an earlier BUY.
    # Ranked by the oldest fill still undecided, so a resting order's later pieces queue behind
    # a SELL that came before them.
    market = market_of(state, order.token_id)
    rank = (order.pending_block, order.key)
    return any(
        other.undecided and (other.pending_block, other.key) < rank
        for other in state.orders.values()
        if market_of(state, other.token_id) == market
    )


def _ineligible(state: PairState, order: SourceOrder, now: datetime) -> Skip | None:
    guards = state.config.guards
    if state.status is not PairStatus.ACTIVE:
        return Skip(f"pair is {state.status.value}")
    if order.closed:
        return Skip("source order already mirrored (fixed size spends once per order)")
    if order.side is Side.SELL and guards.buys_only:
        return Skip("pair mirrors buys only")
    if not guards.min_price <= order.last_price <= guards.max_price:
        return Skip(f"price {order.last_price} outside [{guards.min_price}, {guards.max_price}]")
    if order.notional_micro < guards.min_source_notional_micro:
        return Skip("source order below the minimum source notional")
    limit = guards.max_fill_age_s if order.side is Side.BUY else guards.max_sell_age_s
    age = (now - order.last_time).total_seconds()
    if limit is not None and age > limit:
        return Skip(f"{order.side.value} fill is {int(age)} s old (max {limit} s)")
    return None


def _decide_buy(state: PairState, order: SourceOrder) -> Decision:
    config = state.config
    want = order_target_micro(config, order) - order.done_micro
    minimum = buy_minimum_micro(config, order.last_price)
    if want < minimum:
        if order.decisions:
            return Skip(f"top-up of {want} pUSD-micro is below the exchange minimum so far")
        want = minimum  # an order's first decision meets the minimum, once
    room = buy_room(state, order.token_id)
    if room < minimum:
        return Skip(
            "budget or exposure cap reached"
            if room <= 0
            else "exchange minimum order does not fit the budget or caps"
        )
    reserved = min(room, want)
    return Start(_decision_id(order), order, reserved, reserved, tuple(order.undecided))


def _decide_sell(state: PairState, order: SourceOrder) -> Decision:
    market = market_of(state, order.token_id)
    for flight in state.in_flight.values():
        if flight.side is Side.BUY and _flight_market(flight) == market:
            return Wait("waits for the BUY in flight in this market")
        if flight.side is Side.SELL and flight.token_id == order.token_id:
            return Wait("waits for the SELL in flight in this token")
    held = state.positions.get(order.token_id, Position()).shares_micro
    if held == 0:
        if order.decisions:
            return Skip("follower position in this token already sold")
        return Skip("follower holds no position in this token")
    basis = order.basis_micro or held
    order = order.model_copy(update={"basis_micro": basis})
    return Start(_decision_id(order), order, fill_ids=tuple(order.undecided))


def _decision_id(order: SourceOrder) -> str:
    return decision_id(order.key, order.decisions + 1)


def decision_id(order_key: str, n: int) -> str:
    """Return the id of a source order's n-th mirror decision: its key, "<key>/n" for top-ups."""
    return order_key if n == 1 else f"{order_key}/{n}"


def order_key_of(decision: str) -> str:
    """Return the key of the source order a decision id names."""
    return decision.split("/", 1)[0]


def start_flight(state: PairState, start: Start, flight: InFlight) -> PairState:
    """Return the state with a decision's mirror in flight and its budget reserved."""
    order = start.order.model_copy(
        update={
            "decisions": start.order.decisions + 1,
            "undecided": [f for f in start.order.undecided if f not in start.fill_ids],
            "closed": start.order.side is Side.BUY and state.config.sizing.mode is SizingMode.FIXED,
        }
    )
    return state.model_copy(
        update={
            "in_flight": {**state.in_flight, flight.decision_id: flight},
            "orders": {**state.orders, order.key: order},
            "reserved_micro": state.reserved_micro + flight.reserved_micro,
            "mirrors_started": state.mirrors_started + 1,
        }
    )


def abandon_flight(state: PairState, decision_id: str) -> PairState:
    """Return the state without a flight whose decision id already had a mirror flow (an order
    seen before this pair's memory of it): its reservation is released, and the order keeps the
    decision counted (its fills are recorded as skipped; a later top-up gets the next id)."""
    flight = state.in_flight.get(decision_id)
    if flight is None:
        return state
    return state.model_copy(
        update={
            "in_flight": {k: v for k, v in state.in_flight.items() if k != decision_id},
            "reserved_micro": max(0, state.reserved_micro - flight.reserved_micro),
            "mirrors_started": state.mirrors_started - 1,  # no child was started
        }
    )


def settle_order(state: PairState, flight: InFlight, done_micro: int) -> PairState:
    """Return the state with what a finished decision did added to its source order.

    A FIXED order whose decision bought nothing (killed, skipped, failed) is open again, so a
    later fill of the same source order can try once more.
    """
    order = state.orders.get(flight.order_key)
    if order is None:
        return state
    done = order.done_micro + done_micro
    order = order.model_copy(update={"done_micro": done, "closed": order.closed and done > 0})
    return state.model_copy(update={"orders": {**state.orders, order.key: order}})


def skip_undecided(state: PairState, key: str) -> tuple[PairState, list[str]]:
    """Return the state with an order's undecided fills dropped, and their ids (to record)."""
    order = state.orders[key]
    dropped = list(order.undecided)
    order = order.model_copy(update={"undecided": []})
    return state.model_copy(update={"orders": {**state.orders, key: order}}), dropped


def waiting_orders(state: PairState) -> list[str]:
    """Return the keys of orders with undecided fills, oldest first (decide them again)."""
    waiting = [order for order in state.orders.values() if order.undecided]
    waiting.sort(key=lambda order: (order.pending_block, order.key))
    return [order.key for order in waiting]


def prune_orders(state: PairState) -> PairState:
    """Return the state keeping every order in flight or waiting, and the latest others."""
    if len(state.orders) <= MAX_ORDERS_KEPT:
        return state
    busy = {flight.order_key for flight in state.in_flight.values()}
    keep = [o for o in state.orders.values() if o.undecided or o.key in busy]
    rest = [o for o in state.orders.values() if not (o.undecided or o.key in busy)]
    rest.sort(key=lambda order: (order.first_block, order.key))
    kept = keep + rest[len(rest) - max(0, MAX_ORDERS_KEPT - len(keep)) :]
    tokens = {o.token_id for o in kept} | set(state.positions)
    tokens |= {flight.token_id for flight in state.in_flight.values()}
    return state.model_copy(
        update={
            "orders": {o.key: o for o in kept},
            "markets": {t: m for t, m in state.markets.items() if t in tokens},
            "versions": {t: v for t, v in state.versions.items() if t in tokens},
        }
    )


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_FLOOR))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_CEILING))
