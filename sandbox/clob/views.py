"""Wire shapes of CLOB responses (snake_case JSON as the real CLOB sends it).

Invariants: amounts are rendered from integer micro-units as decimal strings; order books list
bids ascending and asks descending (best price last), and carry the SHA-1 hash the client checks;
a market's fee schedule is published as ``fd`` {r, e, to} by /clob-markets; trade rows show
``fee_rate_bps`` "0" even when a fee was charged, as the live CLOB does (the fee itself is in the
taker's OrderFilled event).
"""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from typing import Any

from sandbox.clob.engine import Book, BookOrder
from sandbox.clob.orders import Side
from sandbox.clob.rules import as_units
from sandbox.clob.settlement import Trade
from sandbox.markets import OUTCOMES, Market

INITIAL_CURSOR = "MA=="
END_CURSOR = "LTE="


def side_name(side: Side) -> str:
    """Return BUY or SELL."""
    return "BUY" if side == Side.BUY else "SELL"


def fmt(value: Decimal) -> str:
    """Render a Decimal without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return text


def order_json(o: BookOrder, market: Market) -> dict[str, Any]:
    """Render one order as /data/order and /data/orders return it."""
    return {
        "id": o.id,
        "status": o.status.value,
        "owner": o.owner,
        "maker_address": o.order.maker,
        "market": o.market,
        "asset_id": str(o.order.token_id),
        "side": side_name(o.side),
        "original_size": fmt(as_units(o.order.shares)),
        "size_matched": fmt(as_units(o.filled_shares)),
        "price": fmt(o.price),
        "outcome": OUTCOMES[market.outcome_of(o.order.token_id)],
        "expiration": str(o.order.expiration),
        "order_type": o.order_type.value,
        "created_at": o.created_at,
        "associate_trades": list(o.trade_ids),
    }


def trade_json(t: Trade, viewer: str) -> dict[str, Any]:
    """Render one trade as /data/trades returns it, from ``viewer``'s side."""
    taker = t.taker
    is_taker = viewer in (taker.order.maker, taker.account)
    avg = Decimal(t.usd) / Decimal(t.shares)
    makers = [
        {
            "order_id": f.maker.id,
            "owner": f.maker.owner,
            "maker_address": f.maker.order.maker,
            "matched_amount": fmt(as_units(f.shares)),
            "price": fmt(f.maker.price),
            "fee_rate_bps": "0",
            "asset_id": str(f.maker.order.token_id),
            "outcome": _other(t.outcome) if f.complement else t.outcome,
            "side": side_name(f.maker.side),
        }
        for f in t.fills
    ]
    return {
        "id": t.id,
        "taker_order_id": taker.id,
        "market": t.market,
        "asset_id": str(taker.order.token_id),
        "side": side_name(taker.side),
        "size": fmt(as_units(t.shares)),
        "fee_rate_bps": "0",
        "price": fmt(avg.quantize(Decimal("0.000001"))),
        "status": t.status.value,
        "match_time": str(t.match_time),
        "last_update": str(t.last_update),
        "outcome": t.outcome,
        "bucket_index": 0,
        "owner": taker.owner,
        "maker_address": taker.order.maker,
        "transaction_hash": t.tx_hash or "",
        "trader_side": "TAKER" if is_taker else "MAKER",
        "maker_orders": makers,
    }


def _other(outcome: str) -> str:
    return OUTCOMES[1 - OUTCOMES.index(outcome)]


def _levels(rows: list[BookOrder]) -> list[tuple[Decimal, int]]:
    agg: dict[Decimal, int] = {}
    for o in rows:
        agg[o.price] = agg.get(o.price, 0) + o.remaining
    return list(agg.items())


def book_json(
    market: Market, token_id: int, book: Book, now_ms: int, last_price: Decimal | None
) -> dict[str, Any]:
    """Render /book for one token, with the hash py-clob-client-v2 recomputes."""
    bids = sorted(_levels(book.bids))
    asks = sorted(_levels(book.asks), reverse=True)
    payload: dict[str, Any] = {
        "market": market.condition_id,
        "asset_id": str(token_id),
        "timestamp": str(now_ms),
        "hash": "",
        "bids": [{"price": fmt(p), "size": fmt(as_units(s))} for p, s in bids],
        "asks": [{"price": fmt(p), "size": fmt(as_units(s))} for p, s in asks],
        "min_order_size": fmt(market.spec.min_order_size),
        "tick_size": fmt(market.spec.tick_size),
        "neg_risk": market.spec.neg_risk,
        "last_trade_price": fmt(last_price) if last_price is not None else "0.5",
    }
    serialized = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    payload["hash"] = hashlib.sha1(serialized.encode()).hexdigest()  # noqa: S324 - wire format
    return payload


def market_json(m: Market, prices: dict[int, Decimal]) -> dict[str, Any]:
    """Render a market as /markets/{condition_id} returns it."""
    tokens = []
    for i, token in enumerate(m.token_ids):
        tokens.append(
            {
                "token_id": str(token),
                "outcome": OUTCOMES[i],
                "price": float(prices.get(token, Decimal("0.5"))),  # the wire format uses numbers
                "winner": m.winner == i,
            }
        )
    return {
        "condition_id": m.condition_id,
        "question_id": m.question_id,
        "question": m.spec.question,
        "market_slug": m.spec.slug,
        "description": m.spec.question,
        "tokens": tokens,
        "minimum_tick_size": float(m.spec.tick_size),
        "minimum_order_size": float(m.spec.min_order_size),
        "neg_risk": m.spec.neg_risk,
        "active": not m.closed,
        "closed": m.closed,
        "archived": False,
        "accepting_orders": not m.closed,
        "enable_order_book": True,
        "end_date_iso": m.spec.end_date_iso,
        "maker_base_fee": 0,
        "taker_base_fee": base_fee(m),
        "seconds_delay": 0,
    }


def base_fee(m: Market) -> int:
    """The legacy ``base_fee`` (bps) the CLOB reports: 1000 on every market with fees, else 0."""
    return 1000 if m.spec.fee.enabled else 0


def clob_market_json(m: Market) -> dict[str, Any]:
    """Render the compact /clob-markets/{condition_id} shape the client caches."""
    return {
        "c": m.condition_id,
        "t": [{"t": str(t), "o": OUTCOMES[i]} for i, t in enumerate(m.token_ids)],
        "mts": float(m.spec.tick_size),
        "mos": float(m.spec.min_order_size),
        "nr": m.spec.neg_risk,
        "fd": {"r": float(m.spec.fee.rate), "e": m.spec.fee.exponent, "to": True},
    }


def page(rows: list[dict[str, Any]], cursor: str | None, limit: int) -> dict[str, Any]:
    """Slice rows by the base64-offset cursor the real CLOB uses ("MA==" first, "LTE=" end)."""
    try:
        offset = int(base64.b64decode(cursor or INITIAL_CURSOR).decode())
    except ValueError:
        offset = 0
    offset = max(offset, 0)
    chunk = rows[offset : offset + limit]
    nxt = offset + limit
    next_cursor = base64.b64encode(str(nxt).encode()).decode() if nxt < len(rows) else END_CURSOR
    return {"limit": limit, "count": len(chunk), "next_cursor": next_cursor, "data": chunk}
