"""`projectk bench mirror` finds each mirror a pair started from the pair's own state."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from cli.tools.bench.mirror import mirror_decisions
from projectk.models import MICRO, PairConfig, PairState, Side, SourceOrder

TX_A, TX_B = "0x" + "a1" * 32, "0x" + "b2" * 32
ORDER_A, ORDER_B, ORDER_C = ("0x" + c * 64 for c in "abc")


def _order(key: str, fills: list[str], decisions: int) -> SourceOrder:
    return SourceOrder(
        key=key,
        token_id="1",
        side=Side.BUY,
        last_price=Decimal("0.5"),
        first_block=1,
        last_time=datetime(2026, 12, 1, tzinfo=UTC),
        fills=fills,
        decisions=decisions,
    )


def test_each_decision_of_each_order_names_its_mirror_and_the_first_fills_tx() -> None:
    config = PairConfig(
        pair_id="bench-0",
        source="0x" + "11" * 20,
        follower="0x" + "22" * 20,
        key_ref="vault://demo1",
        budget_micro=100 * MICRO,
    )
    orders = {
        ORDER_A: _order(ORDER_A, [f"{TX_A}:{ORDER_A}", f"{TX_B}:{ORDER_A}"], decisions=2),
        ORDER_B: _order(ORDER_B, [f"{TX_B}:{ORDER_B}"], decisions=1),
        ORDER_C: _order(ORDER_C, [f"{TX_B}:{ORDER_C}"], decisions=0),  # skipped: no mirror
    }
    state = PairState(config=config, orders=orders)
    assert list(mirror_decisions(state)) == [
        (f"mirror/bench-0/{ORDER_A}", TX_A),
        (f"mirror/bench-0/{ORDER_A}/2", ""),  # a top-up: a later fill started it
        (f"mirror/bench-0/{ORDER_B}", TX_B),
    ]
