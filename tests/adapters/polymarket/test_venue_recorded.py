"""ClobVenue over recorded CLOB answers (`RecordedClob`): what each answer makes of a post, a
follow, a cancel and a quote, without a sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from adapters.polymarket.venue import ClobVenue
from projectk.messages import (
    CancelOrdersInput,
    FollowOrderInput,
    PostOrderInput,
    PostOrderResult,
    QuoteInput,
    SignedOrder,
    VenueOrderState,
)
from projectk.models import MICRO
from tests.adapters.polymarket.recorded_venue import WALLET, order_of, signed, venue_over
from tests.recorded import ORDERS, READS, body, sample, with_body


async def post(venue: ClobVenue, order: SignedOrder, attempt: int = 1) -> PostOrderResult:
    return await venue.post(PostOrderInput(order=order, wallet=WALLET), attempt=attempt)


async def test_a_live_answer_is_accepted_without_a_lookup() -> None:
    venue, clob = venue_over(post_order=sample(ORDERS, "live"))
    result = await post(venue, signed(body(ORDERS, "live")["orderID"]))
    assert result.state is VenueOrderState.LIVE and result.filled_shares_micro == 0
    assert clob.calls["get_order"] == 0


async def test_a_matched_buy_reports_shares_and_pusd_the_right_way_round() -> None:
    venue, _ = venue_over(post_order=sample(ORDERS, "matched_partial_resting_maker"))
    result = await post(venue, order_of("get_order_matched"))
    assert result.state is VenueOrderState.MATCHED
    assert (result.filled_shares_micro, result.notional_micro) == (8 * MICRO, 4_800_000)
    assert result.trade_ids == body(ORDERS, "matched_partial_resting_maker")["tradeIDs"]


async def test_a_duplicate_is_found_by_hash_and_not_posted_again() -> None:
    venue, clob = venue_over(
        post_order=sample(ORDERS, "duplicated"), get_order=sample(ORDERS, "get_order_live")
    )
    result = await post(venue, order_of("get_order_live"))
    assert result.state is VenueOrderState.LIVE and result.reason == "found by hash"
    assert clob.calls["post_order"] == 1


@pytest.mark.parametrize("case", ["fok_killed", "fak_no_match"])
async def test_a_kill_is_an_unfilled_result(case: str) -> None:
    venue, clob = venue_over(post_order=sample(ORDERS, case))
    result = await post(venue, signed("0xkilled"))
    assert result.state is VenueOrderState.KILLED and result.filled_shares_micro == 0
    assert clob.calls["get_order"] == 0


@pytest.mark.parametrize("case", ["not_enough_balance", "min_size"])
async def test_a_business_rejection_is_final_and_not_looked_up(case: str) -> None:
    venue, clob = venue_over(post_order=sample(ORDERS, case))
    with pytest.raises(ApplicationError) as err:
        await post(venue, signed("0xrefused"))
    assert err.value.type == "OrderRejected" and err.value.non_retryable
    assert err.value.message == body(ORDERS, case)["error"]
    assert clob.calls["get_order"] == 0


@pytest.mark.parametrize(
    ("case", "kind"), [("throttled", "VenueThrottled"), ("cancel_only", "VenueUnavailable")]
)
async def test_a_temporary_refusal_is_looked_up_then_retried(case: str, kind: str) -> None:
    venue, clob = venue_over(
        post_order=sample(ORDERS, case), get_order=sample(ORDERS, "get_order_unknown")
    )
    with pytest.raises(ApplicationError) as err:
        await post(venue, signed("0xnot-there"))
    assert err.value.type == kind and not err.value.non_retryable
    assert clob.calls["get_order"] == 1


async def test_an_acceptance_of_unknown_status_is_looked_up_by_hash() -> None:
    odd = with_body(sample(ORDERS, "live"), status="parked")
    venue, _ = venue_over(post_order=odd, get_order=sample(ORDERS, "get_order_live"))
    found = await post(venue, order_of("get_order_live"))
    assert found.state is VenueOrderState.LIVE and found.reason == "found by hash"
    venue, _ = venue_over(post_order=odd, get_order=sample(ORDERS, "get_order_unknown"))
    with pytest.raises(ApplicationError) as err:
        await post(venue, order_of("get_order_live"))
    assert err.value.type == "OrderOutcomeUnknown" and not err.value.non_retryable


def follow_input(order: SignedOrder, state: VenueOrderState) -> FollowOrderInput:
    return FollowOrderInput(
        order=order,
        wallet=WALLET,
        posted=PostOrderResult(order_id=order.order_id, state=state),
        deadline=datetime.now(UTC) + timedelta(seconds=5),
        poll_interval_s=0.01,
    )


@pytest.mark.parametrize("status", ["SOMETHING_NEW", ""])
async def test_an_unknown_order_status_is_read_again_never_taken_for_live(status: str) -> None:
    odd = with_body(sample(ORDERS, "get_order_live"), status=status)
    venue, clob = venue_over(get_order=odd)
    order = order_of("get_order_live")
    with pytest.raises(ApplicationError) as err:
        await venue.follow(follow_input(order, VenueOrderState.LIVE))
    assert err.value.type == "VenueUnknownStatus" and not err.value.non_retryable
    assert clob.calls["cancel_order"] == 0  # not cancelled as if it rested
    with pytest.raises(ApplicationError) as again:
        await post(venue, order, attempt=2)
    assert again.value.type == "VenueUnknownStatus"


async def test_follow_counts_trades_but_not_failed_settlements() -> None:
    order = order_of("get_order_matched")
    trade = sample(ORDERS, "trades_of_order")
    mined = {"status": 200, "body": [{**trade["body"][0], "status": "TRADE_STATUS_MINED"}]}
    venue, _ = venue_over(get_order=sample(ORDERS, "get_order_matched"), get_trades=mined)
    followed = await venue.follow(follow_input(order, VenueOrderState.MATCHED))
    assert followed.state is VenueOrderState.MATCHED
    assert (followed.filled_shares_micro, followed.notional_micro) == (8 * MICRO, 4_800_000)
    assert [t.status for t in followed.trades] == ["MINED"] and followed.failed_trades == []
    failed = {"status": 200, "body": [{**trade["body"][0], "status": "FAILED"}]}
    venue, _ = venue_over(get_order=sample(ORDERS, "get_order_matched"), get_trades=failed)
    followed = await venue.follow(follow_input(order, VenueOrderState.MATCHED))
    assert followed.filled_shares_micro == 0 and followed.trades == []
    assert [t.status for t in followed.failed_trades] == ["FAILED"]


async def test_a_resting_order_is_cancelled_at_the_deadline_and_read_again() -> None:
    order = order_of("get_order_live")
    venue, clob = venue_over(
        get_order=[sample(ORDERS, "get_order_live"), sample(ORDERS, "get_order_canceled")],
        cancel_order=sample(ORDERS, "cancel"),
    )
    data = follow_input(order, VenueOrderState.LIVE).model_copy(update={"cancel_now": True})
    followed = await venue.follow(data)
    assert followed.state is VenueOrderState.CANCELED and followed.cancelled_rest
    assert clob.calls["cancel_order"] == 1 and followed.filled_shares_micro == 0


async def test_cancel_open_returns_what_the_clob_cancelled() -> None:
    venue, _ = venue_over(
        cancel_all=sample(ORDERS, "cancel"),
        cancel_market_orders=sample(ORDERS, "cancel_market_orders"),
    )
    every = await venue.cancel_open(CancelOrdersInput(wallet=WALLET))
    assert every.cancelled == body(ORDERS, "cancel")["canceled"]
    one = await venue.cancel_open(CancelOrdersInput(wallet=WALLET, token_ids=["1"]))
    assert one.cancelled == body(ORDERS, "cancel_market_orders")["canceled"]


async def test_a_quote_reads_the_recorded_book_and_market_state() -> None:
    token = body(READS, "book")["asset_id"]
    ask = QuoteInput(token_id=token, reference_price=Decimal("0.5"))
    venue, _ = venue_over(get_order_book=sample(READS, "book"), get_market=sample(READS, "market"))
    quote = await venue.quote(ask)
    assert quote.accepting_orders and quote.asks[0].price == Decimal("0.6")
    venue, _ = venue_over(
        get_order_book=sample(READS, "book"), get_market=sample(READS, "market_resolved")
    )
    assert not (await venue.quote(ask)).accepting_orders


async def test_an_unreadable_book_is_a_retryable_error() -> None:
    venue, _ = venue_over(get_order_book={"status": 200, "body": "<html>bad gateway</html>"})
    with pytest.raises(ApplicationError) as err:
        await venue.quote(QuoteInput(token_id="1", reference_price=Decimal("0.5")))
    assert err.value.type == "VenueUnreadable" and not err.value.non_retryable
