"""Fixtures for the sandbox contract suite: one sandbox per session, a fresh market per test.

Every test talks to the sandbox only through py-clob-client-v2, web3 and plain HTTP, as the
application would. Test markets are not quoted by the market maker, so books are deterministic.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from web3 import Web3

from sandbox.runtime import Sandbox, SandboxOptions


@dataclass(frozen=True)
class SandboxMarket:
    """A market created for one test."""

    condition_id: str
    yes: str
    no: str
    raw: dict[str, Any]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(SandboxOptions(gtd_security_s=1, page_limit=5, mm_interval_s=0.5))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="session")
def w3(sandbox: Sandbox) -> Web3:
    return Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))


@pytest.fixture(scope="session")
def demo(sandbox: Sandbox) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = sandbox.info["accounts"]["demo"]
    return accounts


@pytest.fixture(scope="session")
def client_for(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[int], ClobClient]:
    cache: dict[int, ClobClient] = {}

    def make(i: int) -> ClobClient:
        if i not in cache:
            client = ClobClient(sandbox.info["clob_url"], 137, key=demo[i]["private_key"])
            client.set_api_creds(client.create_or_derive_api_key())
            cache[i] = client
        return cache[i]

    return make


@pytest.fixture
def market(sandbox: Sandbox) -> SandboxMarket:
    slug = f"test-{uuid.uuid4().hex[:10]}"
    raw = sandbox.create_market(f"Test market {slug}?", slug, quote=False)
    return SandboxMarket(
        raw["condition_id"], raw["tokens"][0]["token_id"], raw["tokens"][1]["token_id"], raw
    )


@pytest.fixture
def give_shares(
    sandbox: Sandbox, demo: list[dict[str, Any]]
) -> Callable[[SandboxMarket, int, int], None]:
    def give(m: SandboxMarket, account: int, amount: int) -> None:
        sandbox.admin(
            "/split",
            {"market": m.condition_id, "address": demo[account]["address"], "amount": str(amount)},
        )

    return give
