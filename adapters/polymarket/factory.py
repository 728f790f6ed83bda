"""Choosing where paper and sandbox orders look: the sandbox's CLOB URL and paper's book source.

Invariants: reads settings and, for the sandbox, the ready file the sandbox CLI writes
(`<data_dir>/sandbox/ready.json`); paper mode uses a CLOB's public book only when that CLOB
answers at worker start, else the source's own price (`ReferencePriceBook`), and says which.
"""

from __future__ import annotations

import json
import logging

import httpx

from adapters.polymarket.book import ClobBooks
from adapters.polymarket.paper import PaperVenue, ReferencePriceBook
from adapters.polymarket.session import ClobEndpoint, ClobSessions
from projectk.settings import Settings

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 2.0


def sandbox_clob_url(settings: Settings) -> str | None:
    """Return the sandbox CLOB URL from settings or the running sandbox's ready file."""
    if settings.sandbox_clob_url:
        return settings.sandbox_clob_url
    ready = settings.data_dir / "sandbox" / "ready.json"
    try:
        url = json.loads(ready.read_text()).get("clob_url")
    except (OSError, ValueError, AttributeError):
        return None
    return str(url) if url else None


def reachable(url: str) -> bool:
    """Tell whether a CLOB answers its /ok route."""
    try:
        return httpx.get(f"{url.rstrip('/')}/ok", timeout=PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False


def paper_venue(settings: Settings) -> PaperVenue:
    """Return the paper venue, filling against a reachable CLOB's current book if there is one."""
    url = settings.paper_book_url or sandbox_clob_url(settings)
    if url and reachable(url):
        log.info("paper mode: fills simulated against the current book of %s", url)
        endpoint = ClobEndpoint(host=url, chain_id=settings.polymarket_chain_id)
        return PaperVenue(ClobBooks(ClobSessions(endpoint, vault=None, passphrase=None)))
    log.warning("paper mode: no reachable CLOB; fills simulated at the source's own price")
    return PaperVenue(ReferencePriceBook())
