"""/pair's text: the reservations of the mirrors in flight, each and in total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.texts import state_text
from projectk.models import MICRO, InFlight, PairConfig, PairState, Side
from tests.bot.conftest import FOLLOWER, SOURCE

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"


def flight(decision: str, side: Side, reserved_micro: int, age_s: int) -> InFlight:
    """Return a mirror started `age_s` before NOW."""
    return InFlight(
        decision_id=decision,
        workflow_id=f"mirror/{decision}",
        side=side,
        token_id=TOKEN,
        reserved_micro=reserved_micro,
        started_at=NOW - timedelta(seconds=age_s),
    )


def state(*flights: InFlight) -> PairState:
    """Return a pair's state with these mirrors in flight."""
    config = PairConfig(
        pair_id="alpha",
        source=SOURCE,
        follower=FOLLOWER,
        key_ref="vault://follower",
        budget_micro=100 * MICRO,
    )
    return PairState(
        config=config,
        reserved_micro=sum(f.reserved_micro for f in flights),
        in_flight={f.decision_id: f for f in flights},
    )


def test_pair_shows_each_reservation_in_flight_and_their_total() -> None:
    text = state_text(
        state(
            flight("0xbb", Side.SELL, 0, 3 * 60 + 5),
            flight("0xaa", Side.BUY, 12_345_678, 42),
            flight("0xcc", Side.BUY, 5 * MICRO, 2 * 3600),
        ),
        NOW,
    )
    lines = text.split("\n")
    start = lines.index("  reserved in flight 17.35 pUSD:")
    assert lines[start + 1 : start + 4] == [
        "    BUY 713210…2563 · reserved 5.00 pUSD · 2 h",  # oldest first
        "    SELL 713210…2563 · reserved 0.00 pUSD · 3 min",
        "    BUY 713210…2563 · reserved 12.35 pUSD · 42 s",
    ]
    assert "in flight 3" in text


def test_pair_without_mirrors_in_flight_shows_no_reservations() -> None:
    text = state_text(state(), NOW)
    assert "in flight 0" in text and "reserved in flight" not in text
