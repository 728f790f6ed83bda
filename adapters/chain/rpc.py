"""JSON-RPC over several endpoints: failover by health score, a token bucket per URL, timeouts,
retries with jitter, and the counters the dashboard shows. A worker process has one pool: the
chain tail, balance reads for SELL sizing and reconciliation, and claims all go through it (web3
through `provider.PoolProvider`).

Invariants:
- A call goes to the first endpoint (in configured order) that is healthy and not cooling down,
  else to the best-scored one; so traffic stays on the preferred node while it works.
- A transport failure, a timeout or an HTTP 429/5xx lowers the endpoint's score and cools it
  down (exponentially, capped); the call is retried on the next endpoint at once, or on the same
  one after a jittered exponential backoff, up to `attempts` times, then `RpcUnavailable`.
- A JSON-RPC error object is the node's answer, not an endpoint failure: it is raised as
  `RpcError` at once (or handed back whole by `request`) and the caller decides (shrink a log
  range, fall back to the Data API, let web3 raise its own error).
- The pool remembers the highest head any node reported (`head_seen`): the chain is at least
  there, so a read "at the latest block" is a read at that block (see `provider`).
- `call_at` accepts an answer only from a node that has reached a block: the call goes in one
  JSON-RPC batch after `eth_blockNumber` (one HTTP request, which a load balancer hands to one
  node, and which geth-based nodes such as Bor run in order), and a node whose head is behind
  the block fails the attempt like a timeout would, so its answer is never taken for the chain's.
- Every request is counted before it is sent (per method and per URL, each call of a batch
  too), so the counters never undercount what a provider bills; each URL sends on average at
  most `rate_per_s` calls/s.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from adapters.metrics import RPC_ERRORS, RPC_REQUESTS
from projectk.models import Frozen

COOLDOWN_BASE_S = 0.5
COOLDOWN_MAX_S = 30.0
HEALTHY_SCORE = 0.5
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
T = TypeVar("T")


class RpcError(Exception):
    """A JSON-RPC error object returned by a node."""

    def __init__(self, code: int, message: str, method: str) -> None:
        super().__init__(f"{method}: {code} {message}")
        self.code = code
        self.message = message


class RpcUnavailable(Exception):
    """No endpoint answered a call after every attempt."""


class EndpointStats(Frozen):
    """Health and counters of one RPC endpoint."""

    url: str  # scheme, host and port only
    score: float
    healthy: bool
    requests: int
    errors: int
    latency_ms: float
    last_error: str = ""


class TokenBucket:
    """Allow `rate` acquisitions per second on average, `burst` at once."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self._rate, self._burst, self._clock = rate, burst, clock
        self._tokens, self._at = burst, clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now

    async def acquire(self) -> None:
        """Wait until a token is available and take it."""
        async with self._lock:
            self._refill()
            while self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1


@dataclass
class Endpoint:
    """One RPC URL and its health."""

    url: str
    bucket: TokenBucket
    score: float = 1.0  # EMA of successes (1) and failures (0)
    streak: int = 0  # consecutive failures
    cooldown_until: float = 0.0
    requests: int = 0
    errors: int = 0
    latency_ms: float = 0.0  # EMA
    last_error: str = ""
    by_method: Counter[str] = field(default_factory=Counter)

    def succeeded(self, latency_ms: float) -> None:
        """Record a good answer."""
        self.score = 0.8 * self.score + 0.2
        self.streak = 0
        self.latency_ms = (
            latency_ms if not self.latency_ms else 0.8 * self.latency_ms + 0.2 * latency_ms
        )

    def failed(self, error: str, now: float) -> None:
        """Record a failure and cool the endpoint down."""
        self.score *= 0.5
        self.streak += 1
        self.errors += 1
        self.last_error = error[:200]
        doublings = min(self.streak - 1, 30)  # an endpoint down for days must not overflow
        self.cooldown_until = now + min(COOLDOWN_MAX_S, COOLDOWN_BASE_S * 2**doublings)

    def stats(self, now: float) -> EndpointStats:
        """Return what the dashboard shows about this endpoint."""
        return EndpointStats(
            url=_redact_url(self.url),
            score=round(self.score, 3),
            healthy=self.score >= HEALTHY_SCORE and now >= self.cooldown_until,
            requests=self.requests,
            errors=self.errors,
            latency_ms=round(self.latency_ms, 1),
            last_error=self.last_error,
        )


