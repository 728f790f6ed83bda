"""The overview's content: one row per pair, and the banners that ask for a person.

Invariants:
- Pure: built from the visibility listing (status, wallets), the ledger registry (budget) and
  the ledger's grouped totals; no I/O, no per-pair Temporal call.
- The status shown is the workflow's own (its PairStatus search attribute). When Temporal cannot
  be read, the registry's last known status is shown and the row says so.
- A pair that runs in Temporal but is not in the registry, or is registered but has no running
  workflow, is shown, not hidden: either can mean the dashboard reads another ledger.
- A banner speaks the shared health vocabulary (`projectk.health.Health`); the page only picks
  the box it is shown in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.ledger import AlertRecord, PairSummary, PairTotals, TokenMark, TokenTotals
from adapters.temporal import POLLER_FRESH, Poller
from dashboard.books import PnL, pair_pnl
from dashboard.temporal_reads import PairListing
from projectk.health import Health
from projectk.models import AlertKind, PairStatus

ALERT_WINDOW = timedelta(hours=24)  # low-gas and reorg alerts shown in the banner
NO_WORKFLOW = "no workflow"


@dataclass(frozen=True)
class Banner:
    """One message at the top of the overview."""

    health: Health  # how loudly it speaks, in the vocabulary every front-end shares
    text: str


@dataclass(frozen=True)
class OverviewRow:
    """Everything the overview shows of one pair (pUSD in micro-units)."""

    pair_id: str
    status: str
    source: str
    follower: str
    budget_micro: int | None
    used_micro: int
    remaining_micro: int | None
    volume_micro: int
    fills_today: int
    last_source_fill: datetime | None
    failure_streak: int
    realized_micro: int
    marked_micro: int
    in_registry: bool
    in_temporal: bool


def build_rows(
    listings: Sequence[PairListing] | None,
    registry: Sequence[PairSummary],
    totals: Sequence[PairTotals],
    tokens: Sequence[TokenTotals],
    marks: Mapping[str, TokenMark],
    last_fills: Mapping[str, datetime],
) -> list[OverviewRow]:
    """Join the listing (None when Temporal is down) with the ledger, one row per pair."""
    registered = {record.pair_id: record for record in registry}
    running = {listing.pair_id: listing for listing in listings or ()}
    by_pair = {t.pair_id: t for t in totals}
    held: dict[str, list[TokenTotals]] = {}
    for token in tokens:
        held.setdefault(token.pair_id, []).append(token)
    temporal_read = listings is not None
    return [
        _row(
            pair_id,
            running.get(pair_id),
            registered.get(pair_id),
            by_pair.get(pair_id, PairTotals(pair_id=pair_id)),
            pair_pnl(held.get(pair_id, ()), marks),
            last_fills,
            temporal_read,
        )
        for pair_id in sorted(registered.keys() | running.keys())
    ]


def _row(
    pair_id: str,
    listing: PairListing | None,
    record: PairSummary | None,
    sums: PairTotals,
    pnl: PnL,
    last_fills: Mapping[str, datetime],
    temporal_read: bool,
) -> OverviewRow:
    source = listing.source if listing else record.source if record else ""
    budget = record.budget_micro if record else None
    used = max(0, sums.bought_micro - sums.sold_micro)  # net committed, as the pair's books
    return OverviewRow(
        pair_id=pair_id,
        status=_status(listing, record, temporal_read),
        source=source,
        follower=listing.follower if listing else record.follower if record else "",
        budget_micro=budget,
        used_micro=used,
        remaining_micro=None if budget is None else max(0, budget - used - sums.open_micro),
        volume_micro=sums.volume_micro,
        fills_today=sums.fills_since,
        last_source_fill=last_fills.get(source),
        failure_streak=sums.failure_streak,
        realized_micro=pnl.realized_micro,
        marked_micro=pnl.marked_micro,
        in_registry=record is not None,
        in_temporal=listing is not None,
    )


def _status(listing: PairListing | None, record: PairSummary | None, temporal_read: bool) -> str:
    if listing is not None:
        return listing.status
    if record is not None and not temporal_read:
        return f"{record.status.value} (ledger)"  # Temporal unreadable: last status recorded
    return NO_WORKFLOW


def banners(
    rows: Sequence[OverviewRow],
    alerts: Sequence[AlertRecord],
    workers: Sequence[Poller] | None,
    now: datetime,
) -> list[Banner]:
    """Return what needs a person: blocked or stopped pairs, low gas, reorgs, idle workers."""
    found = _pair_banners(rows)
    recent = [a for a in alerts if now - a.created_at <= ALERT_WINDOW]
    for kind, what in ((AlertKind.LOW_GAS, "low gas"), (AlertKind.REORG, "reorg")):
        hits = [a for a in recent if a.kind == kind.value]
        if hits:
            found.append(Banner(Health.WARNING, f"{what} ({len(hits)} in 24 h): {hits[0].message}"))
    if workers is not None:
        found.extend(worker_banners(workers, now, has_pairs=any(r.in_temporal for r in rows)))
    return found


def _pair_banners(rows: Sequence[OverviewRow]) -> list[Banner]:
    found = []
    loudness = ((PairStatus.BLOCKED, Health.FAILED), (PairStatus.STOPPED, Health.WARNING))
    for status, health in loudness:
        names = [r.pair_id for r in rows if r.status == status.value]
        if names:
            found.append(Banner(health, f"{len(names)} pair(s) {status.value}: {_names(names)}"))
    orphans = [r.pair_id for r in rows if r.in_temporal and not r.in_registry]
    if orphans:
        found.append(
            Banner(
                Health.WARNING,
                f"{len(orphans)} running pair(s) are not in this ledger's registry "
                f"({_names(orphans)}): is the dashboard reading the worker's ledger?",
            )
        )
    return found


def worker_banners(workers: Sequence[Poller], now: datetime, has_pairs: bool) -> list[Banner]:
    """Return a banner when no worker polls the task queue (or none did lately)."""
    if not workers:
        health = Health.FAILED if has_pairs else Health.WARNING
        return [Banner(health, "no worker is polling the task queue: pairs cannot make progress")]
    if not any(w.fresh(now) for w in workers):
        minutes = int(POLLER_FRESH.total_seconds() // 60)
        text = f"no worker has polled the task queue in the last {minutes} minutes"
        return [Banner(Health.FAILED, text)]
    return []


def _names(names: Sequence[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
