"""Parsing and formatting of pUSD and share amounts typed by people.

Invariant: amounts cross this boundary as exact decimal text and integer micro-units; a value
with more than 6 decimals, a sign, an exponent or anything but digits and one point is refused
rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from projectk.models import MICRO


class AmountError(ValueError):
    """A typed amount that is not a valid pUSD or share amount."""


def parse_micro(text: str, *, what: str = "amount", allow_zero: bool = False) -> int:
    """Return the micro-units of a decimal amount such as '12.5', or raise AmountError."""
    cleaned = text.strip().replace("_", "")
    if cleaned.startswith("$"):
        cleaned = cleaned[1:]
    if not cleaned or not all(c.isdigit() or c == "." for c in cleaned) or cleaned.count(".") > 1:
        raise AmountError(f"{what} must be a number like 25 or 12.5, got {text!r}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise AmountError(f"{what} must be a number like 25 or 12.5, got {text!r}") from None
    micro = value * MICRO
    if micro != micro.to_integral_value():
        raise AmountError(f"{what} has more than 6 decimals: {text!r}")
    if micro == 0 and not allow_zero:
        raise AmountError(f"{what} must be greater than 0")
    return int(micro)


def format_micro(micro: int) -> str:
    """Return micro-units as a plain decimal string with 2 to 6 decimals ('12.50')."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    digits = f"{frac:06d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"
