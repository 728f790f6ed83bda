"""Streamlit glue: settings, the process-wide resources, and every cached read the pages use.

Invariants:
- Resources are built once per process with `st.cache_resource`: one `TemporalBridge` (one
  event loop, one client) per Temporal address and namespace, one engine per ledger URL.
- Reads are cached for `CACHE_TTL_S` with `st.cache_data`, keyed by the `Target` they read
  (ledger URL, Temporal address, namespace, task queue), so dashboards on different systems
  never share a value. A failed read is returned as a `Fetched` carrying the operator's message,
  and is cached too, so a down server costs one timeout per TTL, not one per rerun.
- Nothing here writes. The ledger is read through `LedgerReader`; it is never created nor
  migrated (a missing SQLite file is reported, not made).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import streamlit as st
from temporalio.client import Client

from adapters.ledger import (
    LedgerDatabaseError,
    LedgerError,
    LedgerReader,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    redact,
)
from adapters.temporal import Poller, task_queue_pollers
from dashboard import temporal_reads
from dashboard.bridge import TemporalBridge, TemporalDown
from projectk.models import PairState
from projectk.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

CACHE_TTL_S = 5


@dataclass(frozen=True)
class Target:
    """What one dashboard reads: a ledger and a Temporal namespace's task queue."""

    db_url: str
    address: str
    namespace: str
    task_queue: str

    @classmethod
    def of(cls, settings: Settings) -> Target:
        """Return the target the settings name."""
        return cls(
            db_url=settings.resolved_db_url,
            address=settings.temporal_address,
            namespace=settings.temporal_namespace,
            task_queue=settings.temporal_task_queue,
        )

    @property
    def ledger_label(self) -> str:
        """Return the ledger URL with its password hidden."""
        try:
            return redact(normalize_url(self.db_url))
        except LedgerError:
            return "(unparseable PROJECTK_DB_URL)"


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A read's value, or the message explaining why there is none."""

    value: T | None = None
    error: str | None = None


@dataclass(frozen=True)
class LedgerStatus:
    """Whether the ledger can be read, and which schema and identity it has."""

    readable: bool
    revision: str | None = None
    head: str | None = None
    ledger_id: str | None = None
    problem: str = ""


def settings() -> Settings:
    """Return the process settings; on a bad variable, show the message and stop the page."""
    try:
        return load_settings()
    except SettingsError as exc:
        st.error(f"The dashboard's settings are invalid.\n\n```\n{exc}\n```")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers sure the function never falls through


@st.cache_resource(show_spinner=False)
def bridge(address: str, namespace: str, _settings: Settings) -> TemporalBridge:
    """Return the process's one Temporal bridge for an address and namespace."""
    # `_settings` is not part of the cache key (Streamlit skips underscore arguments).
    return TemporalBridge(_settings)


@st.cache_resource(show_spinner=False)
def reader(db_url: str) -> LedgerReader:
    """Return the process's read-only ledger access for a URL."""
    return LedgerReader(create_ledger_engine(db_url))


def temporal(target: Target, read: Callable[[Client], Awaitable[T]]) -> Fetched[T]:
    """Run a Temporal read on the target's bridge, turning a down server into a message."""
    return temporal_later(target, read)()


def temporal_later(
    target: Target, read: Callable[[Client], Awaitable[T]]
) -> Callable[[], Fetched[T]]:
    """Start a Temporal read now; return the function that collects it (as a `Fetched`)."""
    pending = bridge(target.address, target.namespace, settings()).start(read)

    def collect() -> Fetched[T]:
        try:
            return Fetched(value=pending.result())
        except TemporalDown as exc:
            return Fetched(error=str(exc))

    return collect


def missing_file(db_url: str) -> str | None:
    """Return the path of a SQLite ledger file that does not exist (None otherwise)."""
    try:
        url = normalize_url(db_url)
    except LedgerError:
        return None
    path = url.database
    if url.get_backend_name() == "sqlite" and path and path != ":memory:":
        return None if Path(path).exists() else path
    return None


def ledger_read(target: Target, read: Callable[[LedgerReader], T]) -> Fetched[T]:
    """Run a ledger read, turning an unreachable or unreadable database into a message."""
    if missing_file(target.db_url):  # connecting would create an empty file: never do that
        return Fetched(error=f"no ledger at {target.ledger_label} yet")
    try:
        return Fetched(value=read(reader(target.db_url)))
    except (LedgerDatabaseError, LedgerError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return Fetched(error=f"cannot read the ledger at {target.ledger_label}: {detail}")


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def ledger_status(target: Target) -> LedgerStatus:
    """Return whether the target's ledger exists and is readable, with its revision and id."""
    try:
        normalize_url(target.db_url)
    except LedgerError as exc:
        return LedgerStatus(readable=False, problem=str(exc))
    if missing_file(target.db_url):
        return LedgerStatus(
            readable=False,
            problem="the file does not exist yet: start the worker "
            "(`projectk worker`) or run `projectk db upgrade`",
        )
    found = ledger_read(target, lambda r: (current_revision(r.engine), r.ledger_id()))
    if found.value is None:
        return LedgerStatus(readable=False, problem=found.error or "unreadable")
    revision, ledger_id = found.value
    head = head_revision()
    if revision is None:
        return LedgerStatus(readable=False, head=head, problem="the ledger has no schema yet")
    return LedgerStatus(readable=True, revision=revision, head=head, ledger_id=ledger_id)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def listing(target: Target) -> Fetched[list[temporal_reads.PairListing]]:
    """Return the running pairs of the target's task queue (one visibility query)."""
    return temporal(target, lambda c: temporal_reads.list_pairs(c, target.task_queue))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def workers(target: Target) -> Fetched[list[Poller]]:
    """Return the workers polling the target's task queue."""
    return temporal(target, lambda c: task_queue_pollers(c, target.task_queue))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pair_state(target: Target, pair_id: str) -> Fetched[PairState | None]:
    """Return one pair's live state from its workflow (value None: no running workflow)."""
    return temporal(target, lambda c: temporal_reads.pair_state(c, pair_id))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pair_states(target: Target, pair_ids: tuple[str, ...]) -> Fetched[dict[str, PairState]]:
    """Return the live states of several pairs, queried concurrently."""
    return temporal(target, lambda c: temporal_reads.pair_states(c, pair_ids))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def server_version(target: Target) -> Fetched[str]:
    """Return the Temporal server's version."""
    return temporal(target, temporal_reads.server_version)


def temporal_ui_url(settings: Settings) -> str:
    """Return the base URL of the Temporal Web UI for the configured server."""
    if settings.temporal_ui_url:
        return settings.temporal_ui_url.rstrip("/")
    host = settings.temporal_address.rpartition(":")[0] or "127.0.0.1"
    return f"http://{host}:{settings.temporal_ui_port}"
