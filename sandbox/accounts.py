"""The sandbox's well-known test accounts (anvil's default mnemonic) and their roles.

Invariant: these keys are public test keys that anvil prints on every start; they never hold real
value. Roles are fixed by index so every run and every test sees the same addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from eth_account import Account

TEST_MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNT_COUNT = 10

OPERATOR_INDEX = 0  # sends every settlement transaction
ORACLE_INDEX = 1  # prepares and resolves conditions
MARKET_MAKER_INDEX = 2  # splits collateral into outcome tokens and quotes the books
DEMO_START_INDEX = 3  # 3..9 are funded demo wallets (source trader, followers, tests)


@dataclass(frozen=True)
class TestAccount:
    """One well-known anvil account."""

    index: int
    address: str
    private_key: str


@cache
def account(index: int) -> TestAccount:
    """Derive account ``index`` from the test mnemonic."""
    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return TestAccount(index, str(acct.address), "0x" + bytes(acct.key).hex())


def operator() -> TestAccount:
    """Return the settlement operator account."""
    return account(OPERATOR_INDEX)


def oracle() -> TestAccount:
    """Return the oracle account that resolves markets."""
    return account(ORACLE_INDEX)


def market_maker() -> TestAccount:
    """Return the market-maker account."""
    return account(MARKET_MAKER_INDEX)


def demo_accounts() -> list[TestAccount]:
    """Return the funded demo accounts."""
    return [account(i) for i in range(DEMO_START_INDEX, ACCOUNT_COUNT)]
