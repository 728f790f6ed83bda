"""The workflow tests' fake venue (`GatedVenue`) says what the real venue makes of the recorded
answers: the same rules, the same refusals, results of the same form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from adapters.polymarket.schemas import TradeStatus
from projectk.messages import (
    FollowOrderInput,
    FollowOrderResult,
    PostOrderInput,
    PostOrderResult,
    QuoteInput,
    VenueOrderState,
)
from tests.adapters.polymarket.recorded_venue import WALLET, order_of, signed, venue_over
from tests.fakes import GatedVenue
from tests.recorded import ORDERS, READS, body, sample

REFUSALS = ["not_enough_balance", "min_size"]


async def test_the_fakes_rules_are_the_recorded_books() -> None:
    token = body(READS, "book")["asset_id"]
    ask = QuoteInput(token_id=token, reference_price=Decimal("0.5"))
    real, _ = venue_over(get_order_book=sample(READS, "book"), get_market=sample(READS, "market"))
    fake, recorded = await GatedVenue().quote(ask), await real.quote(ask)
    rules = ("tick_size", "min_order_size_micro", "neg_risk", "accepting_orders")
    assert [getattr(fake, r) for r in rules] == [getattr(recorded, r) for r in rules]


@pytest.mark.parametrize("case", REFUSALS)
async def test_the_fake_refuses_as_the_venue_refuses_the_recorded_answer(case: str) -> None:
    order = signed("0xrefused")
    real, _ = venue_over(post_order=sample(ORDERS, case))
    fake = GatedVenue()
    fake.reject_with = case
    errors = []
    for venue in (real, fake):
        with pytest.raises(ApplicationError) as err:
            await venue.post(PostOrderInput(order=order, wallet=WALLET))
        errors.append((err.value.type, err.value.message, err.value.non_retryable))
    assert errors[0] == errors[1]


async def test_the_fakes_acceptance_is_what_the_recorded_live_answer_gives() -> None:
    order = signed(body(ORDERS, "live")["orderID"])
    real, _ = venue_over(post_order=sample(ORDERS, "live"))
    ours = await real.post(PostOrderInput(order=order, wallet=WALLET))
    fake = await GatedVenue().post(PostOrderInput(order=order, wallet=WALLET))
    assert fake == ours


def follow_of(result: PostOrderResult) -> FollowOrderInput:
    return FollowOrderInput(
        order=order_of("get_order_matched"),
        wallet=WALLET,
        posted=result,
        deadline=datetime.now(UTC) + timedelta(seconds=5),
        poll_interval_s=0.01,
    )


def form(result: FollowOrderResult) -> tuple[object, ...]:
    # What a follow result must always say: its totals are the sums of the trades that count,
    # every trade's status is a settled state that counts, and nothing failed.
    counted = [TradeStatus(t.status) for t in result.trades]
    return (
        result.state,
        result.filled_shares_micro == sum(t.shares_micro for t in result.trades),
        result.notional_micro == sum(t.notional_micro for t in result.trades),
        all(s.settled and s.counts and s is not TradeStatus.UNKNOWN for s in counted),
        result.failed_trades,
    )


async def test_the_fakes_fills_have_the_form_of_a_recorded_fill() -> None:
    mined = sample(ORDERS, "trades_of_order")
    mined["body"][0]["status"] = "MINED"
    real, _ = venue_over(get_order=sample(ORDERS, "get_order_matched"), get_trades=mined)
    posted = PostOrderResult(
        order_id=order_of("get_order_matched").order_id, state=VenueOrderState.MATCHED
    )
    ours = await real.follow(follow_of(posted))
    fake = await GatedVenue().follow(follow_of(posted))
    assert ours.trades and fake.trades
    assert form(fake) == form(ours)
