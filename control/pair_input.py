"""Turn `projectk pair …` options and /addpair answers into a validated PairConfig or Guards.

Invariants:
- Amounts are parsed exactly (no float); every value is checked by the domain model, so the CLI
  accepts exactly what the bot and the workflows accept.
- An option that is absent or None leaves its guard as it was (the domain default for a new
  pair, the pair's current value for a change); `off` or `none` turns an optional limit off.
- A bad value raises ValueError (AmountError, pydantic's ValidationError) naming the option;
  nothing is built from a partly valid input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from projectk.models import Guards, OrderType, PairConfig, SignatureType, Sizing, SizingMode
from projectk.money import parse_micro

OFF = frozenset({"off", "none", "-"})
_YES, _NO = frozenset({"yes", "y", "true", "on"}), frozenset({"no", "n", "false", "off"})


def _sizing(mode: str, amount: str) -> Sizing:
    sizing_mode = SizingMode(mode)
    if sizing_mode is SizingMode.FIXED:
        return Sizing(mode=sizing_mode, fixed_micro=parse_micro(amount, what="fixed amount"))
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"sizing amount must be a number, got {amount!r}") from None
    if sizing_mode is SizingMode.PROPORTIONAL:
        return Sizing(mode=sizing_mode, ratio=value)
    return Sizing(mode=sizing_mode, percent=value)


def _is_off(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in OFF


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    return int(text)


def _seconds(value: object, what: str) -> int:
    seconds = _whole(value, f"{what} (seconds)")
    if seconds <= 0:
        raise ValueError(f"{what} must be at least 1 second, got {value!r}")
    return seconds


def _optional_seconds(value: object, what: str) -> int | None:
    return None if _is_off(value) else _seconds(value, what)


def _optional_micro(value: object, what: str) -> int | None:
    return None if _is_off(value) else parse_micro(str(value), what=what)


def _book_distance(value: object, what: str) -> Decimal | None:
    if _is_off(value):
        return None
    problem = f"{what} must be a price between 0 and 1 such as 0.10, or off; got {value!r}"
    try:
        distance = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(problem) from None
    if not distance.is_finite() or not Decimal(0) < distance < Decimal(1):
        raise ValueError(problem)
    return distance


def parse_yes_no(value: object, what: str) -> bool:
    """Return a yes/no answer (or a flag's bool) as a bool, or raise ValueError."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered not in _YES | _NO:
        raise ValueError(f"{what} must be yes or no, got {value!r}")
    return lowered in _YES


# option key -> (Guards field, parser, what the operator calls it). Option keys are the CLI's
# option names with underscores; the bot's guard answers use the same keys.
_GUARD_OPTIONS: dict[str, tuple[str, Callable[[object, str], object], str]] = {
    "slippage_bps": ("slippage_bps", _whole, "slippage_bps"),
    "exit_slippage_bps": ("exit_slippage_bps", _whole, "exit_slippage_bps"),
    "max_failures": ("max_consecutive_failures", _whole, "max failures"),
    "max_order": ("max_order_micro", _optional_micro, "max order"),
    "max_market_exposure": ("max_market_exposure_micro", _optional_micro, "max market exposure"),
    "daily_loss_limit": ("daily_loss_limit_micro", _optional_micro, "daily loss limit"),
    "max_buy_age": ("max_fill_age_s", _seconds, "max buy age"),
    "max_sell_age": ("max_sell_age_s", _optional_seconds, "max sell age"),
    "max_book_distance": ("max_book_distance", _book_distance, "max book distance"),
    "buys_only": ("buys_only", parse_yes_no, "buys_only"),
}
GUARD_OPTION_KEYS = tuple(_GUARD_OPTIONS)


def guards_from_options(opts: Mapping[str, object], base: Guards | None = None) -> Guards:
    """Return `base` (default: the domain's defaults) with the guard options given applied."""
    changes: dict[str, object] = {}
    for key, (field, parse, what) in _GUARD_OPTIONS.items():
        value = opts.get(key)
        if value is not None:
            changes[field] = parse(value, what)
    current = (base or Guards()).model_dump()
    return Guards.model_validate({**current, **changes})


def config_from_options(name: str, opts: dict[str, Any]) -> PairConfig:
    """Return the PairConfig the options describe, or raise ValueError/ValidationError."""
    return PairConfig(
        pair_id=name,
        source=str(opts["source"]),
        follower=str(opts["follower"]),
        funder=opts["funder"],
        signature_type=SignatureType(opts["signature_type"]),
        key_ref=str(opts["key_ref"]),
        budget_micro=parse_micro(str(opts["budget"]), what="budget"),
        sizing=_sizing(str(opts["sizing"]), str(opts["amount"])),
        guards=guards_from_options(opts),
        order_type=OrderType(opts["order_type"]),
        shared_funder=parse_yes_no(opts.get("shared_funder", False), "shared_funder"),
    )
