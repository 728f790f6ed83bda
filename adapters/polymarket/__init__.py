"""The Polymarket venue: quotes, signed orders, posts, follows and cancels on the CLOB (live or the
sandbox) or on paper; the market directory; the CLOB's and the Data API's wire answers, typed
(`schemas`); and the factory that builds all of it from settings.

Invariants:
- A follower's key leaves the vault only inside `session`, into the client's signer.
- Every CLOB and Data API answer is parsed once, here, into typed schemas and then into the
  kernel's types; nothing above this package reads a wire dict. Detection's Data API fallback
  reads its rows through `read_data_api_trades`.
"""

from adapters.polymarket.book import ClobBooks
from adapters.polymarket.factory import (
    VenueConfigError,
    build_market_directory,
    build_venue,
    clob_host,
    probe_clob,
    reachable,
)
from adapters.polymarket.markets import ClobMarketDirectory, MarketDirectory, NoMarkets
from adapters.polymarket.paper import PaperVenue, ReferencePriceBook
from adapters.polymarket.schemas import DataApiTrade, WireError, read_data_api_trades
from adapters.polymarket.session import ClobEndpoint, ClobSessions
from adapters.polymarket.venue import ClobVenue, Venue

__all__ = [
    "ClobBooks",
    "ClobEndpoint",
    "ClobMarketDirectory",
    "ClobSessions",
    "ClobVenue",
    "DataApiTrade",
    "MarketDirectory",
    "NoMarkets",
    "PaperVenue",
    "ReferencePriceBook",
    "Venue",
    "VenueConfigError",
    "WireError",
    "build_market_directory",
    "build_venue",
    "clob_host",
    "probe_clob",
    "reachable",
    "read_data_api_trades",
]
