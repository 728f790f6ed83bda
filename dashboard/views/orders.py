"""Orders page: every mirror order across pairs, filtered by pair, state and time, with the
reason for every skip and failure."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import streamlit as st

from adapters.ledger import OrderRecord, OrderStatus
from dashboard import loaders, state, widgets
from dashboard.tables import order_rows

ctx = widgets.context()
ALL = "all pairs"
WHY = (OrderStatus.SKIPPED, OrderStatus.FAILED)


def filters() -> tuple[
    str | None, tuple[OrderStatus, ...] | None, datetime | None, datetime | None
]:
    """Return the chosen pair, states and [since, until) window."""
    pairs = loaders.pair_ids(ctx.target).value or []
    left, middle, right = st.columns([2, 3, 2])
    pair = left.selectbox("Pair", [ALL, *pairs], key="orders-pair")
    statuses = middle.multiselect(
        "States", list(OrderStatus), format_func=lambda s: s.value, key="orders-states"
    )
    today = ctx.now.date()
    window = right.date_input(
        "Created between (UTC)", (today - timedelta(days=7), today), key="orders-window"
    )
    since = until = None
    if isinstance(window, tuple) and len(window) == 2:
        since = datetime.combine(window[0], time(0), tzinfo=UTC)
        until = datetime.combine(window[1] + timedelta(days=1), time(0), tzinfo=UTC)
    return (None if pair == ALL else pair), (tuple(statuses) or None), since, until


def reasons(orders: list[OrderRecord]) -> None:
    """Show how often each skip or failure reason occurs among the shown orders."""
    counted = Counter((o.status.value, o.reason or "(no reason recorded)") for o in orders)
    rows = [
        {"State": status, "Reason": reason, "Orders": n}
        for (status, reason), n in counted.most_common()
        if status in {s.value for s in WHY}
    ]
    st.subheader("Why orders were skipped or failed")
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption("No skipped or failed order in this selection.")


@widgets.refreshing(ctx)
def body(
    pair: str | None,
    statuses: tuple[OrderStatus, ...] | None,
    since: datetime | None,
    until: datetime | None,
) -> None:
    """Render the filtered orders."""
    status = state.ledger_status(ctx.target)
    if not status.readable:
        widgets.ledger_missing(ctx.target, status.problem)
        return
    fetched = loaders.orders(ctx.target, pair, statuses, since, until)
    if fetched.error:
        st.error(fetched.error)
        return
    orders = fetched.value or []
    if not orders:
        st.info("No mirror order matches these filters yet.")
        return
    limit = f" (the newest {loaders.ORDERS_SHOWN})" if len(orders) == loaders.ORDERS_SHOWN else ""
    st.caption(f"{len(orders)} order(s){limit}")
    st.dataframe(order_rows(orders, with_pair=True), hide_index=True)
    reasons(orders)


st.title("Orders")
body(*filters())
