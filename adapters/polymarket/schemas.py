"""Pure reading of CLOB V2 wire data: classify post answers, parse orders, trades and books.

Invariants:
- Every answer to posting an order is ACCEPTED, REJECTED or UNKNOWN. UNKNOWN (no answer, a 5xx,
  a body that says nothing) means "look the order up by its hash", never "post a new order".
- "Duplicated." means the CLOB already holds this very order: ACCEPTED.
- A FOK/FAK kill is REJECTED with `killed=True`: the order is done with nothing filled, which
  is an unfilled mirror, not a failure.
- Temporary refusals (401 stale API credentials, 425 engine restart, 429 throttled, 503
  cancel-only) are REJECTED with `retryable=True`: re-posting the same signed order is safe.
- Amounts are parsed from decimal strings into integer micro-units exactly; never float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum, unique
from typing import Any

from projectk.messages import BookLevel, OrderTrade, Quote, VenueOrderState
from projectk.models import MICRO, Side

TEMPORARY_STATUSES = frozenset({401, 425, 429, 503})  # 401: credentials are derived again
KILL_TEXTS = ("FOK orders are fully filled or killed", "no orders found to match with FAK order")
DUPLICATE_TEXT = "Duplicated."
FAILED_TRADE = "FAILED"
SETTLED_TRADES = frozenset({"MINED", "CONFIRMED", FAILED_TRADE})


@unique
class Verdict(StrEnum):
    """What an answer to posting an order says about that order."""

    ACCEPTED = "accepted"  # the CLOB holds the order (live, matched or delayed)
    REJECTED = "rejected"  # refused; `retryable` says whether re-posting it later may work
    UNKNOWN = "unknown"  # no usable answer: look the order up by its hash before anything else


@dataclass(frozen=True)
class PostVerdict:
    """A classified answer to POST /order."""

    verdict: Verdict
    reason: str = ""
    retryable: bool = False  # REJECTED for now (425/429/503): the same order may be re-posted
    killed: bool = False  # REJECTED because FOK/FAK found nothing to match: nothing filled
    duplicate: bool = False  # ACCEPTED because the CLOB already had this order
    throttled: bool = False  # REJECTED with 429: wait `retry_after_s` (or a default) first
    retry_after_s: float | None = None  # what a 429 asked us to wait


@dataclass(frozen=True)
class VenueOrder:
    """An order as GET /data/order reports it."""

    order_id: str
    state: VenueOrderState
    original_shares_micro: int
    matched_shares_micro: int
    price: Decimal
    trade_ids: tuple[str, ...]


def to_micro(text: object) -> int:
    """Parse a decimal amount ("4.8", 12, "") into micro-units, flooring beyond 6 decimals."""
    if text is None or text == "":
        return 0
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {text!r}") from exc
    return int((value * MICRO).to_integral_value(ROUND_FLOOR))


def error_text(error_msg: object) -> str:
    """Return the human text of a client exception's error body."""
    if isinstance(error_msg, dict):
        return str(error_msg.get("error") or error_msg.get("errorMsg") or error_msg)
    return str(error_msg or "")


def classify_post_answer(body: object) -> PostVerdict:
    """Classify the body of a 200 answer to POST /order."""
    if not isinstance(body, dict):
        return PostVerdict(Verdict.UNKNOWN, reason=f"unreadable answer: {str(body)[:200]}")
    message = str(body.get("errorMsg") or body.get("error") or "")
    if body.get("success") is True and body.get("orderID"):
        return PostVerdict(Verdict.ACCEPTED, reason=message)
    if message:
        return classify_post_error(400, message)
    return PostVerdict(Verdict.UNKNOWN, reason="answer without success or error")


