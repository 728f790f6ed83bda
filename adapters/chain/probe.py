"""The one RPC probe: ask an endpoint for its chain id and head block, blocking, in one request.

Used where a quick synchronous answer is wanted: where a new pair starts reading fills, the
doctor, and the dashboard's system page. (The worker's chain reads, the tail's and every other,
go through `rpc.RpcPool`, with failover and rate limits.)

Invariants: read-only calls; a failure is an answer (`RpcProbe.error`), never an exception;
neither the URL's path nor its query (where providers put API keys) appears in a result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RpcProbe:
    """One RPC endpoint's answer (or failure)."""

    endpoint: str  # redacted: scheme://host[:port]
    chain_id: int | None
    head_block: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the endpoint answered both calls."""
        return not self.error and self.chain_id is not None and self.head_block is not None


class ChainUnavailable(RuntimeError):
    """No configured RPC URL answered."""


def endpoint_of(url: str) -> str:
    """Return scheme://host[:port] of a URL, dropping credentials, path and query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def probe_rpc(
    url: str, timeout_s: float = PROBE_TIMEOUT_S, client: httpx.Client | None = None
) -> RpcProbe:
    """Ask an RPC endpoint for its chain id and head block (read-only calls)."""
    calls = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
    ]
    started = time.monotonic()
    try:
        if client is None:
            response = httpx.post(url, json=calls, timeout=timeout_s, trust_env=False)
        else:
            response = client.post(url, json=calls, timeout=timeout_s)
        response.raise_for_status()
        answers = {item["id"]: int(item["result"], 16) for item in response.json()}
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return RpcProbe(endpoint_of(url), None, None, _ms(started), error=_gist(exc))
    return RpcProbe(endpoint_of(url), answers.get(1), answers.get(2), _ms(started))


def head_block(urls: list[str], timeout_s: float = PROBE_TIMEOUT_S) -> int:
    """Return the newest block number from the first RPC URL that answers."""
    errors = []
    for url in urls:
        probe = probe_rpc(url, timeout_s)
        if probe.ok and probe.head_block is not None:
            return probe.head_block
        errors.append(f"{probe.endpoint}: {probe.error or 'no head'}")
    raise ChainUnavailable("no RPC URL answered: " + "; ".join(errors))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _gist(exc: Exception) -> str:
    # Never echo the URL back: httpx puts it (with any key in it) into some messages.
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or unreachable"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return f"unexpected answer ({type(exc).__name__})"
