"""Building the chain clients from (resolved) settings: the process's one RPC pool, and the
balance reader and claim chain over it; the detection tail takes the same pool
(`detection.build_tail`).

Invariants: nothing is built at import; settings are resolved (`adapters.endpoints`) before they
reach here, so every chain client of a process talks to the same chain; every chain read and
send of a worker goes through the one pool (failover, rate limits, counters).
"""

from __future__ import annotations

from typing import Any

from web3 import AsyncWeb3

from adapters.chain.claims import ClaimChain
from adapters.chain.provider import PoolProvider
from adapters.chain.reader import ChainReader
from adapters.chain.rpc import RpcPool
from adapters.vault import Vault
from projectk import claims
from projectk.settings import ExecutorMode, Settings


def build_rpc_pool(settings: Settings) -> RpcPool:
    """Return an RPC pool over the configured RPC URLs, with their timeout and rate limit."""
    return RpcPool(
        settings.rpc_urls, timeout_s=settings.rpc_timeout_s, rate_per_s=settings.rpc_rate_per_s
    )


def build_web3(rpc: RpcPool) -> AsyncWeb3[Any]:
    """Return a web3 client whose requests go through the pool."""
    return AsyncWeb3(PoolProvider(rpc))


def build_reader(rpc: RpcPool) -> ChainReader:
    """Return the outcome-token balance reader over the pool."""
    return ChainReader(build_web3(rpc))


def use_adapters(settings: Settings) -> bool:
    """Tell whether redeems go through the V2 collateral adapters (production) or not."""
    if settings.claim_use_adapters is not None:
        return settings.claim_use_adapters
    return settings.executor_mode is ExecutorMode.LIVE


def build_claim_chain(settings: Settings, rpc: RpcPool) -> ClaimChain:
    """Return the chain side of claims over the pool (paper trading has no vault: it signs
    nothing)."""
    paper = settings.executor_mode is ExecutorMode.PAPER
    return ClaimChain(
        build_web3(rpc),
        None if paper else Vault(settings.resolved_vault_path),
        settings.passphrase(),
        gas_threshold_wei=claims.pol_to_wei(settings.claim_min_pol),
        use_adapters=use_adapters(settings),
    )
