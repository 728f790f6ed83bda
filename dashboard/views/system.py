"""System page: Temporal, the workers polling the task queue, the ledger the dashboard reads
(and whether it is the one the workers write), the chain endpoints, and versions."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import streamlit as st

from adapters.chain import DetectionStats, RpcProbe, endpoint_of, probe_rpc, read_stats, stats_path
from adapters.temporal import Poller
from dashboard import loaders, state, widgets
from dashboard.checks import (
    FRESHNESS,
    freshness_check,
    ledger_identity_check,
    tail_check,
    workers_check,
)
from dashboard.format import MISSING, age
from projectk.health import Check, Health

ctx = widgets.context()
RPC_TIMEOUT_S = 2.0
FRESHNESS_SAMPLE = 20  # running pairs whose state is compared with the ledger
MARKS = {
    Health.OK: ":material/check_circle:",
    Health.NOT_CHECKED: ":material/info:",
    Health.WARNING: ":material/warning:",
    Health.FAILED: ":material/error:",
}


@st.cache_data(ttl=state.CACHE_TTL_S, show_spinner=False)
def rpc_health(urls: tuple[str, ...]) -> list[RpcProbe]:
    """Probe every configured RPC endpoint (read-only calls)."""
    return [probe_rpc(url, timeout_s=RPC_TIMEOUT_S) for url in urls]


def show(check: Check) -> None:
    """Show one check as a line with its mark."""
    text = f"{MARKS[check.health]} **{check.name}** — {check.detail}"
    if check.fix:
        text += f" (fix: {check.fix})"
    {Health.WARNING: st.warning, Health.FAILED: st.error}.get(check.health, st.markdown)(text)


def temporal_section() -> list[Poller] | None:
    """Show whether Temporal answers and who polls the task queue; return the pollers."""
    st.subheader("Temporal")
    served = state.server_version(ctx.target)
    where = f"`{ctx.target.address}`, namespace `{ctx.target.namespace}`"
    if served.error:
        widgets.temporal_down(served.error)
        return None
    show(Check("reachable", Health.OK, f"{where}, server {served.value}"))
    workers = state.workers(ctx.target).value
    show(workers_check(workers, ctx.now))
    if workers:
        rows = [
            {
                "Tasks": w.kind,
                "Worker identity": w.identity,
                "Last poll": age(w.last_access, ctx.now),
                "Ledger it writes": w.ledger_id or MISSING,
            }
            for w in workers
        ]
        st.dataframe(rows, hide_index=True)
    st.caption(f"Task queue `{ctx.target.task_queue}`")
    return workers


def ledger_section(workers: list[Poller] | None) -> int | None:
    """Show the ledger's URL, schema, identity and freshness; return its newest fill block."""
    st.subheader("Ledger")
    status = state.ledger_status(ctx.target)
    st.markdown(f"URL `{ctx.target.ledger_label}`")
    if not status.readable:
        widgets.ledger_missing(ctx.target, status.problem)
        return None
    schema = Health.OK if status.revision == status.head else Health.WARNING
    show(Check("schema", schema, f"revision {status.revision} (this dashboard: {status.head})"))
    show(ledger_identity_check(status.ledger_id, workers))
    inputs = loaders.freshness_inputs(ctx.target, ctx.now.date()).value
    listing = state.listing(ctx.target).value
    if inputs is None or listing is None:
        return inputs[2] if inputs else None
    if not workers:  # a state query waits for a worker: without one, skip rather than hang
        show(Check(FRESHNESS, Health.NOT_CHECKED, "cannot tell: no worker answers state queries"))
        return inputs[2]
    sample = tuple(pair.pair_id for pair in listing[:FRESHNESS_SAMPLE])
    states = state.pair_states(ctx.target, sample).value or {}
    show(freshness_check(states, inputs[0], inputs[1]))
    return inputs[2]


@st.cache_data(ttl=state.CACHE_TTL_S, show_spinner=False)
def tail_stats(path: str) -> DetectionStats | None:
    """Return the chain tail's last snapshot written by a worker on this machine."""
    return read_stats(Path(path))


def chain_section(newest_block: int | None) -> None:
    """Show the chain tail's lag and RPC health, and the endpoints as the dashboard sees them."""
    st.subheader("Chain")
    stats = tail_stats(stats_path(ctx.settings))
    show(tail_check(stats, ctx.now))
    if stats is not None and stats.endpoints:
        st.caption("RPC endpoints as the worker's chain tail sees them")
        st.dataframe(
            [
                {
                    "Endpoint": endpoint_of(e.url),
                    "Healthy": "yes" if e.healthy else "no",
                    "Score": f"{e.score:.2f}",
                    "Requests": e.requests,
                    "Errors": e.errors,
                    "Latency (ms)": f"{e.latency_ms:.0f}",
                    "Last error": e.last_error or MISSING,
                }
                for e in stats.endpoints
            ],
            hide_index=True,
        )
    probes = rpc_health(tuple(ctx.settings.rpc_urls))
    st.caption("RPC endpoints as the dashboard reaches them")
    st.dataframe([_probe_row(p) for p in probes], hide_index=True)
    heads = [p.head_block for p in probes if p.head_block is not None]
    if heads and newest_block is not None:
        st.caption(
            f"Newest recorded source fill: block {newest_block}, "
            f"{max(heads) - newest_block} block(s) before the head."
        )
    if not heads:
        st.warning("No RPC endpoint answers the dashboard.")


def _probe_row(probe: RpcProbe) -> dict[str, object]:
    return {
        "Endpoint": probe.endpoint,
        "Healthy": "yes" if not probe.error else "no",
        "Chain id": MISSING if probe.chain_id is None else str(probe.chain_id),
        "Head block": MISSING if probe.head_block is None else str(probe.head_block),
        "Latency (ms)": probe.latency_ms,
        "Problem": probe.error or MISSING,
    }


def versions_section() -> None:
    """Show the versions of the pieces this dashboard runs with."""
    st.subheader("Versions")
    served = state.server_version(ctx.target).value or MISSING
    rows = [{"Component": "Temporal server", "Version": served}]
    for package in ("projectk", "temporalio", "streamlit", "sqlalchemy", "py-clob-client-v2"):
        rows.append({"Component": package, "Version": _version(package)})
    rows.append({"Component": "Python", "Version": platform.python_version()})
    st.dataframe(rows, hide_index=True)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return MISSING


@widgets.refreshing(ctx)
def body() -> None:
    """Render the system checks."""
    workers = temporal_section()
    newest = ledger_section(workers)
    chain_section(newest)
    versions_section()


st.title("System")
body()
