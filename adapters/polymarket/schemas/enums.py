"""The venue's states as the CLOB spells them: order status and trade (settlement) status.

Docs: https://docs.polymarket.com/api-reference/trade/get-single-order-by-id (order status),
https://docs.polymarket.com/developers/CLOB/trades/trades (trade status).

Invariants:
- Parsing is case-blind ("live" in POST answers, "LIVE" in lookups) and accepts the prefixed
  spelling of the newer API reference ("ORDER_STATUS_LIVE", "TRADE_STATUS_MINED").
- Any other text parses as `UNKNOWN`, never as a known state: an order of unknown status is read
  again, never taken for live or done.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


def _member(cls: type[E], value: object, prefix: str) -> E:
    # Looks members up by value without calling `cls(...)`, which would come back here.
    text = str(value).strip().upper().removeprefix(prefix)
    for member in cls:
        if member.value == text:
            return member
    return cls["UNKNOWN"]


@unique
class OrderStatus(StrEnum):
    """Where an order stands, as POST /order answers and GET /data/order report it."""

    LIVE = "LIVE"  # resting on the book, possibly partly filled
    DELAYED = "DELAYED"  # marketable, held for the taker delay before it is matched
    MATCHED = "MATCHED"  # matched in full, or a FOK/FAK matched and its rest killed
    UNMATCHED = "UNMATCHED"  # marketable, but nothing matched after the delay: not placed
    CANCELED = "CANCELED"  # cancelled by its owner, expired, or a remainder killed
    CANCELED_MARKET_RESOLVED = "CANCELED_MARKET_RESOLVED"  # rest removed at resolution
    INVALID = "INVALID"  # found invalid after acceptance: it rests no more and fills no more
    UNKNOWN = "UNKNOWN"  # a status this code does not know: read the order again

    @classmethod
    def _missing_(cls, value: object) -> OrderStatus:
        return _member(cls, value, "ORDER_STATUS_")


@unique
class TradeStatus(StrEnum):
    """How far a trade's settlement on chain has come, as GET /data/trades reports it."""

    MATCHED = "MATCHED"  # matched by the operator; its settlement is sent or about to be
    MINED = "MINED"  # the settlement transaction is in a block
    CONFIRMED = "CONFIRMED"  # the settlement is final
    RETRYING = "RETRYING"  # the settlement transaction failed and is being sent again
    FAILED = "FAILED"  # the settlement failed for good: nothing changed hands
    UNKNOWN = "UNKNOWN"  # a status this code does not know: not settled yet, still counted

    @classmethod
    def _missing_(cls, value: object) -> TradeStatus:
        return _member(cls, value, "TRADE_STATUS_")

    @property
    def settled(self) -> bool:
        """Tell whether the settlement has an outcome (mined, confirmed or failed)."""
        return self in (TradeStatus.MINED, TradeStatus.CONFIRMED, TradeStatus.FAILED)

    @property
    def counts(self) -> bool:
        """Tell whether the trade counts as filled: all but failed settlements do."""
        return self is not TradeStatus.FAILED
