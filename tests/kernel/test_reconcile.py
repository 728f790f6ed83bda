"""Reconciliation: only lowers to what the chain holds, splits a shared funder, and alerts every
repair (pure functions)."""

from __future__ import annotations

from projectk.models import MICRO, AlertKind, PairState, Position
from projectk.reconcile import apply_repairs, find_repairs
from tests.workflows.harness import pair_config


def state_with(**positions: Position) -> PairState:
    return PairState(config=pair_config("rec"), positions=dict(positions))


def test_matching_books_need_no_repair() -> None:
    positions = {"a": Position(shares_micro=5 * MICRO, cost_micro=2 * MICRO)}
    assert find_repairs(positions, {"a": 5 * MICRO}) == []


def test_missing_balance_means_nothing_to_compare() -> None:
    positions = {"a": Position(shares_micro=5 * MICRO, cost_micro=2 * MICRO)}
    assert find_repairs(positions, {}) == []


def test_chain_cuts_and_clears_but_never_adopts() -> None:
    state = state_with(
        a=Position(shares_micro=10 * MICRO, cost_micro=4 * MICRO),
        b=Position(shares_micro=5 * MICRO, cost_micro=2 * MICRO),
        c=Position(shares_micro=1 * MICRO, cost_micro=MICRO // 2),
    )
    balances = {"a": 5 * MICRO, "b": 7 * MICRO, "c": 0}
    repaired, alerts = apply_repairs(state, find_repairs(state.positions, balances), "t0")
    # b: the chain holds 2 more than booked (the owner's, or another pair's): never adopted.
    assert repaired.positions == {
        "a": Position(shares_micro=5 * MICRO, cost_micro=2 * MICRO),
        "b": Position(shares_micro=5 * MICRO, cost_micro=2 * MICRO),
    }
    assert [a.kind for a in alerts] == [AlertKind.RECONCILED] * 2
    assert len({a.dedup_key for a in alerts}) == 2


def test_a_shared_funder_is_split_by_what_each_pair_booked() -> None:
    # Two pairs booked 6 and 4 of a token; the chain holds 5: each keeps its share, 3 and 2.
    mine = state_with(a=Position(shares_micro=6 * MICRO, cost_micro=3 * MICRO))
    repairs = find_repairs(mine.positions, {"a": 5 * MICRO}, others={"a": 4 * MICRO})
    repaired, alerts = apply_repairs(mine, repairs, "t0")
    assert repaired.positions["a"].shares_micro == 3 * MICRO
    assert "its share" in alerts[0].message
    # Enough on chain for both: nothing to repair, and never more than booked.
    assert find_repairs(mine.positions, {"a": 20 * MICRO}, others={"a": 4 * MICRO}) == []


def test_a_cut_keeps_the_cost_a_sale_of_the_missing_shares_would_leave() -> None:
    state = state_with(a=Position(shares_micro=3, cost_micro=10))
    repaired, _ = apply_repairs(state, find_repairs(state.positions, {"a": 2}), "t0")
    left, _ = Position(shares_micro=3, cost_micro=10).sell(1)
    assert repaired.positions["a"] == left == Position(shares_micro=2, cost_micro=7)
