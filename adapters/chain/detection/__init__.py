"""Source fill detection: one chain tail per worker process for every watched wallet.

Modules: `heads` (adaptive polling or newHeads), `bloom` (skip blocks that cannot hold our
fills), `logs` (chunked eth_getLogs), `fallback` (Data API + receipts), `store` (one wallet's
fills), `reorg` (our chain, fork detection), `ledger_io` (ledger writes), `tail` (the loop and
backfills), `stats` (figures for the dashboard). They share the process's one RPC pool
(`adapters.chain.rpc`): `build_tail` wires them from settings over a given pool,
`build_bare_tail` over one endpoint with their defaults (benchmarks); nothing here builds a
client at import time.
"""

from __future__ import annotations

from adapters.chain.detection.fallback import DataApiFallback
from adapters.chain.detection.feed import ChainFillFeed
from adapters.chain.detection.heads import HeadSource, PollingHeads, WsHeads
from adapters.chain.detection.logs import LogReader
from adapters.chain.detection.stats import DetectionStats, percentile, read_stats
from adapters.chain.detection.tail import ChainTail, TailConfig
from adapters.chain.rpc import RpcPool
from adapters.ledger import Ledger
from projectk.settings import Settings

STATS_FILE = "detection.json"

__all__ = [
    "STATS_FILE",
    "ChainFillFeed",
    "ChainTail",
    "DetectionStats",
    "TailConfig",
    "build_bare_tail",
    "build_tail",
    "percentile",
    "read_stats",
    "stats_path",
]


def stats_path(settings: Settings) -> str:
    """Return where a worker's tail writes its figures (the dashboard reads them there)."""
    return str(settings.data_dir / STATS_FILE)


def build_tail(settings: Settings, ledger: Ledger | None, rpc: RpcPool) -> ChainTail:
    """Build the chain tail (not started) over the process's RPC pool, from resolved settings
    (`adapters.endpoints.resolve_endpoints`); stopping the tail closes the pool."""
    heads: HeadSource
    if settings.ws_url:
        heads = WsHeads(settings.ws_url, rpc, settings.chain_block_time_s)
    else:
        heads = PollingHeads(rpc, settings.chain_block_time_s, settings.head_poll_fast_s)
    reader = LogReader(rpc, settings.rpc_max_block_range, settings.rpc_max_wallets_per_query)
    config = TailConfig(
        confirmations=settings.fill_confirmations,
        reorg_window=settings.fill_reorg_window,
        stats_path=settings.data_dir / STATS_FILE,
    )
    fallback = DataApiFallback(rpc, reader, settings.data_api_url, settings.rpc_timeout_s)
    return ChainTail(rpc, heads, reader, ledger=ledger, fallback=fallback, config=config)


def build_bare_tail(rpc_url: str, ws_url: str | None = None) -> ChainTail:
    """Build a tail (not started) over one endpoint with its components' defaults: newHeads when
    `ws_url` is given, else adaptive polling; no ledger, Data API fallback or stats file."""
    rpc = RpcPool([rpc_url])
    heads: HeadSource = WsHeads(ws_url, rpc) if ws_url else PollingHeads(rpc)
    return ChainTail(rpc, heads, LogReader(rpc))
