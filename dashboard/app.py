"""The dashboard's entry script (`streamlit run dashboard/app.py`, or `projectk dashboard`).

Invariants:
- Read-only: the pages show Temporal's and the ledger's state; no control signals, updates,
  starts, stops or writes anything. Registration and steering happen in Telegram or the CLI.
- The password gate runs before any page reads anything.
- Secrets (vault passphrase, keys, tokens, the dashboard password, database passwords) are never
  shown: settings are never rendered whole, URLs are redacted.
"""

from __future__ import annotations

import streamlit as st

from dashboard import state, widgets

st.set_page_config(page_title="ProjectK", page_icon=":material/monitoring:", layout="wide")
settings = state.settings()
widgets.require_password(settings)
pages = st.navigation(
    [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("views/pair.py", title="Pair", icon=":material/swap_horiz:", url_path="pair"),
        st.Page(
            "views/orders.py", title="Orders", icon=":material/receipt_long:", url_path="orders"
        ),
        st.Page("views/claims.py", title="Claims", icon=":material/payments:", url_path="claims"),
        st.Page(
            "views/system.py", title="System", icon=":material/monitor_heart:", url_path="system"
        ),
    ]
)
widgets.refresh_picker(settings)
st.sidebar.caption("Read-only view. Steer pairs from Telegram or `projectk` on the server.")
pages.run()