class RpcPool:
    """Send JSON-RPC calls to the healthiest of several endpoints."""

    def __init__(
        self,
        urls: Sequence[str],
        timeout_s: float = 10.0,
        rate_per_s: float = 50.0,
        attempts: int = 4,
        backoff_s: float = 0.2,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one RPC URL is needed")
        burst = max(1.0, rate_per_s)
        self.endpoints = [Endpoint(url, TokenBucket(rate_per_s, burst, clock)) for url in urls]
        self._attempts = max(attempts, len(urls))
        self._backoff_s = backoff_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._clock = clock
        self._ids = itertools.count(1)
        self._http = httpx.AsyncClient(timeout=timeout_s, trust_env=False, transport=transport)
        self.requests: Counter[str] = Counter()  # per method, all endpoints
        self.head_seen = 0  # the highest head any endpoint reported: the chain is at least here

    @property
    def total_requests(self) -> int:
        """Return how many requests were sent."""
        return sum(self.requests.values())

    async def close(self) -> None:
        """Close the HTTP connections (again: nothing happens)."""
        if not self._http.is_closed:
            await self._http.aclose()

    def pick(self) -> Endpoint:
        """Return the endpoint the next request goes to."""
        now = self._clock()
        for endpoint in self.endpoints:
            if endpoint.score >= HEALTHY_SCORE and now >= endpoint.cooldown_until:
                return endpoint
        ready = [e for e in self.endpoints if now >= e.cooldown_until] or self.endpoints
        return max(ready, key=lambda e: (e.score, -e.cooldown_until))

    async def call(self, method: str, params: list[Any]) -> Any:
        """Return the result of one call, failing over between endpoints."""
        return _result(method, await self.request(method, params))

    async def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """Return one call's whole JSON-RPC answer (a result or the node's error object),
        failing over between endpoints."""

        async def attempt(endpoint: Endpoint) -> dict[str, Any]:
            [answer] = await self._send(endpoint, [(method, params)])
            if method == "eth_blockNumber":
                self._saw_head(answer)
            return answer

        return await self._with_failover(method, attempt)

    async def call_at(self, block: int, method: str, params: list[Any]) -> Any:
        """Return the result of one call answered by a node whose head is at or past `block`."""
        return _result(method, await self.request_at(block, method, params))

    async def request_at(self, block: int, method: str, params: list[Any]) -> dict[str, Any]:
        """Return one call's whole answer from a node whose head is at or past `block`."""

        async def attempt(endpoint: Endpoint) -> dict[str, Any]:
            head, answer = await self._send(endpoint, [("eth_blockNumber", []), (method, params)])
            number = self._saw_head(head)
            if number < block:
                raise _Behind(f"node is behind: head {number} < block {block}")
            return answer

        return await self._with_failover(method, attempt)

    def _saw_head(self, answer: dict[str, Any]) -> int:
        number = _block_number(answer)
        self.head_seen = max(self.head_seen, number)
        return number

    async def _with_failover(self, method: str, attempt: Callable[[Endpoint], Awaitable[T]]) -> T:
        last = ""
        previous: Endpoint | None = None
        for number in range(self._attempts):
            endpoint = self.pick()
            if endpoint is previous:
                await asyncio.sleep(self._delay(number))
            previous = endpoint
            try:
                return await attempt(endpoint)
            except (httpx.HTTPError, _RetryableStatus, _Behind, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                endpoint.failed(last, self._clock())
                RPC_ERRORS.inc(method=method)
        raise RpcUnavailable(f"{method} failed on every RPC endpoint: {last}")

    def _delay(self, attempt: int) -> float:
        # Exponential backoff with full jitter in [0.5, 1.5) of the step, capped.
        step = min(5.0, self._backoff_s * 2.0**attempt)
        return step * (0.5 + self._rng.random())

    async def _send(
        self, endpoint: Endpoint, calls: Sequence[tuple[str, list[Any]]]
    ) -> list[dict[str, Any]]:
        # One HTTP request: a single call, or a JSON-RPC batch whose answers come back in the
        # order of `calls` (a node may answer a batch in any order; ids match them up).
        for method, _ in calls:
            await endpoint.bucket.acquire()
            endpoint.requests += 1
            endpoint.by_method[method] += 1
            self.requests[method] += 1
            RPC_REQUESTS.inc(method=method)
        body = [
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
            for method, params in calls
        ]
        started = time.perf_counter()
        response = await self._http.post(endpoint.url, json=body[0] if len(body) == 1 else body)
        if response.status_code in _RETRY_STATUS or response.status_code >= 500:
            raise _RetryableStatus(f"HTTP {response.status_code}")
        response.raise_for_status()
        payload = response.json()
        answers = _match(body, [payload] if len(body) == 1 else payload)
        endpoint.succeeded((time.perf_counter() - started) * 1000)
        return answers

    def stats(self) -> list[EndpointStats]:
        """Return each endpoint's health and counters."""
        now = self._clock()
        return [endpoint.stats(now) for endpoint in self.endpoints]


class _RetryableStatus(Exception):
    """An HTTP status that means "try again, maybe elsewhere"."""


class _Behind(Exception):
    """The node that answered has not reached the block the answer must cover."""


def _match(body: list[dict[str, Any]], payload: Any) -> list[dict[str, Any]]:
    # A batch answer that is not a list of objects (e.g. one error: batches refused) or misses
    # an id is an endpoint failure (ValueError), like a body that is not JSON.
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise ValueError(f"not a JSON-RPC answer: {str(payload)[:120]}")
    if len(body) == 1:
        return [payload[0]]
    by_id = {item.get("id"): item for item in payload}
    missing = [call["method"] for call in body if call["id"] not in by_id]
    if missing:
        raise ValueError(f"batch answer without {', '.join(missing)}")
    return [by_id[call["id"]] for call in body]


def _result(method: str, answer: dict[str, Any]) -> Any:
    if "error" in answer:
        error = answer["error"] or {}
        raise RpcError(int(error.get("code", 0)), str(error.get("message", "")), method)
    return answer.get("result")


def _block_number(answer: dict[str, Any]) -> int:
    # The head asked for alongside a call: anything but a hex number fails the attempt.
    result = answer.get("result")
    if not isinstance(result, str):
        raise ValueError(f"eth_blockNumber: no head in {str(answer)[:120]}")
    return int(result, 16)


def _redact_url(url: str) -> str:
    # Provider URLs often carry an API key in the path or query; show only scheme and host.
    parsed = httpx.URL(url)
    tail = "/…" if parsed.path not in ("", "/") or parsed.query else ""
    return f"{parsed.scheme}://{parsed.host}{':' + str(parsed.port) if parsed.port else ''}{tail}"
