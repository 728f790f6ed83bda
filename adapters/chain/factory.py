"""Building the chain clients from (resolved) settings: the web3 client, the balance reader, the
claim chain and the detection tail.

Invariant: nothing is built at import; settings are resolved (`adapters.endpoints`) before they
reach here, so every chain client of a process talks to the same chain.
"""

from __future__ import annotations

from typing import Any

from web3 import AsyncHTTPProvider, AsyncWeb3

from adapters.chain.claims import ClaimChain
from adapters.chain.reader import ChainReader
from adapters.vault import Vault
from projectk import claims
from projectk.settings import ExecutorMode, Settings


def build_web3(settings: Settings) -> AsyncWeb3[Any]:
    """Return a web3 client on the first configured RPC URL."""
    return AsyncWeb3(AsyncHTTPProvider(settings.rpc_urls[0]))


def build_reader(settings: Settings) -> ChainReader:
    """Return the outcome-token balance reader."""
    return ChainReader(build_web3(settings))


def use_adapters(settings: Settings) -> bool:
    """Tell whether redeems go through the V2 collateral adapters (production) or not."""
    if settings.claim_use_adapters is not None:
        return settings.claim_use_adapters
    return settings.executor_mode is ExecutorMode.LIVE


def build_claim_chain(settings: Settings) -> ClaimChain:
    """Return the chain side of claims (paper trading has no vault: it signs nothing)."""
    paper = settings.executor_mode is ExecutorMode.PAPER
    return ClaimChain(
        build_web3(settings),
        None if paper else Vault(settings.resolved_vault_path),
        settings.passphrase(),
        gas_threshold_wei=claims.pol_to_wei(settings.claim_min_pol),
        use_adapters=use_adapters(settings),
    )
