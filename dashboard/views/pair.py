"""Pair page: one pair's live state (its workflow's `state` query), the mirrors it has in flight
with the budget they hold back, positions marked to market, PnL and budget over time, and its
orders and executions.

The live numbers and the mirrors in flight are the workflow's; the charts and tables are the
ledger's.
"""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from adapters.ledger import OrderRecord, OrderStatus
from dashboard import loaders, state, widgets
from dashboard.books import replay
from dashboard.format import moment, pusd
from dashboard.loaders import PairLedger
from dashboard.tables import execution_rows, in_flight_rows, order_rows
from projectk.books import mark_value, marked_pnl
from projectk.contract import pair_workflow_id
from projectk.models import PairState

ctx = widgets.context()
PAIR_KEY = "pair"
NO_WORKER = "no worker is polling the task queue, so the pair's live state cannot be read"


def choose_pair() -> str | None:
    """Return the pair chosen in the selector (preset from the ?pair= link)."""
    known = loaders.pair_ids(ctx.target).value or []
    listed = state.listing(ctx.target).value or []
    choices = sorted({*known, *(p.pair_id for p in listed)})
    wanted = st.query_params.get("pair")
    if wanted and wanted not in choices:
        choices.insert(0, wanted)
    if not choices:
        st.info("**No pairs yet.** Register one from Telegram or with `projectk pair add`.")
        return None
    if wanted:  # the URL (?pair=…, e.g. from the overview's link) says which pair to show
        st.session_state[PAIR_KEY] = wanted
    chosen: str = st.selectbox("Pair", choices, key=PAIR_KEY, on_change=_follow_choice)
    st.query_params["pair"] = chosen
    return chosen


def _follow_choice() -> None:
    # Runs before the rerun a new choice causes, so the URL names the pair shown.
    st.query_params["pair"] = st.session_state[PAIR_KEY]


def live(live_state: PairState) -> None:
    """Show the workflow's own numbers."""
    s = live_state
    cols = st.columns(6)
    cols[0].metric(
        "Status", s.status.value, s.status_reason or None, delta_color="off", delta_arrow="off"
    )
    cols[1].metric("Budget (pUSD)", pusd(s.config.budget_micro))
    cols[2].metric("Spent (pUSD)", pusd(s.spent_micro))
    cols[3].metric("Reserved (pUSD)", pusd(s.reserved_micro))
    cols[4].metric("Remaining (pUSD)", pusd(s.remaining_micro))
    cols[5].metric("Realized PnL (pUSD)", pusd(s.realized_pnl_micro))
    cols = st.columns(6)
    cols[0].metric("Failure streak", f"{s.consecutive_failures}")
    cols[1].metric("Fills seen", f"{s.fills_seen}")
    cols[2].metric("Mirrors started", f"{s.mirrors_started}")
    cols[3].metric("In flight", f"{len(s.in_flight)}")
    cols[4].metric("Fills today", f"{s.day_fills}")
    cols[5].metric("Runs", f"{s.runs}")
    st.caption(
        f"Last source fill {moment(s.last_fill_at)} · cursor block {s.cursor.block} "
        f"log {s.cursor.log_index} · day PnL {pusd(s.day_realized_pnl_micro)} pUSD"
    )


def in_flight(live_state: PairState) -> None:
    """Show each mirror the workflow has started and not heard back from, and its reservation."""
    st.subheader("In flight")
    if not live_state.in_flight:
        st.caption("No mirror in flight: no budget is held back.")
        return
    st.caption(
        f"{len(live_state.in_flight)} mirror(s) in flight hold back "
        f"{pusd(live_state.reserved_micro)} pUSD of the budget until they report."
    )
    st.dataframe(in_flight_rows(live_state.in_flight), hide_index=True)


def positions(live_state: PairState, data: PairLedger) -> None:
    """Show the positions the workflow holds, valued at the ledger's newest price."""
    st.subheader("Positions")
    if not live_state.positions:
        st.caption("No open position.")
        return
    rows = []
    for token, held in sorted(live_state.positions.items()):
        mark = data.marks.get(token)
        price = mark.price if mark else None
        rows.append(
            {
                "Token": token,
                "Shares": pusd(held.shares_micro),
                "Cost (pUSD)": pusd(held.cost_micro),
                "Mark": str(price) if price is not None else "—",
                "Value (pUSD)": pusd(mark_value(held.shares_micro, price) if price else None),
                "Marked PnL (pUSD)": pusd(marked_pnl(held, price)),
            }
        )
    st.dataframe(rows, hide_index=True)


def charts(orders: list[OrderRecord]) -> None:
    """Chart budget used and realized PnL over time, replayed from the ledger's orders."""
    points = replay(orders)
    # Chart axes need plain numbers: floats here only draw lines, no amount is computed from them.
    if not points:
        st.caption("No filled order yet: nothing to chart.")
        return
    left, right = st.columns(2)
    left.caption("Budget used (pUSD)")
    left.line_chart(
        {"time": [p.at for p in points], "used": [p.spent_micro / 1e6 for p in points]},
        x="time",
        y="used",
    )
    right.caption("Realized PnL (pUSD)")
    right.line_chart(
        {"time": [p.at for p in points], "pnl": [p.realized_micro / 1e6 for p in points]},
        x="time",
        y="pnl",
    )


def tables(data: PairLedger) -> None:
    """Show the pair's orders (filterable by state) and executions."""
    st.subheader("Orders")
    present = sorted({o.status for o in data.orders})
    chosen = st.multiselect("States", present, default=present, format_func=OrderStatus, key="ps")
    shown = [o for o in data.orders if o.status in chosen]
    st.caption(f"{len(shown)} of {len(data.orders)} newest orders")
    st.dataframe(order_rows(shown), hide_index=True)
    st.subheader("Executions")
    if data.executions:
        st.dataframe(execution_rows(data.executions), hide_index=True)
    else:
        st.caption("No execution recorded.")


@widgets.refreshing(ctx)
def body(pair_id: str) -> None:
    """Render one pair."""
    ui = state.temporal_ui_url(ctx.settings)
    workflow = quote(pair_workflow_id(pair_id), safe="")
    st.markdown(
        f"[Open `{pair_workflow_id(pair_id)}` in the Temporal UI]"
        f"({ui}/namespaces/{ctx.target.namespace}/workflows/{workflow})"
    )
    no_worker = state.workers(ctx.target).value == []
    # A state query waits for a worker to answer: without one, say so instead of waiting.
    fetched = (
        state.Fetched[PairState | None](error=NO_WORKER)
        if no_worker
        else state.pair_state(ctx.target, pair_id)
    )
    status = state.ledger_status(ctx.target)
    found = loaders.pair(ctx.target, pair_id, ctx.now.date()) if status.readable else None
    data = found.value if found else None
    if fetched.value is not None:
        live(fetched.value)
        st.code(f"source   {fetched.value.config.source}\nfollower {fetched.value.config.follower}")
        in_flight(fetched.value)
    elif fetched.error is None:
        st.warning(f"Pair {pair_id} has no workflow in Temporal; the ledger's record is shown.")
    elif state.listing(ctx.target).error:
        widgets.temporal_down(fetched.error)
    else:
        st.warning(fetched.error)
    if data is None:
        widgets.ledger_missing(ctx.target, status.problem or (found.error if found else None) or "")
        return
    if fetched.value is not None:
        positions(fetched.value, data)
    st.subheader("Budget and PnL over time")
    charts(data.orders)
    tables(data)


st.title("Pair")
selected = choose_pair()
if selected is not None:
    body(selected)
