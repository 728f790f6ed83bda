"""ClobVenue when the CLOB's answers leave an order's fate open (recorded answers, no sandbox):
the account's trades are searched for an order its lookup does not return, a refused lookup is
never "nothing on the CLOB", and an unknown status is retried and alerted, never LIVE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.orders import OrderActivities
from projectk.messages import FollowOrderInput, PostOrderInput, PostOrderResult, VenueOrderState
from projectk.models import MICRO
from tests.adapters.polymarket.recorded_venue import WALLET, order_of, venue_over
from tests.recorded import ORDERS, Sample, sample, with_body

NULL: Sample = {"status": 200, "body": None}
NO_TRADES: Sample = {"status": 200, "body": []}


def settled_trades() -> Sample:
    """The recorded trade of `get_order_matched`'s order (8 shares at 0.6), mined."""
    rows = sample(ORDERS, "trades_of_order")["body"]
    return {"status": 200, "body": [{**rows[0], "status": "MINED"}]}


def follow_input(posted: PostOrderResult) -> FollowOrderInput:
    order = order_of("get_order_matched")
    return FollowOrderInput(
        order=order,
        wallet=WALLET,
        posted=posted,
        deadline=datetime.now(UTC) + timedelta(seconds=5),
        poll_interval_s=0.01,
    )


async def test_a_retried_post_finds_a_matched_order_the_lookup_misses_in_its_trades() -> None:
    venue, clob = venue_over(get_order=NULL, get_trades=settled_trades())
    order = order_of("get_order_matched")
    result = await venue.post(PostOrderInput(order=order, wallet=WALLET), attempt=2)
    assert result.state is VenueOrderState.MATCHED and result.reason == "found in trades"
    assert result.filled_shares_micro == 8 * MICRO and len(result.trade_ids) == 1
    assert clob.calls["post_order"] == 0  # found: not posted again


@pytest.mark.parametrize("status", [400, 403, 500])
async def test_a_refused_lookup_leaves_the_outcome_unknown_and_posts_nothing(status: int) -> None:
    venue, clob = venue_over(get_order={"status": status, "body": {"error": "no"}})
    order = order_of("get_order_matched")
    with pytest.raises(ApplicationError) as err:
        await venue.post(PostOrderInput(order=order, wallet=WALLET), attempt=2)
    assert err.value.type == "OrderOutcomeUnknown" and not err.value.non_retryable
    assert clob.calls["post_order"] == 0


async def test_a_lookup_that_says_not_found_lets_the_same_order_be_posted_again() -> None:
    venue, clob = venue_over(
        get_order={"status": 404, "body": {"error": "not found"}},
        get_trades=NO_TRADES,
        post_order=sample(ORDERS, "live"),
    )
    order = order_of("get_order_matched")
    result = await venue.post(PostOrderInput(order=order, wallet=WALLET), attempt=2)
    assert result.state is VenueOrderState.LIVE and clob.calls["post_order"] == 1


async def test_a_duplicate_nothing_shows_yet_is_accepted_for_the_follow_to_read() -> None:
    venue, _ = venue_over(
        post_order=sample(ORDERS, "duplicated"), get_order=NULL, get_trades=NO_TRADES
    )
    order = order_of("get_order_matched")
    result = await venue.post(PostOrderInput(order=order, wallet=WALLET))
    assert result.state is VenueOrderState.LIVE and result.reason.endswith("Duplicated.")


async def test_a_follow_of_an_order_nothing_named_searches_the_trades_until_they_show() -> None:
    # The lookup never returns the order and its trade is indexed only at the third search.
    venue, clob = venue_over(
        get_order=NULL, get_trades=[NO_TRADES, NO_TRADES, settled_trades()], trade_wait_s=5
    )
    posted = PostOrderResult(
        order_id=order_of("get_order_matched").order_id, state=VenueOrderState.LIVE
    )
    result = await venue.follow(follow_input(posted))
    assert result.state is VenueOrderState.MATCHED
    assert (result.filled_shares_micro, result.notional_micro) == (8 * MICRO, 4_800_000)
    assert not result.trades_missing and clob.calls["get_trades"] >= 3


async def test_a_follow_of_an_order_that_never_traded_ends_missing_after_the_wait() -> None:
    venue, clob = venue_over(get_order=NULL, get_trades=NO_TRADES, trade_wait_s=0.2)
    posted = PostOrderResult(
        order_id=order_of("get_order_matched").order_id, state=VenueOrderState.LIVE
    )
    result = await venue.follow(follow_input(posted))
    assert result.state is VenueOrderState.MISSING and result.filled_shares_micro == 0
    assert clob.calls["get_trades"] >= 2  # searched more than once before giving up


class Alerts:
    """An alert sink that keeps what it was given, once per key like the ledger."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Any, ...]] = {}

    def record_alert(
        self, dedup_key: str, level: str, kind: str, message: str, pair_id: str | None = None
    ) -> bool:
        new = dedup_key not in self.rows
        self.rows.setdefault(dedup_key, (level, kind, message))
        return new


async def test_an_unknown_status_is_retried_and_alerted_once_never_live() -> None:
    odd = with_body(sample(ORDERS, "get_order_live"), status="ORDER_STATUS_SOMETHING_NEW")
    venue, clob = venue_over(get_order=odd)
    alerts = Alerts()
    activities = OrderActivities(venue, alerts)
    order = order_of("get_order_live")
    data = follow_input(
        PostOrderResult(order_id=order.order_id, state=VenueOrderState.LIVE)
    ).model_copy(update={"order": order})
    env = ActivityEnvironment()
    for _ in range(2):
        with pytest.raises(ApplicationError) as err:
            await env.run(activities.follow_order, data)
        assert err.value.type == "VenueUnknownStatus" and not err.value.non_retryable
    assert clob.calls["cancel_order"] == 0
    [(level, kind, message)] = alerts.rows.values()
    assert (level, kind) == ("high", "venue") and "ORDER_STATUS_SOMETHING_NEW" in message
