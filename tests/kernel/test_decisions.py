"""One decision per source order: folding fills, deciding, caps that count what is in flight
(unit tests and a property test over random sequences of fills, reports, timeouts and cancels)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from projectk import books, decisions
from projectk.models import (
    MICRO,
    Exchange,
    Guards,
    InFlight,
    MarketVersion,
    MirrorOutcome,
    MirrorReport,
    PairConfig,
    PairState,
    PairStatus,
    Position,
    Side,
    Sizing,
    SizingMode,
)
from tests.fakes import FOLLOWER, SOURCE, make_fill

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
YES, NO, OTHER = "101", "102", "201"  # YES and NO trade in market A, OTHER in market B
MARKETS = {YES: "0xa", NO: "0xa", OTHER: "0xb"}


def pair(budget: int = 100 * MICRO, **changes: object) -> PairState:
    base: dict[str, object] = {
        "pair_id": "p",
        "source": SOURCE,
        "follower": FOLLOWER,
        "key_ref": "vault://f",
        "budget_micro": budget,
    }
    base.update(changes)
    return PairState(config=PairConfig(**base), markets=dict(MARKETS))  # type: ignore[arg-type]


def start(state: PairState, outcome: decisions.Decision) -> PairState:
    assert isinstance(outcome, decisions.Start), outcome
    order = outcome.order
    flight = InFlight(
        decision_id=outcome.decision_id,
        workflow_id=f"mirror/p/{outcome.decision_id}",
        side=order.side,
        token_id=order.token_id,
        reserved_micro=outcome.reserved_micro,
        started_at=NOW,
        order_key=order.key,
        market=state.markets.get(order.token_id, ""),
        fill_ids=list(outcome.fill_ids),
    )
    return decisions.start_flight(state, outcome, flight)


def report(state: PairState, decision_id: str, shares: int, notional: int) -> PairState:
    flight = state.in_flight[decision_id]
    done = MirrorReport(
        decision_id=decision_id,
        outcome=MirrorOutcome.FILLED if shares else MirrorOutcome.UNFILLED,
        token_id=flight.token_id,
        side=flight.side,
        filled_shares_micro=shares,
        notional_micro=notional,
    )
    return books.apply_report(state, done, NOW)[0]


def test_six_pieces_of_one_order_make_one_fixed_decision() -> None:
    state = pair(sizing=Sizing(mode=SizingMode.FIXED, fixed_micro=5 * MICRO))
    pieces = [make_fill(n, shares=10 * MICRO, order=1, block_time=NOW) for n in range(1, 7)]
    state = decisions.fold_fill(state, pieces[0])
    first = decisions.decide(state, pieces[0].order_key, NOW)
    assert isinstance(first, decisions.Start) and first.decision_id == pieces[0].order_hash
    assert first.want_micro == 5 * MICRO
    state = start(state, first)
    for piece in pieces[1:3]:  # while the mirror is in flight: the order waits
        state = decisions.fold_fill(state, piece)
        assert isinstance(decisions.decide(state, piece.order_key, NOW), decisions.Wait)
    state = report(state, first.decision_id, 9_800_000, 4_998_000)
    assert decisions.waiting_orders(state) == [pieces[0].order_key]
    again = decisions.decide(state, pieces[0].order_key, NOW)
    assert isinstance(again, decisions.Skip) and "fixed size" in again.reason
    for piece in pieces[3:]:
        state = decisions.fold_fill(state, piece)
        assert isinstance(decisions.decide(state, piece.order_key, NOW), decisions.Skip)
    assert state.mirrors_started == 1
    assert state.orders[pieces[0].order_key].shares_micro == 60 * MICRO


def test_a_proportional_order_tops_up_to_its_running_total_without_raising_dust() -> None:
    state = pair(sizing=Sizing(mode=SizingMode.PROPORTIONAL, ratio=Decimal("0.1")))
    key = make_fill(1, order=7).order_key
    # Piece 1: 10 shares at 0.50 = 5 pUSD; 10 % is 0.50, raised to the minimum once.
    state = decisions.fold_fill(state, make_fill(1, shares=10 * MICRO, order=7, block_time=NOW))
    first = decisions.decide(state, key, NOW)
    assert isinstance(first, decisions.Start)
    minimum = decisions.buy_minimum_micro(state.config, Decimal("0.50"))
    assert first.want_micro == minimum
    state = start(state, first)
    state = report(state, first.decision_id, 2 * MICRO, MICRO)  # 1 pUSD paid
    # Pieces 2-3: the order's total is 15 pUSD, 10 % = 1.5; 0.5 more is dust: skipped, not raised.
    state = decisions.fold_fill(state, make_fill(2, shares=10 * MICRO, order=7, block_time=NOW))
    dust = decisions.decide(state, key, NOW)
    assert isinstance(dust, decisions.Skip) and "below the exchange minimum" in dust.reason
    state, _ = decisions.skip_undecided(state, key)
    # Pieces up to 60 shares (30 pUSD): 10 % = 3 pUSD, 2 more than paid: one top-up of 2.
    for n in range(3, 7):
        state = decisions.fold_fill(state, make_fill(n, shares=10 * MICRO, order=7, block_time=NOW))
    top_up = decisions.decide(state, key, NOW)
    assert isinstance(top_up, decisions.Start)
    assert top_up.decision_id == f"{key}/2" and top_up.want_micro == 2 * MICRO
    assert len(top_up.fill_ids) == 4


def test_caps_are_per_market_and_count_buys_in_flight() -> None:
    cap = 10 * MICRO
    state = pair(
        sizing=Sizing(mode=SizingMode.FIXED, fixed_micro=6 * MICRO),
        guards=Guards(max_market_exposure_micro=cap),
    )
    yes = make_fill(1, token_id=YES, block_time=NOW)
    state = start(
        decisions.fold_fill(state, yes),
        decisions.decide(decisions.fold_fill(state, yes), yes.order_key, NOW),
    )
    # Yes is in flight with 6 reserved: No (same market) gets the 4 left, OTHER a whole cap.
    no = make_fill(2, token_id=NO, block_time=NOW)
    state = decisions.fold_fill(state, no)
    second = decisions.decide(state, no.order_key, NOW)
    assert isinstance(second, decisions.Start) and second.reserved_micro == 4 * MICRO
    state = start(state, second)
    third = make_fill(3, token_id=YES, block_time=NOW)
    state = decisions.fold_fill(state, third)
    full = decisions.decide(state, third.order_key, NOW)
    assert isinstance(full, decisions.Skip) and "cap" in full.reason
    other = make_fill(4, token_id=OTHER, block_time=NOW)
    state = decisions.fold_fill(state, other)
    elsewhere = decisions.decide(state, other.order_key, NOW)
    assert isinstance(elsewhere, decisions.Start) and elsewhere.reserved_micro == 6 * MICRO


def test_a_sell_waits_for_the_buy_in_flight_and_for_another_sell() -> None:
    state = pair()
    buy = make_fill(1, token_id=YES, block_time=NOW)
    state = decisions.fold_fill(state, buy)
    bought = decisions.decide(state, buy.order_key, NOW)
    state = start(state, bought)
    sell = make_fill(2, side=Side.SELL, token_id=YES, block_time=NOW)
    state = decisions.fold_fill(state, sell)
    waits = decisions.decide(state, sell.order_key, NOW)
    assert isinstance(waits, decisions.Wait) and "BUY in flight" in waits.reason
    assert isinstance(bought, decisions.Start)
    state = report(state, bought.decision_id, 9 * MICRO, 4_500_000)
    assert decisions.waiting_orders(state) == [sell.order_key]
    sold = decisions.decide(state, sell.order_key, NOW)
    assert isinstance(sold, decisions.Start) and sold.order.basis_micro == 9 * MICRO
    state = start(state, sold)
    later = make_fill(3, side=Side.SELL, token_id=YES, block_time=NOW)
    state = decisions.fold_fill(state, later)
    assert "SELL in flight" in str(decisions.decide(state, later.order_key, NOW))


def test_exits_are_not_dropped_for_age_unless_the_operator_says_so() -> None:
    state = pair().model_copy(
        update={"positions": {YES: Position(shares_micro=10 * MICRO, cost_micro=5 * MICRO)}}
    )
    late = make_fill(1, side=Side.SELL, token_id=YES, block_time=NOW - timedelta(minutes=9))
    state = decisions.fold_fill(state, late)
    assert isinstance(decisions.decide(state, late.order_key, NOW), decisions.Start)
    strict = state.model_copy(
        update={"config": state.config.model_copy(update={"guards": Guards(max_sell_age_s=60)})}
    )
    dropped = decisions.decide(strict, late.order_key, NOW)
    assert isinstance(dropped, decisions.Skip) and "SELL fill is 540 s old" in dropped.reason
    old_buy = make_fill(2, token_id=OTHER, block_time=NOW - timedelta(minutes=9))
    state = decisions.fold_fill(state, old_buy)
    assert "BUY fill is 540 s old" in str(decisions.decide(state, old_buy.order_key, NOW))


def test_decisions_in_a_market_start_in_the_sources_order() -> None:
    # The source sells (order 1, waiting for the BUY in flight) and then buys again (order 3):
    # the later BUY waits behind the SELL, so the SELL never sells the new shares.
    state = pair()
    buy = make_fill(1, token_id=YES, block_time=NOW)
    state = decisions.fold_fill(state, buy)
    first = decisions.decide(state, buy.order_key, NOW)
    state = start(state, first)
    sell = make_fill(2, side=Side.SELL, token_id=YES, block_time=NOW)
    again = make_fill(3, token_id=NO, block_time=NOW)
    state = decisions.fold_fill(decisions.fold_fill(state, sell), again)
    assert isinstance(decisions.decide(state, sell.order_key, NOW), decisions.Wait)
    behind = decisions.decide(state, again.order_key, NOW)
    assert isinstance(behind, decisions.Wait) and "earlier source order" in behind.reason
    assert isinstance(first, decisions.Start)
    state = report(state, first.decision_id, 9 * MICRO, 4_500_000)
    assert decisions.waiting_orders(state) == [sell.order_key, again.order_key]
    state = start(state, decisions.decide(state, sell.order_key, NOW))
    # The SELL is sized from the position it started with: the BUY may go now.
    assert isinstance(decisions.decide(state, again.order_key, NOW), decisions.Start)


def test_a_sell_without_a_position_and_an_inactive_pair_are_skipped() -> None:
    state = pair()
    sell = make_fill(1, side=Side.SELL, block_time=NOW)
    state = decisions.fold_fill(state, sell)
    assert "no position" in str(decisions.decide(state, sell.order_key, NOW))
    paused = state.model_copy(update={"status": PairStatus.PAUSED})
    assert "paused" in str(decisions.decide(paused, sell.order_key, NOW))


def test_orders_are_pruned_but_never_while_in_flight_or_waiting() -> None:
    state = pair(budget=10_000 * MICRO)
    busy = make_fill(1, block_time=NOW)
    state = decisions.fold_fill(state, busy)
    state = start(state, decisions.decide(state, busy.order_key, NOW))
    for n in range(2, decisions.MAX_ORDERS_KEPT + 50):
        fill = make_fill(n, block_time=NOW)
        state, _ = decisions.skip_undecided(decisions.fold_fill(state, fill), fill.order_key)
    pruned = decisions.prune_orders(state)
    assert len(pruned.orders) == decisions.MAX_ORDERS_KEPT
    assert busy.order_key in pruned.orders


def test_a_v2_fill_makes_its_order_and_token_read_from_v2_balances() -> None:
    state = pair()
    v2 = make_fill(1, block_time=NOW, token_id=OTHER, exchange=Exchange.V3)
    state = decisions.fold_fill(decisions.fold_fill(state, make_fill(2, block_time=NOW)), v2)
    assert state.orders[v2.order_key].market_version is MarketVersion.V2
    assert state.orders[make_fill(2).order_key].market_version is MarketVersion.V1
    assert state.versions == {OTHER: MarketVersion.V2}  # v1 tokens are the default, not listed
    assert decisions.versions_of(state, [YES, OTHER]) == {OTHER: MarketVersion.V2}


def test_pruning_keeps_the_version_of_a_token_still_held() -> None:
    state = pair(budget=10_000 * MICRO)
    held = make_fill(1, block_time=NOW, token_id=OTHER, exchange=Exchange.V3)
    state, _ = decisions.skip_undecided(decisions.fold_fill(state, held), held.order_key)
    state = state.model_copy(update={"positions": {OTHER: Position(shares_micro=MICRO)}})
    for n in range(2, decisions.MAX_ORDERS_KEPT + 50):
        fill = make_fill(n, block_time=NOW)
        state, _ = decisions.skip_undecided(decisions.fold_fill(state, fill), fill.order_key)
    pruned = decisions.prune_orders(state)
    assert held.order_key not in pruned.orders
    assert pruned.versions == {OTHER: MarketVersion.V2}
    sold = pruned.model_copy(update={"positions": {}})  # once not held, it goes with the markets
    fill = make_fill(decisions.MAX_ORDERS_KEPT + 60, block_time=NOW)
    sold, _ = decisions.skip_undecided(decisions.fold_fill(sold, fill), fill.order_key)
    assert decisions.prune_orders(sold).versions == {}


# -- the property test ------------------------------------------------------------------------

FILL = st.tuples(
    st.just("fill"),
    st.integers(0, 5),  # source order number
    st.sampled_from([YES, YES, YES, NO, OTHER]),
    st.integers(1, 60).map(lambda n: n * MICRO),  # shares
    st.sampled_from(["0.20", "0.50", "0.80"]),
)
REPORT = st.tuples(
    st.just("report"),
    st.integers(0, 10),  # which flight
    st.sampled_from(list(MirrorOutcome)),
    st.integers(0, 100),  # percent of the most it could fill
    st.integers(0, 0),
)
DECIDE = st.tuples(st.just("decide"), st.just(0), st.just(""), st.just(0), st.just(""))


@settings(max_examples=400, deadline=None)
@given(
    ops=st.lists(st.one_of(FILL, REPORT, DECIDE), max_size=60),
    mode=st.sampled_from(list(SizingMode)),
    cap=st.integers(2, 30).map(lambda n: n * MICRO),
    budget=st.integers(2, 300).map(lambda n: n * MICRO),
    max_order=st.none() | st.integers(2, 20).map(lambda n: n * MICRO),
)
def test_committed_money_never_passes_a_cap_and_sells_never_exceed_what_is_held(
    ops: list[tuple[str, int, str, int, str]],
    mode: SizingMode,
    cap: int,
    budget: int,
    max_order: int | None,
) -> None:
    state = pair(
        budget=budget,
        sizing=Sizing(mode=mode, fixed_micro=4 * MICRO, ratio=Decimal("0.5"), percent=Decimal(50)),
        guards=Guards(max_market_exposure_micro=cap, max_order_micro=max_order),
    )
    sides: dict[int, Side] = {}
    tokens: dict[int, str] = {}
    started_with: dict[str, int] = {}  # a SELL decision: the position it was started with
    n = 0
    for op, a, b, c, d in ops:
        keys: list[str] = []
        if op == "fill":
            n += 1
            side = sides.setdefault(a, Side.SELL if a % 3 == 2 else Side.BUY)
            token = tokens.setdefault(a, b)
            fill = make_fill(
                n, side=side, token_id=token, shares=c, price=d, order=a + 1, block_time=NOW
            )
            state = decisions.fold_fill(state, fill)
            keys = [fill.order_key]
        elif op == "report" and state.in_flight:
            flights = sorted(state.in_flight)
            flight = state.in_flight[flights[a % len(flights)]]
            if flight.side is Side.BUY:
                paid = flight.reserved_micro * c // 100  # a mirror never spends past its hold
                shares = paid * 2  # bought at 0.50
            else:
                shares = started_with[flight.decision_id] * c // 100
                held = state.positions.get(flight.token_id, Position()).shares_micro
                assert shares <= held, "a SELL sold more than the pair holds"
                paid = shares // 2
            if b in (MirrorOutcome.SKIPPED, MirrorOutcome.FAILED):
                shares = paid = 0
            outcome = MirrorReport(
                decision_id=flight.decision_id,
                outcome=b,
                token_id=flight.token_id,
                side=flight.side,
                filled_shares_micro=shares,
                notional_micro=paid,
            )
            state = books.apply_report(state, outcome, NOW)[0]
            keys = decisions.waiting_orders(state)
        elif op == "decide":
            keys = decisions.waiting_orders(state)
        for key in keys:
            outcome_d = decisions.decide(state, key, NOW)
            if isinstance(outcome_d, decisions.Start):
                order = outcome_d.order
                if order.side is Side.SELL:
                    held = state.positions.get(order.token_id, Position()).shares_micro
                    started_with[outcome_d.decision_id] = held
                state = start(state, outcome_d)
            elif isinstance(outcome_d, decisions.Skip):
                state, _ = decisions.skip_undecided(state, key)
        # The invariants, after every step.
        assert state.spent_micro + state.reserved_micro <= budget
        assert state.reserved_micro == sum(f.reserved_micro for f in state.in_flight.values())
        for market in set(MARKETS.values()):  # counted here, not by the code under test
            booked = sum(
                held.cost_micro for t, held in state.positions.items() if MARKETS[t] == market
            )
            flying = sum(
                f.reserved_micro
                for f in state.in_flight.values()
                if f.side is Side.BUY and MARKETS[f.token_id] == market
            )
            assert booked + flying <= cap
        for flight in state.in_flight.values():
            if max_order is not None:
                assert flight.reserved_micro <= max_order
        sells = [f.token_id for f in state.in_flight.values() if f.side is Side.SELL]
        assert len(sells) == len(set(sells)), "two SELLs in flight in one token"


def test_a_resting_orders_later_pieces_queue_behind_a_sell_that_came_before_them() -> None:
    # Order A (a resting BUY) fills at block 1001, then a SELL order at 1002, then A again at
    # 1003 while A's first mirror is in flight: the SELL goes before A's new pieces.
    state = pair()
    a1 = make_fill(1, token_id=YES, block_time=NOW, order=50)
    state = decisions.fold_fill(state, a1)
    first = decisions.decide(state, a1.order_key, NOW)
    state = start(state, first)
    sell = make_fill(2, side=Side.SELL, token_id=YES, block_time=NOW)
    a2 = make_fill(3, token_id=YES, block_time=NOW, order=50)
    state = decisions.fold_fill(decisions.fold_fill(state, sell), a2)
    assert decisions.waiting_orders(state) == [sell.order_key, a1.order_key]
    assert isinstance(first, decisions.Start)
    state = report(state, first.decision_id, 9 * MICRO, 4_500_000)
    assert isinstance(decisions.decide(state, sell.order_key, NOW), decisions.Start)
    behind = decisions.decide(state, a1.order_key, NOW)
    assert isinstance(behind, decisions.Wait) and "earlier source order" in behind.reason


def test_an_order_remembers_a_bounded_number_of_fill_ids() -> None:
    state = pair(budget=10**6 * MICRO)
    for n in range(1, 40):
        state = decisions.fold_fill(state, make_fill(n, order=5, block_time=NOW))
    order = state.orders[make_fill(1, order=5).order_key]
    assert len(order.fills) == decisions.MAX_FILLS_KEPT and order.fill_count == 39
