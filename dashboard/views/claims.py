"""Claims page: redemptions pending and done, with payouts and transaction hashes."""

from __future__ import annotations

import streamlit as st

from dashboard import loaders, state, widgets
from dashboard.format import pusd
from dashboard.tables import claim_rows

ctx = widgets.context()


@widgets.refreshing(ctx)
def body() -> None:
    """Render the claims."""
    status = state.ledger_status(ctx.target)
    if not status.readable:
        widgets.ledger_missing(ctx.target, status.problem)
        return
    fetched = loaders.claims(ctx.target)
    if fetched.error:
        st.error(fetched.error)
        return
    claims = fetched.value or []
    if not claims:
        st.info(
            "**No claims yet.** When a market a follower holds resolves, its redemption "
            "appears here: waiting, sent, then redeemed (or lost)."
        )
        return
    served = loaders.followers(ctx.target).value or {}
    pending = [c for c in claims if not c.status.is_terminal]
    done = [c for c in claims if c.status.is_terminal]
    paid = sum(c.payout_micro or 0 for c in done)
    cols = st.columns(3)
    cols[0].metric("Pending", f"{len(pending)}")
    cols[1].metric("Done", f"{len(done)}")
    cols[2].metric("Paid out (pUSD)", pusd(paid))
    st.subheader("Pending")
    if pending:
        st.dataframe(claim_rows(pending, served), hide_index=True)
    else:
        st.caption("Nothing waiting to be redeemed.")
    st.subheader("Done")
    if done:
        st.dataframe(claim_rows(done, served), hide_index=True)
    else:
        st.caption("No claim finished yet.")


st.title("Claims")
body()
