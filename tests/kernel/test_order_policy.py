"""Exact order amounts and remainder sizing: pure functions, property-tested."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from projectk import policy
from projectk.messages import BookLevel, Quote
from projectk.models import MICRO, OrderIntent, OrderType, Side
from projectk.order_amounts import AMOUNT_DECIMALS, order_amounts

TICKS = sorted(AMOUNT_DECIMALS)


@st.composite
def orders(draw: st.DrawFn) -> tuple[Side, int, Decimal, Decimal, OrderType]:
    tick = draw(st.sampled_from(TICKS))
    steps = int(1 / tick)
    price = tick * draw(st.integers(min_value=1, max_value=steps - 1))
    shares = draw(st.integers(min_value=1, max_value=100_000)) * 10_000
    side = draw(st.sampled_from(list(Side)))
    order_type = draw(st.sampled_from(list(OrderType)))
    return side, shares, price, tick, order_type


@given(orders())
def test_implied_price_is_the_limit_on_its_tick(order: tuple) -> None:  # type: ignore[type-arg]
    side, shares, price, tick, order_type = order
    amounts = order_amounts(side, shares, price, tick, order_type)
    if side is Side.BUY and order_type in (OrderType.FAK, OrderType.FOK):
        if amounts.maker_micro < MICRO:
            return  # below the $1 marketable minimum: the policy never sizes such an order
        # pUSD has 2 decimals, so the share count is floored: a hair above the limit, always
        # within the 1%-of-a-tick tolerance the CLOB reads as "on the tick"
        implied = Decimal(amounts.maker_micro) / Decimal(amounts.taker_micro)
        assert price <= implied <= price + tick / 100
    elif side is Side.BUY:
        assert Decimal(amounts.maker_micro) == Decimal(amounts.taker_micro) * price
    else:
        assert Decimal(amounts.taker_micro) == Decimal(amounts.maker_micro) * price


@given(orders())
def test_market_buys_offer_whole_cents_and_never_more_than_intended(order: tuple) -> None:  # type: ignore[type-arg]
    side, shares, price, tick, _ = order
    amounts = order_amounts(Side.BUY, shares, price, tick, OrderType.FAK)
    assert amounts.maker_micro % 10_000 == 0
    assert amounts.maker_micro <= shares * price
    del side


def test_limit_shape_is_exact() -> None:
    buy = order_amounts(Side.BUY, 9_800_000, Decimal("0.51"), Decimal("0.01"), OrderType.GTC)
    assert (buy.maker_micro, buy.taker_micro) == (4_998_000, 9_800_000)
    sell = order_amounts(Side.SELL, 29 * 10_000, Decimal("0.29"), Decimal("0.01"), OrderType.FAK)
    assert (sell.maker_micro, sell.taker_micro) == (290_000, 84_100)  # float math says 0.28


def test_market_buy_shape() -> None:
    buy = order_amounts(Side.BUY, 9_800_000, Decimal("0.51"), Decimal("0.01"), OrderType.FAK)
    assert (buy.maker_micro, buy.taker_micro) == (4_990_000, 9_784_300)


def _intent(side: Side) -> OrderIntent:
    return OrderIntent(
        pair_id="p",
        decision_id="f",
        token_id="t",
        side=side,
        shares_micro=10 * MICRO,
        limit_price=Decimal("0.51"),
        notional_micro=5_100_000,
    )


def _quote(asks: str | None = "0.50", bids: str | None = "0.52") -> Quote:
    deep = 100 * MICRO
    return Quote(
        token_id="t",
        asks=[BookLevel(price=Decimal(asks), size_micro=deep)] if asks else [],
        bids=[BookLevel(price=Decimal(bids), size_micro=deep)] if bids else [],
    )


def test_remainder_keeps_the_guarded_limit() -> None:
    nxt = policy.plan_remainder(_intent(Side.BUY), 10 * MICRO, 4 * MICRO, _quote())
    assert isinstance(nxt, OrderIntent)
    assert nxt.shares_micro == 6 * MICRO and nxt.limit_price == Decimal("0.51")


def test_remainder_skips_when_the_book_is_beyond_the_guard_or_too_small() -> None:
    assert isinstance(
        policy.plan_remainder(_intent(Side.BUY), 10 * MICRO, 4 * MICRO, _quote(asks="0.52")),
        policy.Skip,
    )
    assert isinstance(
        policy.plan_remainder(_intent(Side.SELL), 10 * MICRO, 4 * MICRO, _quote(bids="0.50")),
        policy.Skip,
    )
    tiny = policy.plan_remainder(_intent(Side.BUY), 10 * MICRO, 9 * MICRO, _quote())
    assert isinstance(tiny, policy.Skip) and "$1" in tiny.reason
    assert isinstance(
        policy.plan_remainder(_intent(Side.BUY), 10 * MICRO, 10 * MICRO, _quote()), policy.Skip
    )
