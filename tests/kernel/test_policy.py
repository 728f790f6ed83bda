"""Sizing, eligibility and the price guard: unit and property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from projectk import policy
from projectk.messages import BookLevel, Quote
from projectk.models import (
    MICRO,
    Guards,
    OrderType,
    PairConfig,
    PairStatus,
    Position,
    Side,
    Sizing,
    SizingMode,
)
from tests.fakes import FOLLOWER, SOURCE, make_fill

TICKS = [Decimal(t) for t in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")]


def config(**changes: object) -> PairConfig:
    base: dict[str, object] = {
        "pair_id": "p",
        "source": SOURCE,
        "follower": FOLLOWER,
        "key_ref": "vault://f",
        "budget_micro": 100 * MICRO,
    }
    base.update(changes)
    return PairConfig(**base)  # type: ignore[arg-type]


def book(price: str, size: int = 1000 * MICRO, tick: str = "0.01", min_size: int = 5) -> Quote:
    level = BookLevel(price=Decimal(price), size_micro=size)
    return Quote(
        token_id="1",
        bids=[level],
        asks=[level],
        tick_size=Decimal(tick),
        min_order_size_micro=min_size * MICRO,
    )


@given(
    price=st.decimals(min_value="0.01", max_value="0.99", places=4),
    bps=st.integers(min_value=0, max_value=5000),
    tick=st.sampled_from(TICKS),
)
def test_guard_price_never_worse_than_the_cap_and_on_tick(
    price: Decimal, bps: int, tick: Decimal
) -> None:
    buy = policy.guard_price(Side.BUY, price, bps, tick)
    sell = policy.guard_price(Side.SELL, price, bps, tick)
    assert buy <= max(price * (1 + Decimal(bps) / 10_000), tick)
    assert sell >= min(price * (1 - Decimal(bps) / 10_000), 1 - tick)
    assert buy % tick == 0 and sell % tick == 0
    assert tick <= sell and buy <= 1 - tick


@given(
    price=st.decimals(min_value="0.02", max_value="0.95", places=2),
    fixed=st.integers(min_value=1, max_value=500).map(lambda n: n * MICRO),
    cap=st.integers(min_value=0, max_value=200 * MICRO),
    order_type=st.sampled_from(list(OrderType)),
)
def test_plan_buy_never_spends_past_the_cap_and_meets_the_minimums(
    price: Decimal, fixed: int, cap: int, order_type: OrderType
) -> None:
    cfg = config(sizing=Sizing(mode=SizingMode.FIXED, fixed_micro=fixed), order_type=order_type)
    fill = make_fill(1, price=str(price))
    plan = policy.plan_buy(cfg, fill, book(str(price)), cap)
    if isinstance(plan, policy.Skip):
        return
    assert plan.notional_micro <= cap
    assert plan.shares_micro % policy.SHARE_STEP_MICRO == 0
    assert plan.notional_micro >= policy.MIN_MARKETABLE_BUY_MICRO
    if order_type in (OrderType.GTC, OrderType.GTD):
        assert plan.shares_micro >= 5 * MICRO
    assert plan.limit_price <= price * Decimal("1.03")


def test_plan_buy_raises_to_the_minimum_only_within_caps() -> None:
    sizing = Sizing(mode=SizingMode.FIXED, fixed_micro=MICRO // 2)
    fill = make_fill(1, price="0.50")
    # FAK (the default) trades on arrival: $1 is the minimum, 1.97 shares at 0.51.
    fak = policy.plan_buy(config(sizing=sizing), fill, book("0.50"), cap_micro=10 * MICRO)
    assert not isinstance(fak, policy.Skip)
    assert fak.shares_micro == 1_970_000 and fak.notional_micro >= MICRO
    # GTC may rest: the market's share minimum, 5 shares (2.55 pUSD at 0.51).
    gtc = config(sizing=sizing, order_type=OrderType.GTC)
    raised = policy.plan_buy(gtc, fill, book("0.50"), cap_micro=10 * MICRO)
    assert not isinstance(raised, policy.Skip)
    assert raised.shares_micro == 5 * MICRO
    skipped = policy.plan_buy(gtc, fill, book("0.50"), cap_micro=2 * MICRO)
    assert isinstance(skipped, policy.Skip)
    assert "minimum" in skipped.reason


@given(
    price=st.decimals(min_value="0.02", max_value="0.95", places=2),
    fixed=st.integers(min_value=1, max_value=50_000_000),
    order_type=st.sampled_from(list(OrderType)),
)
def test_the_reserve_covers_the_minimum_the_mirror_may_raise_to(
    price: Decimal, fixed: int, order_type: OrderType
) -> None:
    # What the pair holds back is the mirror's whole cap: with budget to spare, a fill the book
    # can take is never skipped for a minimum the reserve left out.
    cfg = config(sizing=Sizing(mode=SizingMode.FIXED, fixed_micro=fixed), order_type=order_type)
    fill = make_fill(1, price=str(price))
    reserved = policy.reserve_buy(cfg, fill, Position(), remaining_micro=100 * MICRO)
    assert isinstance(reserved, int)
    plan = policy.plan_buy(cfg, fill, book(str(price)), reserved)
    assert not isinstance(plan, policy.Skip), (reserved, plan)
    assert plan.notional_micro <= reserved


def test_the_reserve_never_exceeds_the_budget_left() -> None:
    cfg = config(sizing=Sizing(mode=SizingMode.FIXED, fixed_micro=MICRO // 2))
    tight = policy.reserve_buy(cfg, make_fill(1), Position(), remaining_micro=MICRO // 4)
    assert tight == MICRO // 4


def test_plan_buy_skips_when_the_book_is_beyond_the_cap() -> None:
    fill = make_fill(1, price="0.50")
    plan = policy.plan_buy(config(), fill, book("0.53"), 50 * MICRO)
    assert isinstance(plan, policy.Skip)
    assert "slippage" in plan.reason


def test_sizing_modes() -> None:
    fill = make_fill(1, price="0.40", shares=100 * MICRO)  # 40 pUSD notional
    fixed = config(sizing=Sizing(mode=SizingMode.FIXED, fixed_micro=7 * MICRO))
    prop = config(sizing=Sizing(mode=SizingMode.PROPORTIONAL, ratio=Decimal("0.25")))
    pct = config(sizing=Sizing(mode=SizingMode.PERCENT_SHARES, percent=Decimal("10")))
    assert policy.target_buy_notional(fixed, fill) == 7 * MICRO
    assert policy.target_buy_notional(prop, fill) == 10 * MICRO
    assert policy.target_buy_notional(pct, fill) == 4 * MICRO


def test_plan_sell_sells_the_same_fraction() -> None:
    fill = make_fill(2, side=Side.SELL, price="0.60", shares=25 * MICRO)
    held = Position(shares_micro=40 * MICRO, cost_micro=20 * MICRO)
    plan = policy.plan_sell(config(), fill, book("0.60"), held, source_before_micro=100 * MICRO)
    assert not isinstance(plan, policy.Skip)
    assert plan.shares_micro == 10 * MICRO
    assert plan.limit_price == Decimal("0.59")  # 0.582 rounded up to the tick
    none = policy.plan_sell(config(), fill, book("0.60"), Position(), 100 * MICRO)
    assert isinstance(none, policy.Skip)


def test_a_small_sell_is_mirrored_by_fak_but_not_by_a_resting_order() -> None:
    fill = make_fill(2, side=Side.SELL, price="0.60", shares=5 * MICRO)
    held = Position(shares_micro=40 * MICRO, cost_micro=20 * MICRO)
    fak = policy.plan_sell(config(), fill, book("0.60"), held, source_before_micro=100 * MICRO)
    assert not isinstance(fak, policy.Skip)
    assert fak.shares_micro == 2 * MICRO  # 5 % of 40, below the 5-share minimum of GTC
    gtc = config(order_type=OrderType.GTC)
    skipped = policy.plan_sell(gtc, fill, book("0.60"), held, source_before_micro=100 * MICRO)
    assert isinstance(skipped, policy.Skip) and "minimum" in skipped.reason
    # GTC sells everything when the rest would be too small to sell, and never less than 5.
    last = make_fill(3, side=Side.SELL, price="0.60", shares=50 * MICRO)
    small = Position(shares_micro=8 * MICRO, cost_micro=4 * MICRO)
    whole = policy.plan_sell(gtc, last, book("0.60"), small, source_before_micro=100 * MICRO)
    assert not isinstance(whole, policy.Skip) and whole.shares_micro == 8 * MICRO
    dust = Position(shares_micro=3 * MICRO, cost_micro=MICRO)
    refused = policy.plan_sell(gtc, last, book("0.60"), dust, source_before_micro=100 * MICRO)
    assert isinstance(refused, policy.Skip)
    # Selling everything sells whole share steps: an odd FAK fill's crumbs cannot be sold.
    everything = make_fill(5, side=Side.SELL, price="0.60", shares=100 * MICRO)
    odd = Position(shares_micro=5_862_745, cost_micro=3 * MICRO)
    out = policy.plan_sell(config(), everything, book("0.60"), odd, source_before_micro=100 * MICRO)
    assert not isinstance(out, policy.Skip) and out.shares_micro == 5_860_000
    crumbs = Position(shares_micro=3_921, cost_micro=2_000)
    none_left = policy.plan_sell(config(), everything, book("0.60"), crumbs, 100 * MICRO)
    assert isinstance(none_left, policy.Skip)
    tiny = make_fill(4, side=Side.SELL, price="0.60", shares=1)
    zero = policy.plan_sell(config(), tiny, book("0.60"), held, source_before_micro=100 * MICRO)
    assert isinstance(zero, policy.Skip) and "zero" in zero.reason


def test_eligibility_filters() -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    fresh = make_fill(1, block_time=now - timedelta(seconds=5))
    cfg = config()
    assert policy.check_eligible(cfg, PairStatus.ACTIVE, fresh, Position(), now) is None
    assert policy.check_eligible(cfg, PairStatus.PAUSED, fresh, Position(), now) is not None
    old = make_fill(1, block_time=now - timedelta(seconds=600))
    assert "old" in str(policy.check_eligible(cfg, PairStatus.ACTIVE, old, Position(), now))
    sell = make_fill(1, side=Side.SELL, block_time=now)
    assert policy.check_eligible(cfg, PairStatus.ACTIVE, sell, Position(), now) is not None
    buys_only = config(guards=Guards(buys_only=True))
    held = Position(shares_micro=MICRO)
    assert policy.check_eligible(buys_only, PairStatus.ACTIVE, sell, held, now) is not None
    cheap = make_fill(1, price="0.005", block_time=now)
    assert policy.check_eligible(cfg, PairStatus.ACTIVE, cheap, Position(), now) is not None


@given(
    remaining=st.integers(min_value=0, max_value=10**9),
    max_order=st.none() | st.integers(min_value=0, max_value=10**9),
    exposure=st.none() | st.integers(min_value=0, max_value=10**9),
    cost=st.integers(min_value=0, max_value=10**9),
)
def test_buy_cap_respects_every_limit(
    remaining: int, max_order: int | None, exposure: int | None, cost: int
) -> None:
    cfg = config(guards=Guards(max_order_micro=max_order, max_market_exposure_micro=exposure))
    cap = policy.buy_cap(cfg, Position(shares_micro=cost, cost_micro=cost), remaining)
    assert 0 <= cap <= remaining
    if max_order is not None:
        assert cap <= max_order
    if exposure is not None:
        assert cap <= max(0, exposure - cost)
