"""/status and /whereami: is the system alive, and which bot process answers.

Invariants:
- Every probe is bounded by `PROBE_TIMEOUT`; a probe that fails or times out is reported as a
  failed check, never raised, so /status always answers.
- Each probe ends in a `projectk.health.Check`, the vocabulary doctor and the dashboard speak
  too; /status only renders it, one line per check with the icon of its health.
- Workers are judged from `adapters.temporal`'s poller records by their one freshness rule, as
  the dashboard judges them.
- Reads only: Temporal's health and task-queue pollers, the chain tail's figures file, and the
  ledger's newest detected fill.
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

from adapters.chain import read_stats
from adapters.ledger import LedgerReader, utcnow
from adapters.temporal import Poller, fresh_counts, task_queue_pollers
from bot.texts import ago
from projectk.health import Check, Health

log = logging.getLogger(__name__)

PROBE_TIMEOUT = timedelta(seconds=5)


def project_version() -> str:
    """Return the installed ProjectK version."""
    try:
        return version("projectk")
    except PackageNotFoundError:
        return "unknown"


CHAIN_TAIL = "chain tail"
STATS_FRESH = timedelta(minutes=1)  # the tail rewrites its figures every few seconds
ICONS = {
    Health.OK: "✅",
    Health.WARNING: "⚠️",
    Health.FAILED: "❌",
    Health.NOT_CHECKED: "❔",
}


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
            f" up {ago(uptime)}; Temporal namespace {self._client.namespace}, "
            f"task queue {self._task_queue}"
        )

    async def report(self) -> str:
        """Return one line per probe: Temporal, workers, chain tail."""
        return "\n".join(render(check) for check in await self.checks())

    async def checks(self) -> list[Check]:
        """Return the probes' checks: Temporal, workers, chain tail."""
        temporal = await self._temporal()
        if temporal.health is Health.OK:
            workers = await self._workers()
        else:
            workers = Check("workers", Health.NOT_CHECKED, "unknown")
        return [temporal, workers, self._chain_tail()]

    async def _temporal(self) -> Check:
        name = f"Temporal at {self._client.service_client.config.target_host}"
        try:
            healthy = await asyncio.wait_for(
                self._client.service_client.check_health(timeout=PROBE_TIMEOUT),
                PROBE_TIMEOUT.total_seconds(),
            )
        except Exception as exc:  # any failure is the answer, not a crash of /status
            log.warning("status: %s unreachable: %s", name, exc)
            return Check(name, Health.FAILED, f"unreachable ({type(exc).__name__})")
        if not healthy:
            return Check(name, Health.FAILED, "unhealthy")
        return Check(name, Health.OK, "reachable")

    async def _workers(self) -> Check:
        try:
            pollers = await asyncio.wait_for(
                task_queue_pollers(self._client, self._task_queue), PROBE_TIMEOUT.total_seconds()
            )
        except Exception as exc:  # reported, not raised
            log.warning("status: describe task queue failed: %s", exc)
            detail = f"cannot describe task queue {self._task_queue}"
            return Check("workers", Health.FAILED, detail)
        return workers_check(self._task_queue, pollers, self._clock())

    def _chain_tail(self) -> Check:
        stats = read_stats(self._stats_file) if self._stats_file else None
        if stats is not None and self._clock() - stats.updated_at < STATS_FRESH:
            healthy = sum(1 for e in stats.endpoints if e.healthy)
            return Check(
                CHAIN_TAIL,
                Health.OK,
                f"head {stats.head_block}, synced {stats.synced_block} "
                f"(lag {stats.head_lag_blocks} blocks), detection p50 {stats.lag_ms_p50:.0f} ms "
                f"p95 {stats.lag_ms_p95:.0f} ms, {stats.rpc_requests_per_block:.1f} RPC requests "
                f"per block, {stats.rpc_errors} errors, {healthy}/{len(stats.endpoints)} "
                "RPC endpoints healthy",
            )
        return self._newest_fill()

    def _newest_fill(self) -> Check:
        # No fresh figures from a worker's tail (paper mode, or no worker): the tail itself is
        # not checked, and the ledger's newest fill is what can be told.
        try:
            fill = self._ledger.newest_fill()
        except Exception as exc:  # reported, not raised
            log.warning("status: ledger read failed: %s", exc)
            return Check(CHAIN_TAIL, Health.FAILED, "the ledger cannot be read")
        if fill is None:
            return Check(CHAIN_TAIL, Health.NOT_CHECKED, "no source fill detected yet")
        detected = fill.detected_at or fill.block_time
        lag = detected - fill.block_time
        return Check(
            CHAIN_TAIL,
            Health.NOT_CHECKED,
            f"newest fill in block {fill.block_number} detected {lag.total_seconds():.1f} s "
            f"after its block, {ago(self._clock() - detected)} ago",
        )


def workers_check(task_queue: str, pollers: Sequence[Poller], now: datetime) -> Check:
    """Return the workers' check: a fresh poller for each task kind, and how many there are."""
    counts = fresh_counts(pollers, now)
    health = Health.OK if all(counts.values()) else Health.FAILED
    listed = ", ".join(f"{count} {kind.value}" for kind, count in counts.items())
    return Check(f"workers polling {task_queue}", health, f"{listed} poller(s)")


def render(check: Check) -> str:
    """Return a check as one /status line, behind the icon of its health."""
    text = f"{ICONS[check.health]} {check.name}: {check.detail}"
    return f"{text}; fix: {check.fix}" if check.fix else text
