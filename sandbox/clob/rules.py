"""Order admission rules and their error texts, pure functions of the order, market and clock.

Invariants: every text returned here is the one the real CLOB returns for the same violation (as
far as it is documented); a rule returns None when the order passes it; money is Decimal or int.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox.clob.engine import OrderType
from sandbox.clob.orders import Side, SignedOrder

MICRO = Decimal(1_000_000)
MIN_MARKETABLE_BUY_USD = Decimal(1)

NOT_ENOUGH_BALANCE = "not enough balance / allowance"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
POST_ONLY_TYPE = "invalid post-only order: only GTC and GTD orders can be post-only"
INVALID_SIGNATURE = "invalid signature"
INVALID_EXPIRATION = "invalid expiration"
OWNER_MISMATCH = "the order owner has to be the owner of the API KEY"
SIGNER_MISMATCH = "the order signer address has to be the address of the API KEY"
MARKET_NOT_FOUND = "market not found"
MARKET_CLOSED = "market is closed"
INVALID_ORDER_TYPE = "invalid order type"


def duplicated(order_id: str) -> str:
    """Return the duplicate-order error."""
    return f"order {order_id} is invalid. Duplicated."


def as_units(micro: int) -> Decimal:
    """Convert micro-units to a normalised Decimal."""
    value = (Decimal(micro) / MICRO).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def tick_price(order: SignedOrder, tick: Decimal) -> Decimal | None:
    """Return the on-tick limit price, or None when the amounts are not on a tick.

    Market orders built by the client divide a pUSD amount by a price, so their exact ratio can
    sit a hair off the tick; anything within 1% of a tick counts as that tick.
    """
    exact = order.price()
    on_tick = (exact / tick).to_integral_value() * tick
    if abs(exact - on_tick) > tick / 100:
        return None
    return on_tick


def price_error(order_id: str, order: SignedOrder, tick: Decimal) -> str | None:
    """Check tick alignment and the [tick, 1 - tick] range."""
    if order.shares <= 0 or order.usd <= 0:
        return f"order {order_id} is invalid. Size (0) lower than the minimum: 0"
    price = tick_price(order, tick)
    if price is None or not tick <= price <= 1 - tick:
        shown = order.price().quantize(Decimal("0.000001")).normalize()
        return f"order {order_id} is invalid. Price ({shown}) breaks minimum tick size rule: {tick}"
    return None


def size_error(
    order_id: str, order: SignedOrder, order_type: OrderType, min_size: Decimal
) -> str | None:
    """Limit orders (GTC/GTD) need at least the market's minimum share size."""
    if order_type not in (OrderType.GTC, OrderType.GTD):
        return None
    size = as_units(order.shares)
    if size < min_size:
        return f"order {order_id} is invalid. Size ({size}) lower than the minimum: {min_size}"
    return None


def marketable_buy_error(order: SignedOrder, marketable: bool) -> str | None:
    """A BUY that would trade on arrival must spend at least $1."""
    if order.side != Side.BUY or not marketable:
        return None
    usd = as_units(order.maker_amount)
    if usd < MIN_MARKETABLE_BUY_USD:
        return f"invalid amount for a marketable BUY order (${usd}), min size: $1"
    return None


def expiration_error(
    order: SignedOrder, order_type: OrderType, now: int, security_s: int
) -> str | None:
    """GTD orders must expire later than now plus the security threshold."""
    if order_type == OrderType.GTD and order.expiration - security_s <= now:
        return INVALID_EXPIRATION
    return None


def parse_order_type(value: object) -> OrderType | None:
    """Return the OrderType named by ``value`` or None."""
    try:
        return OrderType(str(value))
    except ValueError:
        return None
