"""Cached ledger reads of each page, bundled so a page makes one call per refresh.

Invariants:
- Each loader is a few grouped or bounded queries (see `LedgerReader`): the overview's cost does
  not grow with a Python loop over orders.
- Results are cached for `state.CACHE_TTL_S`, keyed by the `Target` and the filters; failures
  come back as `Fetched.error`, never as an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import streamlit as st

from adapters.ledger import (
    AlertRecord,
    ClaimRecord,
    Execution,
    LedgerReader,
    OrderRecord,
    OrderStatus,
    PairRecord,
    PairSummary,
    PairTotals,
    TokenMark,
    TokenTotals,
)
from adapters.temporal import Poller, task_queue_pollers
from dashboard import temporal_reads
from dashboard.state import CACHE_TTL_S, Fetched, Target, ledger_read, temporal_later
from dashboard.temporal_reads import PairListing

ORDERS_SHOWN = 1000  # newest orders a table shows; filters narrow what they are
ALERTS_SCANNED = 200


@dataclass(frozen=True)
class OverviewLedger:
    """What the overview reads from the ledger."""

    registry: list[PairSummary]
    totals: list[PairTotals]
    tokens: list[TokenTotals]
    marks: dict[str, TokenMark]
    last_fills: dict[str, datetime]
    alerts: list[AlertRecord]


EMPTY_OVERVIEW = OverviewLedger(
    registry=[], totals=[], tokens=[], marks={}, last_fills={}, alerts=[]
)


@dataclass(frozen=True)
class OverviewData:
    """Everything the overview shows: the ledger side and the two Temporal reads."""

    ledger: Fetched[OverviewLedger]
    listing: Fetched[list[PairListing]]
    workers: Fetched[list[Poller]]


@dataclass(frozen=True)
class PairLedger:
    """What the Pair page reads from the ledger for one pair."""

    record: PairRecord | None
    totals: PairTotals | None
    orders: list[OrderRecord]
    executions: list[Execution]
    marks: dict[str, TokenMark]


def day_start(day: date) -> datetime:
    """Return midnight UTC of a day (the start of 'today' for day counters)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def read_overview(reader: LedgerReader, day: date) -> OverviewLedger:
    """Read the overview's ledger side: registry, grouped totals, marks and recent alerts."""
    totals, tokens = reader.order_totals(since=day_start(day))
    return OverviewLedger(
        registry=reader.pair_summaries(),
        totals=totals,
        tokens=tokens,
        marks=reader.token_marks(t.token_id for t in tokens),
        last_fills=reader.last_fill_times(),
        alerts=reader.list_alerts(limit=ALERTS_SCANNED),
    )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def overview(target: Target, day: date, with_ledger: bool) -> OverviewData:
    """Return the overview's data; the Temporal reads run while the ledger is read."""
    listing = temporal_later(target, lambda c: temporal_reads.list_pairs(c, target.task_queue))
    workers = temporal_later(target, lambda c: task_queue_pollers(c, target.task_queue))
    ledger: Fetched[OverviewLedger] = Fetched(value=EMPTY_OVERVIEW)
    if with_ledger:
        ledger = ledger_read(target, lambda r: read_overview(r, day))
    return OverviewData(ledger=ledger, listing=listing(), workers=workers())


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pair(target: Target, pair_id: str, day: date) -> Fetched[PairLedger]:
    """Return one pair's registry entry, totals, orders, executions and token marks."""

    def read(reader: LedgerReader) -> PairLedger:
        orders = reader.list_orders(pair_id=pair_id, limit=ORDERS_SHOWN)
        totals = reader.pair_totals(since=day_start(day), pair_id=pair_id)
        return PairLedger(
            record=reader.get_pair(pair_id),
            totals=totals[0] if totals else None,
            orders=orders,
            executions=reader.list_executions(pair_id=pair_id, limit=ORDERS_SHOWN),
            marks=reader.token_marks(o.token_id for o in orders),
        )

    return ledger_read(target, read)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def orders(
    target: Target,
    pair_id: str | None,
    statuses: tuple[OrderStatus, ...] | None,
    since: datetime | None,
    until: datetime | None,
) -> Fetched[list[OrderRecord]]:
    """Return the newest mirror orders matching the filters."""
    return ledger_read(
        target,
        lambda r: r.list_orders(
            pair_id=pair_id, statuses=statuses, since=since, until=until, limit=ORDERS_SHOWN
        ),
    )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pair_ids(target: Target) -> Fetched[list[str]]:
    """Return the ids of every pair the registry knows, removed ones included."""
    return ledger_read(target, lambda r: [p.pair_id for p in r.list_pairs(include_removed=True)])


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def claims(target: Target) -> Fetched[list[ClaimRecord]]:
    """Return the claims, most recently changed first."""
    return ledger_read(target, lambda r: r.list_claims(limit=ORDERS_SHOWN))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def followers(target: Target) -> Fetched[dict[str, list[str]]]:
    """Return which pairs each follower wallet serves (claims are per follower)."""

    def read(reader: LedgerReader) -> dict[str, list[str]]:
        served: dict[str, list[str]] = {}
        for record in reader.list_pairs(include_removed=True):
            served.setdefault(record.config.follower, []).append(record.pair_id)
        return served

    return ledger_read(target, read)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def freshness_inputs(
    target: Target, day: date
) -> Fetched[tuple[dict[str, PairTotals], Mapping[str, datetime], int | None]]:
    """Return per-pair totals, newest fill per wallet and newest fill block (System page)."""

    def read(
        reader: LedgerReader,
    ) -> tuple[dict[str, PairTotals], Mapping[str, datetime], int | None]:
        totals = {t.pair_id: t for t in reader.pair_totals(since=day_start(day))}
        return totals, reader.last_fill_times(), reader.newest_fill_block()

    return ledger_read(target, read)
