"""Overview page: every pair at a glance, and what needs a person.

Statuses and wallets come from one visibility query (search attributes); money, fills and
failure streaks from grouped ledger reads. No per-pair Temporal call is made here.
"""

from __future__ import annotations

import streamlit as st

from dashboard import loaders, state, widgets
from dashboard.format import age, pusd, short_address
from dashboard.loaders import EMPTY_OVERVIEW
from dashboard.overview import OverviewRow, banners, build_rows
from projectk.models import PairStatus

ctx = widgets.context()


def table(rows: list[OverviewRow]) -> dict[str, list[object]]:
    """Return the overview table's columns."""
    return {
        "Pair": [r.pair_id for r in rows],
        "Link": [f"pair?pair={r.pair_id}" for r in rows],
        "Status": [r.status for r in rows],
        "Source": [short_address(r.source) for r in rows],
        "Follower": [short_address(r.follower) for r in rows],
        "Budget": [pusd(r.budget_micro) for r in rows],
        "Used": [pusd(r.used_micro) for r in rows],
        "Remaining": [pusd(r.remaining_micro) for r in rows],
        "Volume": [pusd(r.volume_micro) for r in rows],
        "Fills today": [r.fills_today for r in rows],
        "Last source fill": [age(r.last_source_fill, ctx.now) for r in rows],
        "Failure streak": [r.failure_streak for r in rows],
        "Realized PnL": [pusd(r.realized_micro) for r in rows],
        "Marked PnL": [pusd(r.marked_micro) for r in rows],
    }


def totals(rows: list[OverviewRow]) -> None:
    """Show the headline numbers."""
    active = sum(r.status == PairStatus.ACTIVE.value for r in rows)
    cols = st.columns(5)
    cols[0].metric(
        "Pairs", f"{len(rows)}", f"{active} active", delta_color="off", delta_arrow="off"
    )
    cols[1].metric("Volume (pUSD)", pusd(sum(r.volume_micro for r in rows)))
    cols[2].metric("Fills today", f"{sum(r.fills_today for r in rows)}")
    cols[3].metric("Realized PnL (pUSD)", pusd(sum(r.realized_micro for r in rows)))
    cols[4].metric("Marked PnL (pUSD)", pusd(sum(r.marked_micro for r in rows)))


def details(rows: list[OverviewRow], selected: list[int]) -> None:
    """Show the full wallets (with copy buttons) of the selected pair."""
    if not selected:
        st.caption("Select a row to copy its full wallet addresses and open the pair.")
        return
    row = rows[selected[0]]
    left, right = st.columns(2)
    left.caption("Source wallet")
    left.code(row.source, language=None)
    right.caption("Follower wallet")
    right.code(row.follower, language=None)
    widgets.pair_link(row.pair_id)


@widgets.refreshing(ctx)
def page() -> None:
    """Render the overview."""
    st.title("Overview")
    status = state.ledger_status(ctx.target)
    data = loaders.overview(ctx.target, ctx.now.date(), status.readable)
    if data.listing.error:
        widgets.temporal_down(data.listing.error)
    if data.ledger.error:
        st.error(data.ledger.error)
    ledger = data.ledger.value or EMPTY_OVERVIEW
    rows = build_rows(
        data.listing.value,
        ledger.registry,
        ledger.totals,
        ledger.tokens,
        ledger.marks,
        ledger.last_fills,
    )
    for item in banners(rows, ledger.alerts, data.workers.value, ctx.now):
        widgets.banner(item)
    if not rows:
        if not status.readable:
            widgets.ledger_missing(ctx.target, status.problem)
        st.info(
            "**No pairs yet.** Register one from Telegram, or on the server with "
            "`projectk pair add NAME --source 0x… --follower 0x… --key-ref vault://NAME "
            "--budget 100`. Pairs appear here as soon as their workflow runs.",
            icon=":material/add_circle:",
        )
        return
    totals(rows)
    event = st.dataframe(
        table(rows),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="overview-table",
        column_config={"Link": st.column_config.LinkColumn("Open", display_text="open")},
    )
    details(rows, list(event.selection.rows) if event is not None else [])


page()
