"""Fixtures for the sandbox contract suite: one sandbox per session, a fresh market per test.

Every test talks to the sandbox only through the unmodified clients (py-clob-client-v2 and
Polymarket's SDK, polymarket-client), web3 and plain HTTP, as the application would. Test markets
are not quoted by the market maker, so books are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from polymarket import SecureClient
from py_clob_client_v2.client import ClobClient
from web3 import Web3

from sandbox.runtime import Sandbox, SandboxOptions
from tests.sandbox_env import (
    Market,
    clob_clients,
    demo_accounts,
    sdk_clients,
    share_giver,
    unquoted_market,
)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(gtd_security_s=1, page_limit=5, mm_interval_s=0.5)) as sb:
        yield sb


@pytest.fixture(scope="session")
def w3(sandbox: Sandbox) -> Web3:
    return Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))


@pytest.fixture(scope="session")
def demo(sandbox: Sandbox) -> list[dict[str, Any]]:
    return demo_accounts(sandbox)


@pytest.fixture(scope="session")
def client_for(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[int], ClobClient]:
    return clob_clients(sandbox, demo)


@pytest.fixture(scope="session")
def sdk_for(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[int], SecureClient]:
    return sdk_clients(sandbox, demo)


@pytest.fixture
def market(sandbox: Sandbox) -> Market:
    return unquoted_market(sandbox, "test", "Test market")


@pytest.fixture
def make_market(sandbox: Sandbox) -> Callable[..., Market]:
    """Create a fresh unquoted market: ``make_market("v2", fee_rate="0.07", fee_exponent=1)``."""

    def make(version: str = "v1", **spec: Any) -> Market:
        return unquoted_market(sandbox, f"sdk-{version}", "SDK market", version=version, **spec)

    return make


@pytest.fixture
def give_shares(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[Market, int, int], None]:
    return share_giver(sandbox, demo)


@pytest.fixture
def faults(sandbox: Sandbox) -> Iterator[Sandbox]:
    """Yield the session's sandbox for fault injection; reset the faults afterwards."""
    yield sandbox
    sandbox.set_faults(reset=True)
