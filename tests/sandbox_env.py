"""Sandbox helpers shared by the suites that run against it (tests/sandbox, tests/execution).

Each suite's conftest starts its own session sandbox (with its own options) and wraps these in
fixtures. Invariants:
- Test markets are created with `quote=False`: the market maker leaves them alone, so a book holds
  exactly what a test puts on it.
- Demo accounts are the sandbox's funded, unlocked `accounts.demo`; a client of one is made and
  authenticated once, on first use, and then reused.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from polymarket import PRODUCTION, Environment, SecureClient
from polymarket._internal.environment import PRODUCTION_CONFIG, with_environment_config
from py_clob_client_v2.client import ClobClient

from sandbox.runtime import Sandbox

CHAIN_ID = 137


@dataclass(frozen=True)
class Market:
    """A market created for one test."""

    condition_id: str
    yes: str
    no: str


def demo_accounts(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Return the sandbox's funded demo accounts (address, private_key)."""
    accounts: list[dict[str, Any]] = sandbox.info["accounts"]["demo"]
    return accounts


def clob_clients(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[int], ClobClient]:
    """Return a function giving the authenticated py-clob-client-v2 client of demo account i."""
    cache: dict[int, ClobClient] = {}

    def make(i: int) -> ClobClient:
        if i not in cache:
            client = ClobClient(sandbox.info["clob_url"], CHAIN_ID, key=demo[i]["private_key"])
            client.set_api_creds(client.create_or_derive_api_key())
            cache[i] = client
        return cache[i]

    return make


def sdk_environment(sandbox: Sandbox) -> Environment:
    """Return Polymarket's SDK environment pointed at the sandbox (production addresses kept)."""
    info = sandbox.info
    config = dataclasses.replace(
        PRODUCTION_CONFIG,
        clob_url=info["clob_url"],
        gamma_url=info["gamma_url"],
        data_url=info["data_api_url"],
        rpc_url=info["rpc_url"],
    )
    return with_environment_config(PRODUCTION, config=config)


def sdk_clients(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[int], SecureClient]:
    """Return a function giving the SDK client of demo account i (an EOA wallet), made once."""
    cache: dict[int, SecureClient] = {}
    environment = sdk_environment(sandbox)

    def make(i: int) -> SecureClient:
        if i not in cache:
            cache[i] = SecureClient.create(
                private_key=demo[i]["private_key"],
                wallet=demo[i]["address"],
                environment=environment,
            )
        return cache[i]

    return make


def unquoted_market(sandbox: Sandbox, slug_prefix: str, title: str, **spec: Any) -> Market:
    """Create a fresh binary market `<title> <slug_prefix>-<random>?` the market maker ignores.

    ``spec`` passes creation options through (``version="v2"``, ``fee_rate``, ...).
    """
    slug = f"{slug_prefix}-{uuid.uuid4().hex[:10]}"
    raw = sandbox.create_market(f"{title} {slug}?", slug, quote=False, **spec)
    return Market(raw["condition_id"], raw["tokens"][0]["token_id"], raw["tokens"][1]["token_id"])


def share_giver(sandbox: Sandbox, demo: list[dict[str, Any]]) -> Callable[[Market, int, int], None]:
    """Return a function splitting `amount` pUSD of demo account i into Yes+No shares of m."""

    def give(m: Market, account: int, amount: int) -> None:
        sandbox.split(m.condition_id, demo[account]["address"], str(amount))

    return give
