"""Turn `projectk pair add` options into a validated PairConfig.

Invariant: amounts are parsed exactly (no float); every value is checked by the domain model,
so the CLI accepts exactly what the bot and the workflows accept.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from projectk.models import Guards, OrderType, PairConfig, SignatureType, Sizing, SizingMode
from projectk.money import parse_micro


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


def _optional_micro(value: object, what: str) -> int | None:
    return None if value is None else parse_micro(str(value), what=what)


def config_from_options(name: str, opts: dict[str, Any]) -> PairConfig:
    """Return the PairConfig the options describe, or raise ValueError/ValidationError."""
    guards = Guards(
        slippage_bps=opts["slippage_bps"],
        max_consecutive_failures=opts["max_failures"],
        max_order_micro=_optional_micro(opts["max_order"], "max order"),
        daily_loss_limit_micro=_optional_micro(opts["daily_loss_limit"], "daily loss limit"),
        buys_only=bool(opts["buys_only"]),
    )
    return PairConfig(
        pair_id=name,
        source=str(opts["source"]),
        follower=str(opts["follower"]),
        funder=opts["funder"],
        signature_type=SignatureType(opts["signature_type"]),
        key_ref=str(opts["key_ref"]),
        budget_micro=parse_micro(str(opts["budget"]), what="budget"),
        sizing=_sizing(str(opts["sizing"]), str(opts["amount"])),
        guards=guards,
        order_type=OrderType(opts["order_type"]),
    )
