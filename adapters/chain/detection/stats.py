"""What the chain tail tells operators: head lag, RPC requests per block, errors, endpoint health.

Invariants:
- `DetectionStats` is a frozen snapshot, safe to hand to the dashboard or `doctor` and to write
  as JSON (`write_stats`/`read_stats`); it never carries an RPC URL's path or query (API keys).
- `DetectionMetrics` is the mutable collector the tail updates; only the tail's task writes it.
- Lag samples are bounded (the last `LAG_SAMPLES`), so memory does not grow with uptime.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

from adapters.chain.rpc import EndpointStats
from projectk.models import Frozen

LAG_SAMPLES = 2048


class DetectionStats(Frozen):
    """A snapshot of the chain tail's state and figures."""

    head_mode: str  # "poll" (adaptive eth_getBlockByNumber polling) or "ws" (newHeads)
    head_block: int  # newest block the RPC has shown
    synced_block: int  # every watched wallet's logs up to here are delivered
    head_lag_blocks: int
    head_age_ms: float  # how long ago the newest head was seen
    blocks_seen: int
    rpc_requests: int
    rpc_requests_per_block: float
    rpc_errors: int
    wallets: int
    fills_detected: int
    fills_retracted: int
    reorgs: int
    data_api_fallbacks: int
    lag_ms_p50: float  # head seen at the RPC -> fill ready for the pairs
    lag_ms_p95: float
    poll_interval_ms: float
    endpoints: list[EndpointStats]
    updated_at: datetime


def percentile(samples: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of samples by nearest rank, 0 for none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]


class DetectionMetrics:
    """Counters the tail updates as it works."""

    def __init__(self) -> None:
        self.head_block = 0
        self.head_seen_at = 0.0  # monotonic
        self.first_head_block: int | None = None
        self.synced_block = 0
        self.fills_detected = 0
        self.fills_retracted = 0
        self.reorgs = 0
        self.data_api_fallbacks = 0
        self.poll_interval_s = 0.0
        self.lags_ms: deque[float] = deque(maxlen=LAG_SAMPLES)

    def saw_head(self, number: int, at: float) -> None:
        """Record a new chain head."""
        if self.first_head_block is None:
            self.first_head_block = number
        if number > self.head_block:
            self.head_block, self.head_seen_at = number, at

    @property
    def blocks_seen(self) -> int:
        """Return how many blocks the head advanced since the tail started."""
        return 0 if self.first_head_block is None else self.head_block - self.first_head_block


def snapshot(
    metrics: DetectionMetrics,
    mode: str,
    synced: int,
    wallets: int,
    requests: int,
    endpoints: list[EndpointStats],
    interval_s: float,
    now: float,
) -> DetectionStats:
    """Return the figures of a tail from its collector and its RPC pool's counters."""
    m = metrics
    blocks = m.blocks_seen
    lags = list(m.lags_ms)
    return DetectionStats(
        head_mode=mode,
        head_block=m.head_block,
        synced_block=synced,
        head_lag_blocks=max(0, m.head_block - synced),
        head_age_ms=round((now - m.head_seen_at) * 1000, 1) if m.head_seen_at else 0.0,
        blocks_seen=blocks,
        rpc_requests=requests,
        rpc_requests_per_block=round(requests / blocks, 2) if blocks else 0.0,
        rpc_errors=sum(e.errors for e in endpoints),
        wallets=wallets,
        fills_detected=m.fills_detected,
        fills_retracted=m.fills_retracted,
        reorgs=m.reorgs,
        data_api_fallbacks=m.data_api_fallbacks,
        lag_ms_p50=round(percentile(lags, 0.5), 1),
        lag_ms_p95=round(percentile(lags, 0.95), 1),
        poll_interval_ms=round(interval_s * 1000, 1),
        endpoints=endpoints,
        updated_at=datetime.now(UTC),
    )


def write_stats(path: Path, stats: DetectionStats) -> None:
    """Write a snapshot atomically (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".detection-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        handle.write(stats.model_dump_json())
    os.replace(tmp, path)


def read_stats(path: Path) -> DetectionStats | None:
    """Return the last snapshot a worker wrote, or None."""
    try:
        return DetectionStats.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None