def classify_post_error(
    status: int | None, text: str, retry_after: str | None = None
) -> PostVerdict:
    """Classify a failed POST /order by HTTP status (None: no answer) and error text."""
    if status is None or (status >= 500 and status != 503):
        return PostVerdict(Verdict.UNKNOWN, reason=f"no usable answer ({status}): {text}")
    if text.endswith(DUPLICATE_TEXT):
        return PostVerdict(Verdict.ACCEPTED, reason=text, duplicate=True)
    if status in TEMPORARY_STATUSES:
        return PostVerdict(
            Verdict.REJECTED,
            reason=f"{status}: {text}",
            retryable=True,
            throttled=status == 429,
            retry_after_s=parse_retry_after(retry_after) if status == 429 else None,
        )
    killed = any(kill in text for kill in KILL_TEXTS)
    return PostVerdict(Verdict.REJECTED, reason=text, killed=killed)


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks for (HTTP dates are not used by the CLOB)."""
    if not value:
        return None
    try:
        seconds = float(Decimal(value.strip()))
    except (InvalidOperation, ValueError):
        return None
    return max(0.0, seconds)


_STATES = {
    "LIVE": VenueOrderState.LIVE,
    "MATCHED": VenueOrderState.MATCHED,
    "CANCELED": VenueOrderState.CANCELED,
    "CANCELED_MARKET_RESOLVED": VenueOrderState.CANCELED,
    "UNMATCHED": VenueOrderState.CANCELED,
    "DELAYED": VenueOrderState.LIVE,
}


def parse_order(body: object) -> VenueOrder | None:
    """Parse GET /data/order; None when the CLOB does not know the order."""
    if not isinstance(body, dict) or not body.get("id"):
        return None
    state = _STATES.get(str(body.get("status", "")).upper(), VenueOrderState.LIVE)
    return VenueOrder(
        order_id=str(body["id"]),
        state=state,
        original_shares_micro=to_micro(body.get("original_size")),
        matched_shares_micro=to_micro(body.get("size_matched")),
        price=Decimal(str(body.get("price") or "0")),
        trade_ids=tuple(str(t) for t in body.get("associate_trades") or ()),
    )


def parse_trade(row: dict[str, Any], order_id: str) -> OrderTrade | None:
    """Return the part of a /data/trades row that filled `order_id`, or None if none did."""
    if row.get("taker_order_id") == order_id:
        shares, notional = _taker_amounts(row)
    else:
        mine = [m for m in row.get("maker_orders") or () if m.get("order_id") == order_id]
        if not mine:
            return None
        shares = sum(to_micro(m.get("matched_amount")) for m in mine)
        notional = sum(_value(m) for m in mine)
    if shares <= 0:
        return None
    tx = str(row.get("transaction_hash") or "") or None
    return OrderTrade(
        trade_id=str(row["id"]),
        shares_micro=shares,
        price=(Decimal(notional) / Decimal(shares)).quantize(Decimal("0.000001")),
        notional_micro=notional,
        fee_micro=_fee(row, notional),
        tx_hash=tx,
        status=str(row.get("status", "")).upper(),
        matched_at=_time(row.get("match_time")),
    )


def _taker_amounts(row: dict[str, Any]) -> tuple[int, int]:
    # The taker's notional is what its makers were paid at their own prices; a maker on the same
    # side as the taker was a complement (mint/merge) match and trades at 1 - its price.
    makers = row.get("maker_orders") or []
    if not makers:
        shares = to_micro(row.get("size"))
        return shares, int(Decimal(shares) * Decimal(str(row.get("price") or "0")))
    taker_side = str(row.get("side", "")).upper()
    shares = sum(to_micro(m.get("matched_amount")) for m in makers)
    notional = 0
    for m in makers:
        price = Decimal(str(m.get("price") or "0"))
        if str(m.get("side", "")).upper() == taker_side:
            price = 1 - price
        notional += int(Decimal(to_micro(m.get("matched_amount"))) * price)
    return shares, notional


def _value(maker: dict[str, Any]) -> int:
    return int(Decimal(to_micro(maker.get("matched_amount"))) * Decimal(str(maker.get("price"))))


def _fee(row: dict[str, Any], notional: int) -> int:
    bps = Decimal(str(row.get("fee_rate_bps") or "0"))
    return int((Decimal(notional) * bps / 10_000).to_integral_value(ROUND_FLOOR))


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def is_settled(trade: OrderTrade) -> bool:
    """Tell whether a trade's settlement has an outcome (mined, confirmed or failed)."""
    return trade.status in SETTLED_TRADES


def filled_trades(trades: list[OrderTrade]) -> list[OrderTrade]:
    """Return the trades that count: all but those whose settlement failed."""
    return [t for t in trades if t.status != FAILED_TRADE]


def parse_book(body: object, token_id: str) -> Quote:
    """Parse GET /book into a Quote (best level first on each side)."""
    if not isinstance(body, dict):
        raise ValueError(f"not an order book: {str(body)[:200]}")
    bids = sorted(_levels(body.get("bids")), key=lambda lv: lv.price, reverse=True)
    asks = sorted(_levels(body.get("asks")), key=lambda lv: lv.price)
    return Quote(
        token_id=token_id,
        bids=bids,
        asks=asks,
        tick_size=Decimal(str(body.get("tick_size") or "0.01")).normalize(),
        min_order_size_micro=to_micro(body.get("min_order_size") or "5"),
        neg_risk=bool(body.get("neg_risk", False)),
    )


def _levels(rows: object) -> list[BookLevel]:
    levels = []
    for row in rows if isinstance(rows, list) else []:
        size = to_micro(row.get("size"))
        if size > 0:
            levels.append(BookLevel(price=Decimal(str(row["price"])), size_micro=size))
    return levels


def market_open(body: object) -> bool:
    """Tell from GET /markets/{condition_id} whether the market takes orders."""
    if not isinstance(body, dict):
        return True  # unknown: let the CLOB decide, it rejects orders on closed markets
    return bool(body.get("accepting_orders", True)) and not bool(body.get("closed", False))


def side_of(value: object) -> Side:
    """Return the Side of a wire side ("BUY"/"SELL" or 0/1)."""
    text = str(value).upper()
    return Side.BUY if text in ("BUY", "0") else Side.SELL
