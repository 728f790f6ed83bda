"""The options of `projectk pair add` / `pair guards` and the bot's guard answers become exactly
the guards the operator asked for, or a clear refusal naming the option."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from control.pair_input import config_from_options, guards_from_options
from projectk.models import MICRO, Guards

SOURCE = "0x1111111111111111111111111111111111111111"
FOLLOWER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


def options(**changes: Any) -> dict[str, Any]:
    """Return `pair add` options as click gives them when only the required ones are set."""
    opts: dict[str, Any] = {
        "source": SOURCE,
        "follower": FOLLOWER,
        "key_ref": "vault://hot",
        "budget": "100",
        "funder": None,
        "shared_funder": False,
        "signature_type": 0,
        "sizing": "fixed",
        "amount": "5",
        "order_type": "FAK",
        "buys_only": False,
    }
    return {**opts, **changes}


def test_no_guard_option_gives_the_domain_defaults() -> None:
    config = config_from_options("alpha", options())
    assert config.guards == Guards()
    assert config.guards.max_sell_age_s is None  # exits are never dropped for age
    assert config.guards.max_book_distance == Decimal("0.10")
    assert not config.shared_funder


def test_each_new_option_reaches_its_guard() -> None:
    config = config_from_options(
        "alpha",
        options(
            max_buy_age="45",
            max_sell_age="600",
            exit_slippage_bps=800,
            max_book_distance="0.05",
            max_market_exposure="25.5",
            shared_funder=True,
        ),
    )
    guards = config.guards
    assert guards.max_fill_age_s == 45
    assert guards.max_sell_age_s == 600
    assert guards.exit_slippage_bps == 800
    assert guards.max_book_distance == Decimal("0.05")
    assert guards.max_market_exposure_micro == 25_500_000
    assert config.shared_funder


def test_off_turns_optional_limits_off() -> None:
    guards = config_from_options(
        "alpha", options(max_book_distance="off", max_sell_age="none", max_order="off")
    ).guards
    assert guards.max_book_distance is None
    assert guards.max_sell_age_s is None and guards.max_order_micro is None


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_buy_age", "0", "max buy age must be at least 1 second"),
        ("max_buy_age", "2m", "max buy age (seconds) must be a whole number"),
        ("max_sell_age", "-5", "max sell age (seconds) must be a whole number"),
        ("max_sell_age", "0", "max sell age must be at least 1 second"),
        ("exit_slippage_bps", "9000", "less than or equal to 5000"),
        ("exit_slippage_bps", "lots", "exit_slippage_bps must be a whole number"),
        ("max_book_distance", "1", "max book distance must be a price between 0 and 1"),
        ("max_book_distance", "0", "max book distance must be a price between 0 and 1"),
        ("max_book_distance", "-0.1", "max book distance must be a price between 0 and 1"),
        ("max_book_distance", "NaN", "max book distance must be a price between 0 and 1"),
        ("max_book_distance", "near", "max book distance must be a price between 0 and 1"),
        ("max_market_exposure", "lots", "max market exposure must be a number"),
        ("max_market_exposure", "0", "max market exposure must be greater than 0"),
        ("shared_funder", "maybe", "shared_funder must be yes or no"),
    ],
)
def test_a_bad_value_is_refused_naming_the_option(option: str, value: str, message: str) -> None:
    with pytest.raises((ValueError, ValidationError)) as caught:
        config_from_options("alpha", options(**{option: value}))
    assert message in str(caught.value)


def test_a_change_keeps_every_guard_it_does_not_name() -> None:
    current = Guards(slippage_bps=200, max_order_micro=20 * MICRO, max_sell_age_s=300)
    changed = guards_from_options({"max_book_distance": "off", "max_sell_age": None}, current)
    assert changed == current.model_copy(update={"max_book_distance": None})
    with pytest.raises(ValueError, match="max book distance"):
        guards_from_options({"max_book_distance": "2"}, current)
