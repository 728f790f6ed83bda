"""Building the venue and the market directory from settings.

Invariants:
- Settings are already resolved (`adapters.endpoints.resolve_endpoints`): in sandbox mode the
  CLOB is the running sandbox's, in live mode Polymarket's.
- Paper mode uses a CLOB's public book only when that CLOB answers at start, else the source's
  own price (`ReferencePriceBook`), and says which; it has no key and no market directory (paper
  positions are not on chain, so nothing is ever claimed).
- Nothing is built at import; a mode that cannot run says why in `VenueConfigError`.
"""

from __future__ import annotations

import logging

import httpx

from adapters.polymarket.book import ClobBooks
from adapters.polymarket.markets import ClobMarketDirectory, MarketDirectory, NoMarkets
from adapters.polymarket.paper import PaperVenue, ReferencePriceBook
from adapters.polymarket.session import ClobEndpoint, ClobSessions
from adapters.polymarket.venue import ClobVenue, Venue
from adapters.vault import Vault
from projectk.settings import ExecutorMode, Settings

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 2.0
HTTP_TIMEOUT_S = 15.0


class VenueConfigError(RuntimeError):
    """The settings ask for a venue this process cannot build; the message says why."""


def clob_host(settings: Settings) -> str:
    """Return the CLOB that orders and market reads go to (live or the sandbox)."""
    if settings.executor_mode is ExecutorMode.LIVE:
        return settings.polymarket_host
    if settings.sandbox_clob_url:
        return settings.sandbox_clob_url
    raise VenueConfigError(
        f"PROJECTK_EXECUTOR_MODE={settings.executor_mode.value} needs PROJECTK_SANDBOX_CLOB_URL "
        f"or a running sandbox under {settings.data_dir / 'sandbox'} (projectk sandbox up)"
    )


def probe_clob(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Return why a CLOB does not answer its /ok route, or None when it does."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/ok", timeout=timeout_s, trust_env=False)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def reachable(url: str) -> bool:
    """Tell whether a CLOB answers its /ok route."""
    return probe_clob(url) is None


def paper_venue(settings: Settings) -> PaperVenue:
    """Return the paper venue, filling against a reachable CLOB's current book if there is one."""
    url = settings.paper_book_url or settings.sandbox_clob_url
    if url and reachable(url):
        log.info("paper mode: fills simulated against the current book of %s", url)
        endpoint = ClobEndpoint(host=url, chain_id=settings.polymarket_chain_id)
        return PaperVenue(ClobBooks(ClobSessions(endpoint, vault=None, passphrase=None)))
    log.warning("paper mode: no reachable CLOB; fills simulated at the source's own price")
    return PaperVenue(ReferencePriceBook())


def build_venue(settings: Settings) -> Venue:
    """Return the order venue for the configured executor mode."""
    if settings.executor_mode is ExecutorMode.PAPER:
        return paper_venue(settings)
    endpoint = ClobEndpoint(host=clob_host(settings), chain_id=settings.polymarket_chain_id)
    vault = Vault(settings.resolved_vault_path)
    return ClobVenue(ClobSessions(endpoint, vault, settings.passphrase()))


def build_market_directory(settings: Settings) -> MarketDirectory:
    """Return where a token's market is looked up (none in paper mode)."""
    if settings.executor_mode is ExecutorMode.PAPER:
        return NoMarkets()
    http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, trust_env=False)
    return ClobMarketDirectory(http, clob_host(settings))
