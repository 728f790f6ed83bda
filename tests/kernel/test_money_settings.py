"""Typed amounts and settings: exact parsing and clear errors naming the variable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projectk.money import AmountError, format_micro, parse_micro
from projectk.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("text", "micro"),
    [("25", 25_000_000), ("12.5", 12_500_000), ("$0.000001", 1), ("1_000", 10**9)],
)
def test_parse_micro(text: str, micro: int) -> None:
    assert parse_micro(text) == micro


@pytest.mark.parametrize("text", ["", "abc", "-5", "1e3", "0", "1.0000001", "1.2.3", "nan"])
def test_parse_micro_refuses(text: str) -> None:
    with pytest.raises(AmountError):
        parse_micro(text)


@given(st.integers(min_value=1, max_value=10**15))
def test_format_then_parse_round_trips(micro: int) -> None:
    assert parse_micro(format_micro(micro)) == micro


def test_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTK_POLYMARKET_SIGNATURE_TYPE", "7")
    monkeypatch.setenv("PROJECTK_EXECUTOR_MODE", "yolo")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "PROJECTK_POLYMARKET_SIGNATURE_TYPE" in str(err.value)
    assert "PROJECTK_EXECUTOR_MODE" in str(err.value)


def test_settings_read_operator_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTK_EXECUTOR_MODE", "paper")
    monkeypatch.setenv("PROJECTK_RPC_URLS", "http://a:8545, https://b")
    monkeypatch.setenv("PROJECTK_TELEGRAM_OWNER_IDS", "1,2")
    monkeypatch.setenv("PROJECTK_VAULT_PASSPHRASE", "hunter2-secret")
    settings = load_settings()
    assert settings.executor_mode.value == "paper"
    assert settings.rpc_urls == ["http://a:8545", "https://b"]
    assert settings.telegram_owner_ids == [1, 2]
    assert "hunter2-secret" not in repr(settings)
    assert settings.passphrase() == "hunter2-secret"
