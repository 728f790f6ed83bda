"""The wire schemas and the post classification, on the recorded venue answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.polymarket.schemas import (
    OrderStatus,
    TradeStatus,
    WireError,
    error_text,
    read_book,
    read_data_api_trades,
    read_market,
    read_market_of_token,
    read_order,
    read_trades,
    split_counted,
    to_micro,
)
from adapters.polymarket.verdicts import Verdict, classify_post_answer, classify_post_error
from projectk.messages import OrderTrade, VenueOrderState
from projectk.models import MICRO, Side
from tests.recorded import ORDERS, READS, body, sample


def error_of(name: str) -> tuple[int, str]:
    refused = sample(ORDERS, name)
    return refused["status"], error_text(refused["body"])


def test_accepted_answers() -> None:
    for name in ("live", "fok_market_buy_matched", "matched_complement"):
        verdict = classify_post_answer(body(ORDERS, name))
        assert verdict.verdict is Verdict.ACCEPTED and verdict.answer is not None


def test_duplicated_means_already_posted() -> None:
    verdict = classify_post_error(*error_of("duplicated"))
    assert verdict.verdict is Verdict.ACCEPTED and verdict.duplicate


@pytest.mark.parametrize("name", ["fok_killed", "fak_no_match"])
def test_fok_fak_kills_are_unfilled_not_failures(name: str) -> None:
    verdict = classify_post_error(*error_of(name))
    assert verdict.verdict is Verdict.REJECTED and verdict.killed and not verdict.retryable


@pytest.mark.parametrize("name", ["not_enough_balance", "min_size"])
def test_business_rejections_are_final(name: str) -> None:
    verdict = classify_post_error(*error_of(name))
    assert verdict.verdict is Verdict.REJECTED and not verdict.retryable and not verdict.killed


@pytest.mark.parametrize("status", [None, 500, 502, 504])
def test_no_answer_or_server_error_is_unknown(status: int | None) -> None:
    assert classify_post_error(status, "Request exception!").verdict is Verdict.UNKNOWN


def test_temporary_refusals_are_retryable_and_429_carries_its_delay() -> None:
    status, text = error_of("throttled")
    throttled = classify_post_error(status, text, "3")
    assert throttled.retryable and throttled.throttled and throttled.retry_after_s == 3.0
    for status, text in (error_of("cancel_only"), (425, "engine restarting")):
        verdict = classify_post_error(status, text)
        assert verdict.verdict is Verdict.REJECTED and verdict.retryable
        assert not verdict.throttled


def test_unreadable_answer_is_unknown() -> None:
    assert classify_post_answer("<html>bad gateway</html>").verdict is Verdict.UNKNOWN
    assert classify_post_answer({}).verdict is Verdict.UNKNOWN
    amounts = {**body(ORDERS, "live"), "makingAmount": "lots"}
    assert classify_post_answer(amounts).verdict is Verdict.UNKNOWN


def test_post_answers_convert_with_the_taker_amounts_the_right_way_round() -> None:
    verdict = classify_post_answer(body(ORDERS, "matched_partial_resting_maker"))
    assert verdict.answer is not None and verdict.answer.status is OrderStatus.MATCHED
    live = classify_post_answer(body(ORDERS, "live")).answer
    assert live is not None and live.status is OrderStatus.LIVE  # "live": case-blind


def test_lookups_read_every_recorded_state() -> None:
    cases = {
        "get_order_live": VenueOrderState.LIVE,
        "get_order_partly_filled": VenueOrderState.LIVE,
        "get_order_matched": VenueOrderState.MATCHED,
        "get_order_canceled": VenueOrderState.CANCELED,
        "get_order_market_resolved": VenueOrderState.CANCELED,
    }
    for name, state in cases.items():
        order = read_order(body(ORDERS, name))
        assert order is not None and order.state is state, name
    partly = read_order(body(ORDERS, "get_order_partly_filled"))
    assert partly is not None
    assert (partly.original_shares_micro, partly.matched_shares_micro) == (20 * MICRO, 13 * MICRO)
    assert partly.limit_price == Decimal("0.6") and len(partly.associate_trades) == 2


def test_an_unknown_order_is_none() -> None:
    assert body(ORDERS, "get_order_unknown") is None
    assert read_order(None) is None and read_order({}) is None


@pytest.mark.parametrize("status", ["SOMETHING_NEW", "", None, 7])
def test_an_unknown_status_is_unknown_never_live(status: object) -> None:
    order = read_order({**body(ORDERS, "get_order_live"), "status": status})
    assert order is not None and order.status is OrderStatus.UNKNOWN and order.state is None


def test_statuses_are_read_in_any_case_and_with_the_reference_prefix() -> None:
    assert OrderStatus("matched") is OrderStatus.MATCHED
    assert OrderStatus("ORDER_STATUS_CANCELED") is OrderStatus.CANCELED
    assert TradeStatus("TRADE_STATUS_CONFIRMED") is TradeStatus.CONFIRMED
    assert TradeStatus("mined") is TradeStatus.MINED


def test_trade_from_the_taker_and_the_maker_side() -> None:
    (row,) = read_trades(body(ORDERS, "trades_of_order"))
    taker = row.fill_of(row.taker_order_id)
    assert taker is not None
    assert (taker.shares_micro, taker.notional_micro, taker.price) == (
        8 * MICRO,
        4_800_000,
        Decimal("0.6"),
    )
    assert taker.tx_hash == row.transaction_hash and taker.status == row.status.value
    assert taker.matched_at is not None and taker.matched_at.tzinfo is UTC
    maker = row.fill_of(row.maker_orders[0].order_id)
    assert maker is not None and maker.shares_micro == 8 * MICRO
    assert row.fill_of("0xnot-mine") is None


def test_a_complement_match_costs_one_minus_the_makers_price() -> None:
    (row,) = read_trades(body(ORDERS, "trades_complement"))
    (maker,) = row.maker_orders
    assert maker.side is Side.BUY and row.side is Side.BUY  # both buy: Yes and No are minted
    taker = row.fill_of(row.taker_order_id)
    assert taker is not None
    assert (taker.shares_micro, taker.notional_micro) == (5 * MICRO, 2_750_000)  # 5 x (1 - 0.45)
    mine = row.fill_of(maker.order_id)
    assert mine is not None and mine.notional_micro == 2_250_000  # the No buyer paid 0.45


def test_the_fee_is_the_takers_rate_floored() -> None:
    row = read_trades([{**body(ORDERS, "trades_of_order")[0], "fee_rate_bps": "30"}])[0]
    taker = row.fill_of(row.taker_order_id)
    assert taker is not None and taker.fee_micro == 14_400  # 4.8 pUSD x 0.3 %


def trade_with_status(status: str) -> OrderTrade:
    row = read_trades([{**body(ORDERS, "trades_of_order")[0], "status": status}])[0]
    trade = row.fill_of(row.taker_order_id)
    assert trade is not None
    return trade


def test_failed_settlements_do_not_count() -> None:
    ok, failed = trade_with_status("MINED"), trade_with_status("FAILED")
    assert split_counted([ok, failed]) == ([ok], [failed])
    assert TradeStatus(failed.status).settled and TradeStatus(ok.status).settled


@pytest.mark.parametrize("status", ["MATCHED", "RETRYING", "SOMETHING_NEW"])
def test_unsettled_trades_count_but_are_waited_for(status: str) -> None:
    trade = trade_with_status(status)
    assert split_counted([trade]) == ([trade], [])
    assert not TradeStatus(trade.status).settled


def test_the_book_lists_the_best_level_first() -> None:
    recorded = body(READS, "book")
    assert recorded["asks"] and recorded["bids"] == []
    book = read_book(
        {
            **recorded,
            "asks": [{"price": "0.7", "size": "1"}, {"price": "0.6", "size": "7"}],
            "bids": [{"price": "0.4", "size": "2"}, {"price": "0.5", "size": "3"}],
        }
    )
    quote = book.quote("t")
    assert [lv.price for lv in quote.asks] == [Decimal("0.6"), Decimal("0.7")]
    assert [lv.price for lv in quote.bids] == [Decimal("0.5"), Decimal("0.4")]
    assert quote.tick_size == Decimal("0.01") and quote.min_order_size_micro == 5 * MICRO
    assert book.market == read_market(body(READS, "market")).condition_id


def test_a_book_with_null_sides_and_no_rules_uses_the_usual_ones() -> None:
    quote = read_book({"market": "0xaa", "bids": None, "asks": None}).quote("t")
    assert quote.bids == [] and quote.asks == []
    assert quote.tick_size == Decimal("0.01") and quote.min_order_size_micro == 5 * MICRO


def test_markets_read_their_tokens_state_and_end() -> None:
    market = read_market(body(READS, "market"))
    by_token = read_market_of_token(body(READS, "markets_by_token"))
    info = market.info()
    assert by_token.condition_id == info.condition_id
    assert info.token_ids == [by_token.primary_token_id, by_token.secondary_token_id]
    assert market.takes_orders and not info.closed
    assert info.end_date == datetime(2030, 1, 1, tzinfo=UTC)
    resolved = read_market(body(READS, "market_resolved"))
    assert not resolved.takes_orders and resolved.info().closed
    assert [t.winner for t in resolved.tokens] == [True, False]
    assert read_market({**body(READS, "market"), "neg_risk": True}).info().neg_risk


def test_data_api_rows_keep_their_transaction_and_time() -> None:
    rows = read_data_api_trades(body(READS, "data_api_trades"))
    assert rows and all(r.transaction_hash.startswith("0x") and r.timestamp > 0 for r in rows)
    assert {r.side for r in rows} <= {Side.BUY, Side.SELL}
    with pytest.raises(WireError):
        read_data_api_trades({"not": "a list"})


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "abc", True])
def test_an_amount_that_is_not_a_finite_decimal_is_unreadable(amount: object) -> None:
    with pytest.raises(WireError):
        read_book({**body(READS, "book"), "asks": [{"price": amount, "size": "1"}]})


def test_amounts_parse_exactly() -> None:
    assert to_micro("19.090909") == 19_090_909
    assert to_micro("4.8") == 4_800_000
    assert to_micro("0.0000019") == 1  # floored beyond 6 decimals
    assert to_micro("") == 0
    with pytest.raises(ValueError):
        to_micro("abc")


def test_stale_credentials_are_retryable() -> None:
    verdict = classify_post_error(401, "Unauthorized/Invalid api key")
    assert verdict.verdict is Verdict.REJECTED and verdict.retryable
