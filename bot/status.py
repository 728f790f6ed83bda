"""/status and /whereami: is the system alive, and which bot process answers.

Invariants:
- Every probe is bounded by `PROBE_TIMEOUT`; a probe that fails or times out is reported as a
  failed line, never raised, so /status always answers.
- Reads only: Temporal's health and task-queue pollers, and the ledger's newest detected fill.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from temporalio.client import Client

from adapters.chain.detection.stats import read_stats
from adapters.ledger import LedgerReader
from adapters.ledger.types import utcnow
from adapters.temporal import Poller, fresh_counts, task_queue_pollers

log = logging.getLogger(__name__)

PROBE_TIMEOUT = timedelta(seconds=5)


def project_version() -> str:
    """Return the installed ProjectK version."""
    try:
        return version("projectk")
    except PackageNotFoundError:
        return "unknown"


STATS_FRESH = timedelta(minutes=1)  # the tail rewrites its figures every few seconds


class StatusProbe:
    """Answer /status and /whereami."""

    def __init__(
        self,
        client: Client,
        ledger: LedgerReader,
        task_queue: str,
        clock: Callable[[], datetime] = utcnow,
        stats_file: Path | None = None,
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._task_queue = task_queue
        self._clock = clock
        self._stats_file = stats_file  # the chain tail's figures, written by the worker
        self._started = clock()

    def whereami(self) -> str:
        """Return host, process id, version and uptime of this bot."""
        uptime = self._clock() - self._started
        return (
            f"ProjectK bot {project_version()} on host {socket.gethostname()}, pid {os.getpid()},"
            f" up {_ago(uptime)}; Temporal namespace {self._client.namespace}, "
            f"task queue {self._task_queue}"
        )

    async def report(self) -> str:
        """Return one line per probe: Temporal, workers, chain tail."""
        temporal = await self._temporal()
        workers = await self._workers() if temporal.startswith("✅") else "❔ workers: unknown"
        return "\n".join([temporal, workers, self._chain_tail()])

    async def _temporal(self) -> str:
        target = self._client.service_client.config.target_host
        try:
            healthy = await asyncio.wait_for(
                self._client.service_client.check_health(timeout=PROBE_TIMEOUT),
                PROBE_TIMEOUT.total_seconds(),
            )
        except Exception as exc:  # any failure is the answer, not a crash of /status
            log.warning("status: Temporal at %s unreachable: %s", target, exc)
            return f"❌ Temporal at {target}: unreachable ({type(exc).__name__})"
        return (
            f"✅ Temporal at {target}: reachable"
            if healthy
            else f"❌ Temporal at {target}: unhealthy"
        )

    async def _workers(self) -> str:
        try:
            pollers = await asyncio.wait_for(
                task_queue_pollers(self._client, self._task_queue), PROBE_TIMEOUT.total_seconds()
            )
        except Exception as exc:  # reported, not raised
            log.warning("status: describe task queue failed: %s", exc)
            return f"❌ workers: cannot describe task queue {self._task_queue}"
        return workers_line(self._task_queue, pollers, self._clock())

    def _chain_tail(self) -> str:
        stats = read_stats(self._stats_file) if self._stats_file else None
        if stats is not None and self._clock() - stats.updated_at < STATS_FRESH:
            healthy = sum(1 for e in stats.endpoints if e.healthy)
            return (
                f"📡 chain tail: head {stats.head_block}, synced {stats.synced_block} "
                f"(lag {stats.head_lag_blocks} blocks), detection p50 {stats.lag_ms_p50:.0f} ms "
                f"p95 {stats.lag_ms_p95:.0f} ms, {stats.rpc_requests_per_block:.1f} RPC requests "
                f"per block, {stats.rpc_errors} errors, {healthy}/{len(stats.endpoints)} "
                "RPC endpoints healthy"
            )
        return self._newest_fill()

    def _newest_fill(self) -> str:
        # No fresh figures from a worker's tail (paper mode, or no worker): the ledger's view.
        try:
            fill = self._ledger.newest_fill()
        except Exception as exc:  # reported, not raised
            log.warning("status: ledger read failed: %s", exc)
            return "❌ chain tail: the ledger cannot be read"
        if fill is None:
            return "❔ chain tail: no source fill detected yet"
        detected = fill.detected_at or fill.block_time
        lag = detected - fill.block_time
        return (
            f"📡 chain tail: newest fill in block {fill.block_number} detected "
            f"{lag.total_seconds():.1f} s after its block, {_ago(self._clock() - detected)} ago"
        )


def workers_line(task_queue: str, pollers: Sequence[Poller], now: datetime) -> str:
    """Return the /status line of the fresh pollers of each task kind."""
    counts = fresh_counts(pollers, now)
    icon = "✅" if all(counts.values()) else "❌"
    listed = ", ".join(f"{count} {kind.value}" for kind, count in counts.items())
    return f"{icon} workers polling {task_queue}: {listed} poller(s)"


def _ago(delta: timedelta) -> str:
    seconds = int(max(delta.total_seconds(), 0))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
