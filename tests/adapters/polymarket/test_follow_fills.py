"""A follow never counts fewer fills than the venue says happened: trades indexed late, a matched
FAK the order lookup no longer returns, and trades that undercount the order's `size_matched`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.polymarket.fills import FillEvidence, at_limit
from projectk.messages import FollowOrderInput, PostOrderInput, PostOrderResult, VenueOrderState
from projectk.models import MICRO, Side
from tests.adapters.polymarket.recorded_venue import WALLET, order_of, signed, venue_over
from tests.recorded import ORDERS, Sample, body, sample, with_body

NO_ROWS: Sample = {"status": 200, "body": []}


def mined(**changes: object) -> Sample:
    """Return the recorded trade of the matched order, its settlement mined."""
    row = {**body(ORDERS, "trades_of_order")[0], "status": "TRADE_STATUS_MINED", **changes}
    return {"status": 200, "body": [row]}


def follow_input(posted: PostOrderResult) -> FollowOrderInput:
    return FollowOrderInput(
        order=order_of("get_order_matched"),
        wallet=WALLET,
        posted=posted,
        deadline=datetime.now(UTC) + timedelta(seconds=5),
        poll_interval_s=0.01,
    )


async def test_trades_indexed_after_the_match_are_waited_for_and_counted() -> None:
    order = order_of("get_order_matched")
    venue, clob = venue_over(
        get_order=sample(ORDERS, "get_order_matched"), get_trades=[NO_ROWS, NO_ROWS, mined()]
    )
    posted = PostOrderResult(order_id=order.order_id, state=VenueOrderState.MATCHED)
    followed = await venue.follow(follow_input(posted))
    assert (followed.filled_shares_micro, followed.notional_micro) == (8 * MICRO, 4_800_000)
    assert [t.status for t in followed.trades] == ["MINED"] and not followed.trades_missing
    assert clob.calls["get_trades"] >= 3


async def test_a_matched_fak_the_lookup_does_not_return_counts_its_posted_trades() -> None:
    order = order_of("get_order_matched")
    venue, _ = venue_over(
        post_order=sample(ORDERS, "matched_partial_resting_maker"),
        get_order=sample(ORDERS, "get_order_unknown"),
        get_trades=[NO_ROWS, mined()],
    )
    posted = await venue.post(PostOrderInput(order=order, wallet=WALLET))
    followed = await venue.follow(follow_input(posted))
    assert followed.state is VenueOrderState.MATCHED
    assert (followed.filled_shares_micro, followed.notional_micro) == (8 * MICRO, 4_800_000)
    assert [t.trade_id for t in followed.trades] == posted.trade_ids


async def test_trade_ids_seen_while_live_are_kept_when_the_order_reads_missing() -> None:
    order = order_of("get_order_matched")
    trade_id = body(ORDERS, "trades_of_order")[0]["id"]
    partly = with_body(
        sample(ORDERS, "get_order_matched"), status="LIVE", associate_trades=[trade_id]
    )
    venue, _ = venue_over(
        get_order=[partly, sample(ORDERS, "get_order_unknown")], get_trades=mined()
    )
    posted = PostOrderResult(order_id=order.order_id, state=VenueOrderState.LIVE)
    followed = await venue.follow(follow_input(posted))
    assert followed.filled_shares_micro == 8 * MICRO
    assert [t.trade_id for t in followed.trades] == [trade_id]


async def test_size_matched_above_the_trades_found_is_reported_and_marked_inferred() -> None:
    order = order_of("get_order_matched")
    maker = {**body(ORDERS, "trades_of_order")[0]["maker_orders"][0], "matched_amount": "5"}
    venue, clob = venue_over(
        trade_wait_s=0.3,
        get_order=sample(ORDERS, "get_order_matched"),
        get_trades=mined(size="5", maker_orders=[maker]),
    )
    posted = PostOrderResult(order_id=order.order_id, state=VenueOrderState.MATCHED)
    followed = await venue.follow(follow_input(posted))
    # 5 shares traded at 0.6 were found; size_matched says 8: the 3 unseen are priced at the
    # limit (0.6), the most a BUY could have paid for them
    assert followed.filled_shares_micro == 8 * MICRO
    assert followed.notional_micro == 5 * 600_000 + 3 * 600_000
    assert followed.trades_missing
    found, inferred = followed.trades
    assert found.shares_micro == 5 * MICRO and found.status == "MINED"
    # the ledger keeps the inferred part as a row of its own, named as inferred
    assert (inferred.trade_id, inferred.status) == (f"inferred:{order.order_id}", "INFERRED")
    assert (inferred.shares_micro, inferred.notional_micro) == (3 * MICRO, 1_800_000)
    assert (followed.inferred_shares_micro, followed.inferred_notional_micro) == (
        3 * MICRO,
        1_800_000,
    )
    assert clob.calls["get_trades"] > 1  # it waited for the rest before inferring it


async def test_a_post_answer_with_no_trade_rows_after_the_wait_is_still_counted() -> None:
    # The post said 8 shares matched for $4.80; the order is gone and no trade row ever shows.
    order = order_of("get_order_matched")
    venue, _ = venue_over(
        trade_wait_s=0.3,
        post_order=sample(ORDERS, "matched_partial_resting_maker"),
        get_order=sample(ORDERS, "get_order_unknown"),
        get_trades=NO_ROWS,
    )
    posted = await venue.post(PostOrderInput(order=order, wallet=WALLET))
    followed = await venue.follow(follow_input(posted))
    assert followed.state is VenueOrderState.MATCHED
    assert [t.status for t in followed.trades] == ["INFERRED"]
    assert (followed.filled_shares_micro, followed.notional_micro) == (8 * MICRO, 4_800_000)
    assert followed.trades_missing and followed.missing_trade_ids == posted.trade_ids


def test_unseen_shares_are_priced_at_the_limit_the_safe_way_round() -> None:
    buy, sell = signed("0xb"), signed("0xs", Side.SELL)
    # 0.6 x 1.0000005 shares = 0.6000003 pUSD: a BUY may have paid up to it, a SELL got at least it
    assert at_limit(buy, 1_000_001) == 600_001
    assert at_limit(sell, 1_000_001) == 600_000


def test_no_rows_are_never_settled_while_something_is_known_to_have_filled() -> None:
    assert FillEvidence().settled([])
    assert not FillEvidence(trade_ids=["t"]).settled([])
    assert not FillEvidence(claimed_micro=1).settled([])
