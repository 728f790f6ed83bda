"""How the dashboard writes addresses, amounts and ages.

Invariants: amounts arrive as integer micro-units and are shown through
`projectk.money.format_micro` (exact, no float on the way); a missing value is shown as "—",
never as 0.
"""

from __future__ import annotations

from datetime import datetime

from projectk.money import format_micro

MISSING = "—"


def short_address(address: str) -> str:
    """Return an address as 0x1234…abcd (the whole value when it is short already)."""
    return address if len(address) <= 12 else f"{address[:6]}…{address[-4:]}"


def pusd(micro: int | None) -> str:
    """Return micro-units as a pUSD amount with two to six decimals, or "—"."""
    return MISSING if micro is None else format_micro(micro)


def age(then: datetime | None, now: datetime) -> str:
    """Return how long ago `then` was, in the largest fitting unit ('42 s', '3 min', '5 h')."""
    if then is None:
        return MISSING
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def moment(then: datetime | None) -> str:
    """Return a UTC timestamp as 'YYYY-MM-DD HH:MM:SS UTC', or "—"."""
    return MISSING if then is None else then.strftime("%Y-%m-%d %H:%M:%S UTC")
