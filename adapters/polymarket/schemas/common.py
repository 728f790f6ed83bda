"""What every wire model shares: the frozen base, amounts kept as decimal text, lenient field types
for what the venue sends as `null`, exact conversion of amount text, and one way to parse.

Invariants:
- Wire models are frozen and ignore fields they do not name (the venue adds fields over time).
- Amount text is checked to be a decimal (or empty: the CLOB sends "" for "none") when a model is
  built, and is turned into numbers only here: micro-units floored beyond 6 decimals by
  `to_micro`, prices as `Decimal` by `to_price`. No float is involved; a JSON number (Data API,
  market routes) is kept as its shortest text ("0.6", never 0.59999…).
- A body that does not fit its model raises `WireError` (a `ValueError`) naming the route; no
  pydantic error leaves this package.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from functools import cache
from typing import Annotated, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError

from projectk.models import MICRO, Side

MICRO_QUANTUM = Decimal("0.000001")


class Wire(BaseModel):
    """Base of the wire models: frozen, unknown fields ignored, filled by alias or by name."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class WireError(ValueError):
    """A venue answer does not have the shape its route documents."""


def _decimal_text(value: object) -> str:
    # Amounts arrive as decimal strings ("4.8"), "" or null for none, and on a few routes as JSON
    # numbers; all become text, checked to be a decimal.
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    text = str(value).strip()
    try:
        finite = not text or Decimal(text).is_finite()
    except InvalidOperation:
        finite = False
    if not finite:
        raise ValueError(f"not a decimal amount: {text!r}")
    return text


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _items(value: object) -> object:
    # The CLOB (written in Go) sends an empty list as null.
    return [] if value is None else value


def _mapping(value: object) -> object:
    return {} if value is None else value


def _side(value: object) -> object:
    # "BUY"/"SELL" in any case, or the order struct's 0/1.
    text = str(value).strip().upper()
    return {"0": "BUY", "1": "SELL"}.get(text, text)


EMPTY_IF_NULL = BeforeValidator(_items)  # for list fields: null reads as []
DecimalText = Annotated[str, BeforeValidator(_decimal_text)]
Text = Annotated[str, BeforeValidator(_text)]
Texts = Annotated[list[Annotated[str, BeforeValidator(_text)]], EMPTY_IF_NULL]
TextMap = Annotated[dict[str, Annotated[str, BeforeValidator(_text)]], BeforeValidator(_mapping)]
WireSide = Annotated[Side, BeforeValidator(_side)]

W = TypeVar("W", bound=Wire)


def to_micro(text: str) -> int:
    """Turn decimal text ("4.8", "") into micro-units, flooring beyond 6 decimals."""
    if not text:
        return 0
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise WireError(f"not a decimal amount: {text!r}") from exc
    return int((value * MICRO).to_integral_value(ROUND_FLOOR))


def to_price(text: str, default: str = "0") -> Decimal:
    """Turn decimal text into a `Decimal` price (`default` when empty)."""
    try:
        return Decimal(text or default)
    except InvalidOperation as exc:
        raise WireError(f"not a decimal price: {text!r}") from exc


def unix_time(text: str) -> datetime | None:
    """Turn unix-seconds text into a UTC time, or None when there is none."""
    try:
        return datetime.fromtimestamp(int(text), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def parse(model: type[W], body: object, route: str) -> W:
    """Build `model` from a decoded JSON body of `route`, or raise `WireError`."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise WireError(f"unreadable answer of {route}: {_summary(exc)}") from None


def parse_items(model: type[W], body: object, route: str) -> list[W]:
    """Build a list of `model` from a decoded JSON list of `route`, or raise `WireError`."""
    try:
        rows: list[W] = _list_adapter(model).validate_python(body)
    except ValidationError as exc:
        raise WireError(f"unreadable answer of {route}: {_summary(exc)}") from None
    return rows


@cache
def _list_adapter(model: type[W]) -> TypeAdapter[list[W]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _summary(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']} ({exc.error_count()} error(s))"
