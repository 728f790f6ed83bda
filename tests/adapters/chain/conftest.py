"""Fixtures of the detection tests: one automining sandbox for the module's end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.runtime import Sandbox, SandboxOptions
from tests.adapters.chain.helpers import Traders


@pytest.fixture(scope="session")
def chain_sandbox() -> Iterator[Sandbox]:
    """Yield a sandbox that mines a block per transaction, without a market maker."""
    sb = Sandbox(SandboxOptions(block_time_s=0, market_maker=False, demo_markets=False))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="session")
def traders(chain_sandbox: Sandbox) -> Traders:
    """Return the sandbox's demo wallets, ready to trade on one test market."""
    return Traders(chain_sandbox)
