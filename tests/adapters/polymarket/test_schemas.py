"""Classification and parsing of CLOB wire data, checked against recorded sandbox samples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.polymarket import schemas as wire
from adapters.polymarket.schemas import Verdict
from projectk.messages import VenueOrderState
from projectk.models import MICRO
from tests import recorded

ORDERS = recorded.samples(recorded.ORDERS)
READS = recorded.samples(recorded.READS)


def error_of(name: str) -> tuple[int, str]:
    sample = ORDERS[name]
    return sample["status"], wire.error_text(sample["body"])


def test_accepted_answers() -> None:
    for name in ("live", "fok_market_buy_matched"):
        assert wire.classify_post_answer(ORDERS[name]["body"]).verdict is Verdict.ACCEPTED


def test_duplicated_means_already_posted() -> None:
    verdict = wire.classify_post_error(*error_of("duplicated"))
    assert verdict.verdict is Verdict.ACCEPTED and verdict.duplicate


@pytest.mark.parametrize("name", ["fok_killed", "fak_no_match"])
def test_fok_fak_kills_are_unfilled_not_failures(name: str) -> None:
    verdict = wire.classify_post_error(*error_of(name))
    assert verdict.verdict is Verdict.REJECTED and verdict.killed and not verdict.retryable


@pytest.mark.parametrize("name", ["not_enough_balance", "min_size"])
def test_business_rejections_are_final(name: str) -> None:
    verdict = wire.classify_post_error(*error_of(name))
    assert verdict.verdict is Verdict.REJECTED and not verdict.retryable and not verdict.killed


@pytest.mark.parametrize("status", [None, 500, 502, 504])
def test_no_answer_or_server_error_is_unknown(status: int | None) -> None:
    assert wire.classify_post_error(status, "Request exception!").verdict is Verdict.UNKNOWN


def test_temporary_refusals_are_retryable_and_429_carries_its_delay() -> None:
    throttled = wire.classify_post_error(429, "Too Many Requests", "3")
    assert throttled.retryable and throttled.throttled and throttled.retry_after_s == 3.0
    for status in (425, 503):
        verdict = wire.classify_post_error(status, "engine restarting / cancel-only")
        assert verdict.verdict is Verdict.REJECTED and verdict.retryable
        assert not verdict.throttled


def test_unreadable_answer_is_unknown() -> None:
    assert wire.classify_post_answer("<html>bad gateway</html>").verdict is Verdict.UNKNOWN
    assert wire.classify_post_answer({}).verdict is Verdict.UNKNOWN


def test_parse_order_states() -> None:
    live = wire.parse_order(ORDERS["get_order_live"]["body"])
    gone = wire.parse_order(ORDERS["get_order_canceled"]["body"])
    assert live is not None and live.state is VenueOrderState.LIVE
    assert live.original_shares_micro == 10 * MICRO and live.price == Decimal("0.2")
    assert gone is not None and gone.state is VenueOrderState.CANCELED
    assert wire.parse_order(None) is None  # the CLOB does not know the hash


def test_parse_trade_from_taker_and_maker_sides() -> None:
    row = ORDERS["trades_of_order"]["body"][0]
    taker = wire.parse_trade(row, row["taker_order_id"])
    assert taker is not None
    assert (taker.shares_micro, taker.notional_micro, taker.price) == (
        8 * MICRO,
        4_800_000,
        Decimal("0.6"),
    )
    assert taker.tx_hash == row["transaction_hash"] and taker.status == row["status"]
    maker_id = row["maker_orders"][0]["order_id"]
    maker = wire.parse_trade(row, maker_id)
    assert maker is not None and maker.shares_micro == 8 * MICRO
    assert wire.parse_trade(row, "0xnot-mine") is None


def test_failed_settlements_do_not_count() -> None:
    row = {**ORDERS["trades_of_order"]["body"][0], "status": "MINED"}
    ok = wire.parse_trade(row, row["taker_order_id"])
    assert ok is not None
    failed = ok.model_copy(update={"trade_id": "x", "status": "FAILED"})
    assert wire.filled_trades([ok, failed]) == [ok]
    assert wire.is_settled(failed) and wire.is_settled(ok)


def test_parse_book_orders_levels_best_first() -> None:
    body = {
        **READS["book"]["body"],
        "asks": [{"price": "0.7", "size": "1"}, {"price": "0.6", "size": "7"}],
        "bids": [{"price": "0.4", "size": "2"}, {"price": "0.5", "size": "3"}],
    }
    quote = wire.parse_book(body, "t")
    assert [lv.price for lv in quote.asks] == [Decimal("0.6"), Decimal("0.7")]
    assert [lv.price for lv in quote.bids] == [Decimal("0.5"), Decimal("0.4")]
    assert quote.tick_size == Decimal("0.01") and quote.min_order_size_micro == 5 * MICRO


def test_amounts_parse_exactly() -> None:
    assert wire.to_micro("19.090909") == 19_090_909
    assert wire.to_micro("4.8") == 4_800_000
    assert wire.to_micro("") == 0
    with pytest.raises(ValueError):
        wire.to_micro("abc")


def test_stale_credentials_are_retryable() -> None:
    verdict = wire.classify_post_error(401, "Unauthorized/Invalid api key")
    assert verdict.verdict is Verdict.REJECTED and verdict.retryable
