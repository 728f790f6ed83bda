"""Which schema reads each recorded case: one table for the recorded files and for the sandbox's
live answers of the same routes, so that the parser and the sandbox meet the same contract."""

from __future__ import annotations

from collections.abc import Callable

from adapters.polymarket.schemas import (
    ErrorBody,
    OpenOrder,
    read_book,
    read_cancel,
    read_data_api_trades,
    read_market,
    read_market_of_token,
    read_order,
    read_trades,
)
from adapters.polymarket.schemas.common import parse, parse_items
from adapters.polymarket.verdicts import Verdict, classify_post_answer, classify_post_error
from tests.recorded import ORDERS, READS, Sample


def accepted(sample: Sample) -> object:
    """A 200 answer to POST /order that accepted the order, in a known status."""
    verdict = classify_post_answer(sample["body"])
    assert sample["status"] == 200 and verdict.verdict is Verdict.ACCEPTED
    assert verdict.answer is not None and verdict.answer.state is not None
    return verdict.answer


def refused(sample: Sample) -> object:
    """A refused POST /order: an error body with a text the classification knows what to do with."""
    error = parse(ErrorBody, sample["body"], "POST /order")
    assert sample["status"] >= 400 and error.error
    verdict = classify_post_error(sample["status"], error.error)
    assert verdict.verdict is not Verdict.UNKNOWN
    return error


def known_order(sample: Sample) -> object:
    """GET /data/order of an order the CLOB knows, in a known status."""
    order = read_order(sample["body"])
    assert order is not None and order.state is not None
    return order


def unknown_order(sample: Sample) -> object:
    """GET /data/order of a hash the CLOB does not know."""
    assert sample["status"] == 200 and read_order(sample["body"]) is None
    return None


def trades(sample: Sample) -> object:
    """GET /data/trades rows, as the client joins its pages."""
    rows = read_trades(sample["body"])
    assert rows and all(row.fill_of(row.taker_order_id) is not None for row in rows)
    return rows


def trade_page(sample: Sample) -> object:
    """The client's one page of GET /data/trades (`get_trades_paginated`)."""
    return trades({"status": sample["status"], "body": sample["body"]["trades"]})


def open_orders(sample: Sample) -> object:
    """GET /data/orders rows."""
    return parse_items(OpenOrder, sample["body"], "GET /data/orders")


def cancelled(sample: Sample) -> object:
    """A cancel's answer."""
    return read_cancel(sample["body"])


def book(sample: Sample) -> object:
    """GET /book, as a quote."""
    return read_book(sample["body"]).quote("t")


def market(sample: Sample) -> object:
    """GET /markets/{condition_id}, as a MarketInfo."""
    return read_market(sample["body"]).info()


def market_of_token(sample: Sample) -> object:
    """GET /markets-by-token/{token_id} of a known token."""
    found = read_market_of_token(sample["body"])
    assert found.condition_id
    return found


def not_found(sample: Sample) -> object:
    """A 404 with an error body (the directory reads it as "no such market")."""
    assert sample["status"] == 404
    return parse(ErrorBody, sample["body"], "404")


def data_api_trades(sample: Sample) -> object:
    """The Data API's GET /trades rows."""
    rows = read_data_api_trades(sample["body"])
    assert rows
    return rows


Reader = Callable[[Sample], object]

READERS: dict[str, dict[str, Reader]] = {
    ORDERS: {
        "live": accepted,
        "matched_partial_resting_maker": accepted,
        "fok_market_buy_matched": accepted,
        "resting_for_duplicate": accepted,
        "matched_complement": accepted,
        "fok_killed": refused,
        "fak_no_match": refused,
        "min_size": refused,
        "not_enough_balance": refused,
        "duplicated": refused,
        "throttled": refused,
        "cancel_only": refused,
        "get_order_live": known_order,
        "get_order_matched": known_order,
        "get_order_partly_filled": known_order,
        "get_order_canceled": known_order,
        "get_order_market_resolved": known_order,
        "get_order_unknown": unknown_order,
        "trades_of_order": trades,
        "trades_complement": trades,
        "open_orders": open_orders,
        "cancel": cancelled,
        "cancel_again": cancelled,
        "cancel_market_orders": cancelled,
    },
    READS: {
        "book": book,
        "market": market,
        "market_resolved": market,
        "markets_by_token": market_of_token,
        "markets_by_token_unknown": not_found,
        "data_trades": trade_page,
        "data_api_trades": data_api_trades,
    },
}

# Recorded for reference (fees, balances, positions): the adapter reads none of these routes yet.
NOT_READ: dict[str, frozenset[str]] = {
    ORDERS: frozenset(),
    READS: frozenset(
        {
            "tick_size",
            "clob_market",
            "balance_allowance_collateral",
            "balance_allowance_conditional",
            "data_api_activity",
            "data_api_positions",
        }
    ),
}


def shape(body: object) -> object:
    """Return what two answers of one route must share: the keys of an object (of a list's first
    object), or the JSON type."""
    if isinstance(body, dict):
        return sorted(body)
    if isinstance(body, list):
        return [shape(body[0])] if body else []
    return type(body).__name__
