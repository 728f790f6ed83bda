"""Pieces every page shares: its context, auto-refresh, the password gate, and how problems and
empty states are shown.

Invariants:
- A problem reading Temporal or the ledger is shown as one clear message box naming the address
  and the fix, never as a traceback; pages keep showing what they could read.
- Nothing here offers a control that changes the system: the only inputs are filters, the
  refresh interval and the password.
- The password (when `PROJECTK_DASHBOARD_PASSWORD` is set) is compared in constant time and is
  never echoed; a session that typed it once stays signed in.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec

import streamlit as st

from dashboard import state
from dashboard.overview import Banner
from projectk.health import Health
from projectk.settings import Settings

REFRESH_CHOICES = (0, 5, 10, 30, 60)  # seconds; 0 = off
REFRESH_KEY = "refresh_s"
AUTH_KEY = "signed_in"
PAIR_PAGE = "views/pair.py"
P = ParamSpec("P")


@dataclass(frozen=True)
class PageContext:
    """What a page renders against."""

    settings: Settings
    target: state.Target
    refresh_s: int
    now: datetime


def context() -> PageContext:
    """Return the settings, target, refresh interval and the time of this run."""
    settings = state.settings()
    refresh = st.session_state.get(REFRESH_KEY, settings.dashboard_refresh_s)
    return PageContext(
        settings=settings,
        target=state.Target.of(settings),
        refresh_s=int(refresh),
        now=datetime.now(UTC),
    )


class Refreshing:
    """A decorator that reruns a page body every few seconds (`st.fragment(run_every=…)`)."""

    def __init__(self, every_s: int) -> None:
        self._every = every_s if every_s > 0 else None

    def __call__(self, body: Callable[P, None]) -> Callable[P, None]:
        wrapped: Callable[P, None] = st.fragment(body, run_every=self._every)
        return wrapped


def refreshing(ctx: PageContext) -> Refreshing:
    """Return a decorator that reruns a page body every `ctx.refresh_s` seconds (0: never)."""
    return Refreshing(ctx.refresh_s)


def refresh_picker(settings: Settings) -> None:
    """Offer the auto-refresh interval in the sidebar."""
    choices = sorted({*REFRESH_CHOICES, settings.dashboard_refresh_s})
    st.sidebar.selectbox(
        "Auto-refresh",
        choices,
        index=choices.index(settings.dashboard_refresh_s),
        format_func=lambda s: "off" if s == 0 else f"every {s} s",
        key=REFRESH_KEY,
    )


def require_password(settings: Settings) -> None:
    """Stop the page behind a sign-in form when a dashboard password is configured."""
    secret = settings.dashboard_password
    if secret is None or not secret.get_secret_value() or st.session_state.get(AUTH_KEY):
        return  # no (or an empty) password: `projectk dashboard` then only binds to localhost
    st.title("ProjectK")
    with st.form("sign-in"):
        typed = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if hmac.compare_digest(typed.encode(), secret.get_secret_value().encode()):
            st.session_state[AUTH_KEY] = True
            st.rerun()
        st.error("Wrong password.")
    st.stop()


def temporal_down(message: str) -> None:
    """Say that Temporal cannot be read, why, and what the page shows instead."""
    st.error(
        f"**Temporal is not reachable** — {message}\n\n"
        "Live state is unavailable; what is shown comes from the ledger only.",
        icon=":material/cloud_off:",
    )


def ledger_missing(target: state.Target, problem: str) -> None:
    """Say that there is no readable ledger yet, as an empty state rather than an error."""
    st.info(
        f"**No ledger data yet** at `{target.ledger_label}` — {problem}.",
        icon=":material/database:",
    )


def banner(item: Banner) -> None:
    """Show one banner in the box of its health."""
    show = {Health.FAILED: st.error, Health.WARNING: st.warning, Health.NOT_CHECKED: st.info}
    show.get(item.health, st.success)(item.text)


def pair_link(pair_id: str, label: str | None = None) -> None:
    """Link to the Pair page of one pair."""
    st.page_link(PAIR_PAGE, label=label or f"Open pair {pair_id}", query_params={"pair": pair_id})
