"""Fixtures for claim tests on the sandbox: one sandbox per session (no market maker, no demo
markets), a fresh market per test with a follower holding unequal Yes and No shares, a vault
holding that follower's (public, well-known) test key, and the real claim activities."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi.abi import encode
from eth_typing import HexStr
from eth_utils.abi import function_signature_to_4byte_selector
from temporalio.testing import WorkflowEnvironment
from web3 import AsyncWeb3, Web3

from activities.claims import ClaimActivities
from adapters.chain import ClaimChain, RpcPool, build_web3
from adapters.chain import contracts as chain
from adapters.polymarket import ClobMarketDirectory
from adapters.vault import ScryptParams, Vault
from projectk import claims
from projectk.models import MICRO
from sandbox.runtime import Sandbox, SandboxOptions
from tests.temporal_env import time_skipping_env

PASSPHRASE = "claims-test-passphrase"
KEY_REF = "vault://follower"
WINNING_SHARES = 10 * MICRO
LOSING_SHARES = 4 * MICRO


@dataclass(frozen=True)
class HeldMarket:
    """A sandbox market and a follower holding Yes and No shares of it."""

    condition_id: str
    question_id: str
    yes: str
    no: str
    follower: str


@pytest.fixture(scope="session")
async def claims_env() -> AsyncIterator[WorkflowEnvironment]:
    """Yield a time-skipping server of the claim tests' own.

    Time skips only when nothing runs anywhere on a time-skipping server, so a workflow another
    test left running (a pair's long poll) would stall the weeks these tests skip.
    """
    async with time_skipping_env() as env:
        yield env


@pytest.fixture(scope="session")
async def pairs_env() -> AsyncIterator[WorkflowEnvironment]:
    """Yield a time-skipping server for the claim tests that run pairs (and need no skipping).

    A pair left on a time-skipping server (even terminated) stops its time from skipping, so
    pairs get a server apart from `claims_env` and from the shared `time_env`.
    """
    async with time_skipping_env() as env:
        yield env


@pytest.fixture(scope="session")
def claim_sandbox() -> Iterator[Sandbox]:
    """Yield a running sandbox for the claim tests."""
    with Sandbox(SandboxOptions(market_maker=False, demo_markets=False)) as sb:
        yield sb


@pytest.fixture(scope="session")
def sync_w3(claim_sandbox: Sandbox) -> Web3:
    """Return a synchronous web3 client of the sandbox chain (test setup and checks)."""
    return Web3(Web3.HTTPProvider(claim_sandbox.info["rpc_url"]))


def demo_account(sb: Sandbox, index: int) -> dict[str, Any]:
    """Return demo account `index` (address and well-known private key)."""
    account: dict[str, Any] = sb.info["accounts"]["demo"][index]
    return account


def hold_yes_and_no(sb: Sandbox, w3: Web3, follower: str) -> HeldMarket:
    """Create a market and leave `follower` with 10 Yes and 4 No shares of it."""
    slug = f"claim-{uuid.uuid4().hex[:10]}"
    market = sb.create_market(f"Will claim test {slug} pass?", slug, quote=False)
    yes, no = (str(t["token_id"]) for t in market["tokens"])
    sb.admin("/split", {"market": market["condition_id"], "address": follower, "amount": "10"})
    away = WINNING_SHARES - LOSING_SHARES
    selector = function_signature_to_4byte_selector(
        "safeTransferFrom(address,address,uint256,uint256,bytes)"
    )
    args = encode(
        ["address", "address", "uint256", "uint256", "bytes"],
        [follower, sb.info["accounts"]["market_maker"]["address"], int(no), away, b""],
    )
    tx = w3.eth.send_transaction(
        {
            "from": Web3.to_checksum_address(follower),
            "to": Web3.to_checksum_address(chain.CONDITIONAL_TOKENS),
            "data": HexStr("0x" + (selector + args).hex()),
        }
    )
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    return HeldMarket(market["condition_id"], market["question_id"], yes, no, follower)


@pytest.fixture
def vault_for(tmp_path: Path) -> Any:
    """Return a function that puts a private key into a fresh test vault as vault://follower."""

    def make(private_key: str) -> Vault:
        vault = Vault(tmp_path / "vault.json", kdf=ScryptParams(n=16, r=1, p=1))
        vault.add("follower", private_key, PASSPHRASE)
        return vault

    return make


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """Yield an HTTP client for the market directory."""
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield client


@pytest.fixture
async def async_w3(claim_sandbox: Sandbox) -> AsyncIterator[AsyncWeb3[Any]]:
    """Yield the async web3 client the claim activities use (over an RPC pool, as the worker
    builds it), closed afterwards."""
    rpc = RpcPool([claim_sandbox.info["rpc_url"]])
    yield build_web3(rpc)
    await rpc.close()


def claim_chain(vault: Vault, w3: AsyncWeb3[Any]) -> ClaimChain:
    """Return the real chain side of claims against the sandbox, as the worker builds it."""
    return ClaimChain(
        w3,
        vault,
        PASSPHRASE,
        gas_threshold_wei=claims.pol_to_wei(claims.DEFAULT_MIN_POL),
        use_adapters=False,
    )


def claim_activities(
    sb: Sandbox, vault: Vault, http: httpx.AsyncClient, w3: AsyncWeb3[Any]
) -> ClaimActivities:
    """Return the real claim activities against the sandbox, as the worker builds them."""
    return ClaimActivities(claim_chain(vault, w3), ClobMarketDirectory(http, sb.info["clob_url"]))
