"""The taker fee as the pair budgets for it: a bound on what the operator can charge, and BUY
sizes whose cost plus that bound fit what the pair held back. Property-tested, with Polymarket's
SDK's own fee arithmetic (`adjust_buy_amount_for_fees`) as the oracle."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

from hypothesis import given
from hypothesis import strategies as st
from polymarket._internal.actions.orders.market import adjust_buy_amount_for_fees
from polymarket._internal.actions.orders.market_data import PlatformFeeInfo

from projectk import fees, policy
from projectk.messages import BookLevel, Quote
from projectk.models import MICRO, FeeSchedule, OrderType, Side, Sizing, SourceOrder
from tests.workflows.harness import pair_config

STEP = 10_000  # shares go in 0.01 steps
schedules = st.builds(
    FeeSchedule,
    rate=st.decimals(min_value=0, max_value="0.25", places=3),
    exponent=st.integers(min_value=1, max_value=2),
)
limits = st.integers(min_value=1, max_value=99).map(lambda n: Decimal(n) / 100)
amounts = st.integers(min_value=0, max_value=10_000 * MICRO)


def charged(schedule: FeeSchedule, shares_micro: int, price: Decimal) -> int:
    """What the operator charges for shares filled at `price` (floored, as the venue does)."""
    exact = Decimal(shares_micro) * schedule.rate * (price * (1 - price)) ** schedule.exponent
    return int(exact.to_integral_value(ROUND_FLOOR))


@given(schedules, limits, amounts)
def test_a_buy_takes_the_most_shares_whose_outlay_fits(
    schedule: FeeSchedule, limit: Decimal, amount: int
) -> None:
    shares = fees.buy_shares_within(schedule, amount, limit, STEP)
    assert shares % STEP == 0
    assert fees.buy_outlay_micro(schedule, shares, limit) <= amount
    assert fees.buy_outlay_micro(schedule, shares + STEP, limit) > amount


@given(schedules, limits, st.integers(min_value=0, max_value=99), amounts)
def test_the_bound_covers_the_fee_at_any_price_up_to_the_limit(
    schedule: FeeSchedule, limit: Decimal, below: int, amount: int
) -> None:
    shares = fees.buy_shares_within(schedule, amount, limit, STEP)
    price = max(Decimal("0.01"), limit - Decimal(below) / 100)
    cost = int((Decimal(shares) * price).to_integral_value())
    assert cost + charged(schedule, shares, price) <= amount + 1  # +1: the cost's rounding


@given(schedules, st.integers(min_value=1, max_value=50), st.integers(1, 5_000))
def test_the_size_agrees_with_the_sdks_fee_arithmetic(
    schedule: FeeSchedule, cents: int, dollars: int
) -> None:
    limit = Decimal(cents) / 100  # at or below 0.5 the bound is the formula itself
    amount = dollars * MICRO
    info = PlatformFeeInfo(rate=schedule.rate, exponent=Decimal(schedule.exponent))
    spend = adjust_buy_amount_for_fees(
        amount=Decimal(dollars), price=limit, max_spend=Decimal(dollars), fee=info
    )
    sdk_shares = int(spend / limit * MICRO)
    ours = fees.buy_shares_within(schedule, amount, limit, STEP)
    assert sdk_shares - 2 * STEP <= ours <= sdk_shares


def test_no_schedule_is_plain_cost() -> None:
    assert fees.buy_shares_within(FeeSchedule(), 5 * MICRO, Decimal("0.5"), STEP) == 10 * MICRO
    assert fees.fee_bound_micro(FeeSchedule(), 10 * MICRO, Decimal("0.5")) == 0


def test_a_fixed_buy_on_a_fee_market_spends_its_amount_fee_included() -> None:
    order = SourceOrder(
        key="0xabc",
        token_id="1",
        side=Side.BUY,
        last_price=Decimal("0.6"),
        shares_micro=10 * MICRO,
        notional_micro=6 * MICRO,
        first_block=1,
        last_time=datetime.now(UTC),
    )
    config = pair_config(sizing=Sizing(fixed_micro=5 * MICRO), order_type=OrderType.FAK)
    asks = [BookLevel(price=Decimal("0.6"), size_micro=100 * MICRO)]
    plain = Quote(token_id="1", asks=asks)
    taxed = plain.model_copy(update={"fee": FeeSchedule(rate=Decimal("0.07"), exponent=1)})
    free = policy.plan_buy(config, order, "0xabc", plain, 5 * MICRO, 5 * MICRO)
    paid = policy.plan_buy(config, order, "0xabc", taxed, 5 * MICRO, 5 * MICRO)
    assert not isinstance(free, policy.Skip) and not isinstance(paid, policy.Skip)
    assert paid.shares_micro < free.shares_micro
    outlay = fees.buy_outlay_micro(taxed.fee, paid.shares_micro, paid.limit_price)
    assert outlay <= 5 * MICRO < outlay + fees.buy_outlay_micro(taxed.fee, STEP, paid.limit_price)
