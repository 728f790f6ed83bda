"""Fixtures of the tests that trade on the sandbox through the venue (adapter and end-to-end tests):
one sandbox per session, a vault holding the demo follower keys. Loaded by `tests/conftest.py`.

Test markets are created with `quote=False` (the market maker leaves them alone), so books are
exactly what a test puts on them. Demo accounts (sandbox `accounts.demo`): 0 is the maker/source,
1.. are followers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient

from adapters.polymarket.session import ClobEndpoint, ClobSessions
from adapters.polymarket.venue import ClobVenue
from adapters.vault import ScryptParams, Vault
from projectk.messages import Wallet
from sandbox.runtime import Sandbox, SandboxOptions
from tests.sandbox_env import Market, clob_clients, demo_accounts, share_giver, unquoted_market

PASSPHRASE = "test passphrase, not a secret"
FAST_KDF = ScryptParams(n=2**10)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """Yield the session's sandbox (anvil + CLOB), stopped at the end."""
    with Sandbox(SandboxOptions(gtd_security_s=1, mm_interval_s=0.5)) as sb:
        yield sb


@pytest.fixture(scope="session")
def demo(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Return the sandbox's funded demo accounts (address, private_key)."""
    return demo_accounts(sandbox)


@pytest.fixture(scope="session")
def vault(tmp_path_factory: pytest.TempPathFactory, demo: list[dict[str, Any]]) -> Vault:
    """Return a vault holding every demo key as vault://demoN."""
    path = Path(tmp_path_factory.mktemp("vault")) / "vault.json"
    v = Vault(path, kdf=FAST_KDF)
    for i, account in enumerate(demo):
        v.add(f"demo{i}", account["private_key"], PASSPHRASE)
    return v


@pytest.fixture(scope="session")
def venue(sandbox: Sandbox, vault: Vault) -> ClobVenue:
    """Return a CLOB venue on the sandbox, signing with the test vault."""
    endpoint = ClobEndpoint(host=sandbox.info["clob_url"], chain_id=137)
    return ClobVenue(ClobSessions(endpoint, vault, PASSPHRASE))


@pytest.fixture(scope="session")
def wallet_of(demo: list[dict[str, Any]]) -> Callable[[int], Wallet]:
    """Return the Wallet of demo account i."""

    def make(i: int) -> Wallet:
        return Wallet(key_ref=f"vault://demo{i}", funder=demo[i]["address"])

    return make


@pytest.fixture(scope="session")
def client_for(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[int], ClobClient]:
    """Return an authenticated py-clob-client-v2 client of demo account i (the test's trader)."""
    return clob_clients(sandbox, demo)


@pytest.fixture
def market(sandbox: Sandbox) -> Market:
    """Create a fresh, unquoted binary market."""
    return unquoted_market(sandbox, "exec", "Execution test")


@pytest.fixture
def give_shares(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[Market, int, int], None]:
    """Split `amount` pUSD of demo account i into Yes+No shares of a market."""
    return share_giver(sandbox, demo)


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Sandbox]:
    """Yield the sandbox for fault injection; reset the faults afterwards."""
    yield sandbox
    sandbox.set_faults(reset=True)


@dataclass(frozen=True)
class Follower:
    """A fresh funded wallet whose key is in the test vault."""

    address: str
    key_ref: str
    private_key: str


@pytest.fixture
def fresh_follower(sandbox: Sandbox, vault: Vault) -> Follower:
    """Create a wallet, put its key in the vault, fund it with pUSD and POL and approve."""
    account = Account.create()
    name = f"f{uuid.uuid4().hex[:12]}"
    vault.add(name, account.key.hex(), PASSPHRASE)
    sandbox.fund(account.address, pusd="50", pol="1", approve=True)
    return Follower(account.address, f"vault://{name}", account.key.hex())
