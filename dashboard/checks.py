"""The System page's checks: is the dashboard reading the ledger the workers write, are workers
polling, do the RPC endpoints answer.

Invariants:
- Every check is a `projectk.health.Check`, the vocabulary doctor and the bot's /status speak
  too; the System page only renders it.
- Pure functions of what was read (RPC endpoints by `adapters.chain.probe_rpc`). The chain
  tail's own figures come from the snapshot each worker writes.
- Same ledger: every worker advertises the id of the ledger it opened in its Temporal identity
  (`adapters.ledger.reads.worker_identity`); a poller advertising another id means a different
  database. A copy of the right database has the right id, so freshness is checked too: a pair
  whose workflow has finished more mirror orders than the ledger holds, or has consumed a source
  fill newer than any the ledger holds, means the dashboard reads a stale copy.
- Endpoints are shown as scheme://host[:port] only: RPC URLs often carry API keys in their path
  or query, and secrets are never shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from adapters.chain import DetectionStats
from adapters.ledger import PairTotals
from adapters.temporal import Poller, fresh_counts
from projectk.health import Check, Health
from projectk.models import PairState

TAIL_STALE_AFTER = timedelta(minutes=2)  # the tail rewrites its figures every few seconds
TAIL_LAG_WARN_BLOCKS = 10  # about 20 s of Polygon blocks
FRESHNESS = "ledger up to date with the workflows"


def ledger_identity_check(ledger_id: str | None, workers: Sequence[Poller] | None) -> Check:
    """Compare the dashboard's ledger id with the ids the polling workers advertise."""
    name = "same ledger as the workers"
    if ledger_id is None:
        return Check(
            name, Health.WARNING, "this ledger has no identity yet: run `projectk db upgrade`"
        )
    if workers is None:
        return Check(name, Health.NOT_CHECKED, "cannot tell: Temporal is not reachable")
    advertised = {w.ledger_id for w in workers if w.ledger_id}
    if not workers:
        return Check(name, Health.NOT_CHECKED, "cannot tell: no worker is polling")
    others = sorted(advertised - {ledger_id})
    if others:
        return Check(
            name,
            Health.WARNING,
            f"DIFFERENT LEDGER: workers write ledger {', '.join(others)}, "
            f"the dashboard reads {ledger_id}",
        )
    if not advertised:
        return Check(name, Health.NOT_CHECKED, "the workers do not advertise their ledger id")
    return Check(name, Health.OK, f"workers write ledger {ledger_id}, the one shown here")


def freshness_check(
    states: Mapping[str, PairState],
    totals: Mapping[str, PairTotals],
    last_fills: Mapping[str, datetime],
) -> Check:
    """Tell whether the ledger holds everything the pairs' workflows say they recorded."""
    name = FRESHNESS
    behind = []
    for pair_id, state in sorted(states.items()):
        finished = state.mirrors_started - len(state.in_flight)
        recorded = totals[pair_id].orders if pair_id in totals else 0
        newest = last_fills.get(state.config.source)
        if recorded < finished:
            behind.append(f"{pair_id}: {finished} mirrors finished, {recorded} in the ledger")
        elif state.last_fill_at and (newest is None or newest < state.last_fill_at):
            behind.append(f"{pair_id}: consumed a source fill newer than any in the ledger")
    if behind:
        return Check(name, Health.WARNING, "STALE LEDGER? " + "; ".join(behind[:5]))
    if not states:
        return Check(name, Health.NOT_CHECKED, "no running pair to compare with")
    return Check(name, Health.OK, f"checked {len(states)} running pair(s)")


def workers_check(workers: Sequence[Poller] | None, now: datetime) -> Check:
    """Tell whether workers poll the task queue for both workflow and activity tasks."""
    name = "workers polling the task queue"
    if workers is None:
        return Check(name, Health.FAILED, "cannot tell: Temporal is not reachable")
    missing = sorted(kind.value for kind, fresh in fresh_counts(workers, now).items() if not fresh)
    if missing:
        return Check(name, Health.FAILED, f"no recent poller for {' and '.join(missing)} tasks")
    identities = sorted({w.identity for w in workers})
    return Check(name, Health.OK, f"{len(identities)} worker(s): {', '.join(identities)}")


def tail_check(stats: DetectionStats | None, now: datetime) -> Check:
    """Tell whether the worker's chain tail keeps up with the chain head, from its snapshot."""
    name = "chain tail"
    if stats is None:
        return Check(name, Health.NOT_CHECKED, "no figures from a worker's chain tail yet")
    detail = (
        f"head {stats.head_block}, synced {stats.synced_block} "
        f"({stats.head_lag_blocks} block(s) behind, {stats.head_mode} mode), detection latency "
        f"p50 {stats.lag_ms_p50:.0f} ms / p95 {stats.lag_ms_p95:.0f} ms, "
        f"{stats.rpc_requests_per_block:.2f} RPC requests per block, {stats.rpc_errors} RPC "
        f"error(s), {stats.reorgs} reorg(s), {stats.wallets} wallet(s) watched"
    )
    if now - stats.updated_at > TAIL_STALE_AFTER:
        return Check(
            name, Health.WARNING, f"STALE: last report {stats.updated_at:%H:%M:%S} UTC; " + detail
        )
    if stats.head_lag_blocks > TAIL_LAG_WARN_BLOCKS:
        return Check(name, Health.WARNING, "LAGGING: " + detail)
    return Check(name, Health.OK, detail)
