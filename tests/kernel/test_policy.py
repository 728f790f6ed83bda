"""Sizing of one mirror decision, the price guard and the book check: unit and property tests."""

from __future__ import annotations

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
    Position,
    Side,
    Sizing,
    SizingMode,
)
from tests.fakes import FOLLOWER, SOURCE, make_fill, make_order

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
    order = make_order(make_fill(1, price=str(price)))
    plan = policy.plan_buy(cfg, order, "d", book(str(price)), fixed, cap)
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
    order = make_order(make_fill(1, price="0.50"))
    want = MICRO // 2
    # FAK (the default) trades on arrival: $1 is the minimum, 1.97 shares at 0.51.
    fak = policy.plan_buy(config(sizing=sizing), order, "d", book("0.50"), want, 10 * MICRO)
    assert not isinstance(fak, policy.Skip)
    assert fak.shares_micro == 1_970_000 and fak.notional_micro >= MICRO
    # GTC may rest: the market's share minimum, 5 shares (2.55 pUSD at 0.51).
    gtc = config(sizing=sizing, order_type=OrderType.GTC)
    raised = policy.plan_buy(gtc, order, "d", book("0.50"), want, 10 * MICRO)
    assert not isinstance(raised, policy.Skip)
    assert raised.shares_micro == 5 * MICRO
    skipped = policy.plan_buy(gtc, order, "d", book("0.50"), want, 2 * MICRO)
    assert isinstance(skipped, policy.Skip)
    assert "minimum" in skipped.reason


def test_plan_buy_skips_when_the_book_is_beyond_the_cap() -> None:
    order = make_order(make_fill(1, price="0.50"))
    plan = policy.plan_buy(config(), order, "d", book("0.53"), 5 * MICRO, 50 * MICRO)
    assert isinstance(plan, policy.Skip)
    assert "slippage" in plan.reason


def test_a_source_price_far_from_the_book_is_skipped() -> None:
    # The source prints 0.80 with a second wallet in a thin market whose book sits at 0.50.
    order = make_order(make_fill(1, price="0.80"))
    thin = Quote(
        token_id="1",
        bids=[BookLevel(price=Decimal("0.48"), size_micro=MICRO)],
        asks=[BookLevel(price=Decimal("0.80"), size_micro=100 * MICRO)],
    )
    plan = policy.plan_buy(config(), order, "d", thin, 5 * MICRO, 50 * MICRO)
    assert isinstance(plan, policy.Skip) and "from the book's mid 0.64" in plan.reason
    off = config(guards=Guards(max_book_distance=None))
    assert not isinstance(
        policy.plan_buy(off, order, "d", thin, 5 * MICRO, 50 * MICRO), policy.Skip
    )
    near = config(guards=Guards(max_book_distance=Decimal("0.2")))
    assert not isinstance(
        policy.plan_buy(near, order, "d", thin, 5 * MICRO, 50 * MICRO), policy.Skip
    )
    sell = make_order(make_fill(2, side=Side.SELL, price="0.80"))
    held = Position(shares_micro=10 * MICRO, cost_micro=5 * MICRO)
    skipped = policy.plan_sell(config(), sell, "d", thin, held, 100 * MICRO)
    assert isinstance(skipped, policy.Skip) and "book" in skipped.reason
    empty = Quote(token_id="1")
    assert isinstance(policy.plan_buy(config(), order, "d", empty, MICRO, MICRO), policy.Skip)


def test_plan_sell_sells_the_same_fraction() -> None:
    fill = make_order(make_fill(2, side=Side.SELL, price="0.60", shares=25 * MICRO))
    held = Position(shares_micro=40 * MICRO, cost_micro=20 * MICRO)
    plan = policy.plan_sell(config(), fill, "d", book("0.60"), held, 100 * MICRO)
    assert not isinstance(plan, policy.Skip)
    assert plan.shares_micro == 10 * MICRO
    assert plan.limit_price == Decimal("0.57")  # 0.60 less the 5 % exit cap
    none = policy.plan_sell(config(), fill, "d", book("0.60"), Position(), 100 * MICRO)
    assert isinstance(none, policy.Skip)


def test_plan_sell_tops_up_to_the_orders_running_fraction() -> None:
    # The source sells 25 then 15 more of 100 in one order: the follower sells 40 % of the 40
    # it held when the order's first decision started, less the 10 it already sold.
    first = make_fill(2, side=Side.SELL, price="0.60", shares=25 * MICRO, order=9)
    second = make_fill(3, side=Side.SELL, price="0.60", shares=15 * MICRO, order=9)
    order = make_order(first, second).model_copy(
        update={"basis_micro": 40 * MICRO, "done_micro": 10 * MICRO}
    )
    held = Position(shares_micro=30 * MICRO, cost_micro=15 * MICRO)
    plan = policy.plan_sell(config(), order, "d/2", book("0.60"), held, 100 * MICRO)
    assert not isinstance(plan, policy.Skip)
    assert plan.shares_micro == 6 * MICRO and plan.decision_id == "d/2"


def test_a_small_sell_is_mirrored_by_fak_but_not_by_a_resting_order() -> None:
    fill = make_order(make_fill(2, side=Side.SELL, price="0.60", shares=5 * MICRO))
    held = Position(shares_micro=40 * MICRO, cost_micro=20 * MICRO)
    fak = policy.plan_sell(config(), fill, "d", book("0.60"), held, 100 * MICRO)
    assert not isinstance(fak, policy.Skip)
    assert fak.shares_micro == 2 * MICRO  # 5 % of 40, below the 5-share minimum of GTC
    gtc = config(order_type=OrderType.GTC)
    skipped = policy.plan_sell(gtc, fill, "d", book("0.60"), held, 100 * MICRO)
    assert isinstance(skipped, policy.Skip) and "minimum" in skipped.reason
    # GTC sells everything when the rest would be too small to sell, and never less than 5.
    last = make_order(make_fill(3, side=Side.SELL, price="0.60", shares=50 * MICRO))
    small = Position(shares_micro=8 * MICRO, cost_micro=4 * MICRO)
    whole = policy.plan_sell(gtc, last, "d", book("0.60"), small, 100 * MICRO)
    assert not isinstance(whole, policy.Skip) and whole.shares_micro == 8 * MICRO
    dust = Position(shares_micro=3 * MICRO, cost_micro=MICRO)
    refused = policy.plan_sell(gtc, last, "d", book("0.60"), dust, 100 * MICRO)
    assert isinstance(refused, policy.Skip)
    # Selling everything sells whole share steps: an odd FAK fill's crumbs cannot be sold.
    everything = make_order(make_fill(5, side=Side.SELL, price="0.60", shares=100 * MICRO))
    odd = Position(shares_micro=5_862_745, cost_micro=3 * MICRO)
    out = policy.plan_sell(config(), everything, "d", book("0.60"), odd, 100 * MICRO)
    assert not isinstance(out, policy.Skip) and out.shares_micro == 5_860_000
    crumbs = Position(shares_micro=3_921, cost_micro=2_000)
    none_left = policy.plan_sell(config(), everything, "d", book("0.60"), crumbs, 100 * MICRO)
    assert isinstance(none_left, policy.Skip)
    tiny = make_order(make_fill(4, side=Side.SELL, price="0.60", shares=1))
    zero = policy.plan_sell(config(), tiny, "d", book("0.60"), held, 100 * MICRO)
    assert isinstance(zero, policy.Skip) and "zero" in zero.reason
