"""Source fill detection: one chain tail per worker process for every watched wallet.

Modules: `rpc` (endpoints, failover, rate limits), `heads` (adaptive polling or newHeads),
`bloom` (skip blocks that cannot hold our fills), `logs` (chunked eth_getLogs), `fallback`
(Data API + receipts), `store` (one wallet's fills), `reorg` (our chain, fork detection),
`ledger_io` (ledger writes), `tail` (the loop and backfills), `stats` (figures for the
dashboard). `build_tail` wires them from settings; nothing here builds a client at import time.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from adapters.chain.detection.fallback import DataApiFallback
from adapters.chain.detection.heads import HeadSource, PollingHeads, WsHeads
from adapters.chain.detection.logs import LogReader
from adapters.chain.detection.rpc import RpcPool
from adapters.chain.detection.stats import DetectionStats, read_stats
from adapters.chain.detection.tail import ChainTail, TailConfig
from adapters.ledger import Ledger
from projectk.settings import ExecutorMode, Settings

STATS_FILE = "detection.json"

__all__ = [
    "ChainTail",
    "ChainUnavailable",
    "DetectionStats",
    "TailConfig",
    "build_tail",
    "chain_head_reader",
    "chain_settings",
    "read_stats",
    "stats_path",
]


def stats_path(settings: Settings) -> str:
    """Return where a worker's tail writes its figures (the dashboard reads them there)."""
    return str(settings.data_dir / STATS_FILE)


def chain_settings(settings: Settings) -> Settings:
    """Return settings whose RPC and Data API URLs point at the running sandbox in sandbox mode
    (from its ready file), unless PROJECTK_RPC_URLS / PROJECTK_DATA_API_URL were set."""
    if settings.executor_mode is not ExecutorMode.SANDBOX:
        return settings
    try:
        ready = json.loads((settings.data_dir / "sandbox" / "ready.json").read_text())
    except (OSError, ValueError):
        return settings
    update: dict[str, object] = {}
    if "rpc_urls" not in settings.model_fields_set and ready.get("rpc_url"):
        update["rpc_urls"] = [str(ready["rpc_url"])]
    if "data_api_url" not in settings.model_fields_set and ready.get("data_api_url"):
        update["data_api_url"] = str(ready["data_api_url"])
    return settings.model_copy(update=update) if update else settings


def build_tail(settings: Settings, ledger: Ledger | None) -> ChainTail:
    """Build the chain tail (not started) from settings."""
    settings = chain_settings(settings)
    rpc = RpcPool(
        settings.rpc_urls, timeout_s=settings.rpc_timeout_s, rate_per_s=settings.rpc_rate_per_s
    )
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


def chain_head_reader(settings: Settings, timeout_s: float = 5.0) -> Callable[[], int]:
    """Return a blocking function that reads the newest block number from the first RPC URL
    that answers (for `PairService(chain_head=…)`: where a new pair starts reading fills)."""

    settings = chain_settings(settings)

    def head() -> int:
        errors = []
        for url in settings.rpc_urls:
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
            try:
                answer = httpx.post(url, json=body, timeout=timeout_s, trust_env=False).json()
                return int(answer["result"], 16)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
        raise ChainUnavailable("no RPC URL answered eth_blockNumber: " + "; ".join(errors))

    return head


class ChainUnavailable(RuntimeError):
    """No configured RPC URL answered."""
