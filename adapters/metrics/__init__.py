"""ProjectK's own metrics, in the Prometheus text format, and the tiny HTTP endpoint serving them.

Other modules import the named metrics below and increment them (`ORDERS_POSTED.inc()`,
`RPC_ERRORS.inc(method="eth_getLogs")`, `DETECTION_LAG.observe(2.5)`); the worker serves them on
PROJECTK_METRICS_BIND at `/metrics`. The Temporal SDK's own metrics are served by its runtime on
PROJECTK_TEMPORAL_METRICS_BIND (see `temporal_runtime`).

Invariants:
- Incrementing never does I/O and never raises for a valid label set; it is safe from any thread.
- A metric's label names are fixed when it is defined; a call with other labels raises ValueError
  (a typo would otherwise create a silent new series).
- Label values are escaped as the exposition format requires; metric values are never secrets.
- Nothing is registered or served at import time besides the metric definitions themselves.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

SDK_CORE_LOGGER = "temporalio.core"  # the Temporal SDK core's lines, forwarded
log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
LabelKey = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _series(name: str, names: Sequence[str], values: LabelKey, extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return f"{name}{{{','.join(pairs)}}}" if pairs else name


@dataclass
class _Metric:
    name: str
    help: str
    labels: tuple[str, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _key(self, labels: dict[str, str]) -> LabelKey:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.labels)

    def _header(self, kind: str) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {kind}"]


@dataclass
class Counter(_Metric):
    """A value that only goes up (events counted since the process started)."""

    _values: dict[LabelKey, float] = field(default_factory=dict, repr=False)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add `amount` (>= 0) to the series of `labels`."""
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """Return the current value of one series (0 if never incremented)."""
        return self._values.get(self._key(labels), 0.0)

    def render(self) -> list[str]:
        """Return the exposition lines of this counter."""
        with self._lock:
            items = sorted(self._values.items())
        lines = self._header("counter")
        lines += [f"{_series(self.name, self.labels, k)} {_number(v)}" for k, v in items]
        return lines


@dataclass
class Histogram(_Metric):
    """Observed values (seconds, sizes) counted into cumulative buckets."""

    buckets: tuple[float, ...] = LAG_BUCKETS
    _counts: dict[LabelKey, list[int]] = field(default_factory=dict, repr=False)
    _sums: dict[LabelKey, float] = field(default_factory=dict, repr=False)

    def observe(self, value: float, **labels: str) -> None:
        """Record one observation in the series of `labels`."""
        key = self._key(labels)
        with self._lock:
            counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
            for index, bound in enumerate((*self.buckets, math.inf)):
                if value <= bound:
                    counts[index] += 1
            self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        """Return how many values the series of `labels` has observed."""
        counts = self._counts.get(self._key(labels))
        return counts[-1] if counts else 0

    def render(self) -> list[str]:
        """Return the exposition lines of this histogram."""
        with self._lock:
            items = sorted((k, list(v), self._sums[k]) for k, v in self._counts.items())
        lines = self._header("histogram")
        for key, counts, total in items:
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                le = f'le="{_number(bound)}"'
                lines.append(f"{_series(self.name + '_bucket', self.labels, key, le)} {count}")
            lines.append(f"{_series(self.name + '_sum', self.labels, key)} {_number(total)}")
            lines.append(f"{_series(self.name + '_count', self.labels, key)} {counts[-1]}")
        return lines


M = TypeVar("M", Counter, Histogram)


class Registry:
    """A set of metrics rendered together."""

    def __init__(self) -> None:
        self._metrics: dict[str, Counter | Histogram] = {}

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        """Define and return a counter."""
        return self._add(Counter(name, help, tuple(labels)))

    def histogram(
        self, name: str, help: str, labels: Sequence[str] = (), buckets: Sequence[float] = ()
    ) -> Histogram:
        """Define and return a histogram (default buckets: detection lag in seconds)."""
        return self._add(
            Histogram(name, help, tuple(labels), buckets=tuple(buckets) or LAG_BUCKETS)
        )

    def _add(self, metric: M) -> M:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is defined twice")
        self._metrics[metric.name] = metric
        return metric

    def render(self) -> str:
        """Return every metric in the Prometheus text exposition format."""
        lines: list[str] = []
        for metric in self._metrics.values():
            lines += metric.render()
        return "\n".join(lines) + "\n"


REGISTRY = Registry()

FILLS_DETECTED = REGISTRY.counter(
    "projectk_fills_detected_total", "Source fills detected, by exchange.", ["exchange"]
)
DETECTION_LAG = REGISTRY.histogram(
    "projectk_detection_lag_seconds", "Seconds from a fill's block time to its detection."
)
ORDERS_POSTED = REGISTRY.counter("projectk_orders_posted_total", "Mirror orders posted.")
ORDERS_FILLED = REGISTRY.counter(
    "projectk_orders_filled_total", "Mirror orders ending filled, fully or partly."
)
ORDERS_FAILED = REGISTRY.counter(
    "projectk_orders_failed_total", "Mirror orders that failed, by reason.", ["reason"]
)
RPC_REQUESTS = REGISTRY.counter(
    "projectk_rpc_requests_total", "Polygon JSON-RPC requests, by method.", ["method"]
)
RPC_ERRORS = REGISTRY.counter(
    "projectk_rpc_errors_total", "Polygon JSON-RPC requests that failed, by method.", ["method"]
)
CLAIMS = REGISTRY.counter("projectk_claims_total", "Claims (redemptions), by outcome.", ["outcome"])


def split_bind(bind: str) -> tuple[str, int]:
    """Return (host, port) of `HOST:PORT`, raising ValueError with the expected form."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {bind!r}")
    return host.strip("[]"), int(port)


async def _handle(
    registry: Registry, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        request_line = await asyncio.wait_for(reader.readline(), timeout=5)
        while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b"\n", b""):
            pass  # headers are not needed
        parts = request_line.decode("latin-1").split()
        found = len(parts) >= 2 and parts[0] in ("GET", "HEAD") and parts[1] == "/metrics"
        status, body = ("200 OK", registry.render()) if found else ("404 Not Found", "not found\n")
        data = body.encode("utf-8")
        head = f"HTTP/1.1 {status}\r\nContent-Type: {CONTENT_TYPE}\r\n"
        head += f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode("latin-1") + (data if parts[:1] != ["HEAD"] else b""))
        await writer.drain()
    except (TimeoutError, ConnectionError):
        pass  # a scraper that went away
    finally:
        writer.close()


async def serve_metrics(bind: str, registry: Registry = REGISTRY) -> asyncio.Server:
    """Start serving `registry` at http://BIND/metrics; the caller closes the returned server."""
    host, port = split_bind(bind)
    return await asyncio.start_server(
        lambda r, w: _handle(registry, r, w), host=host, port=port, reuse_address=True
    )


@asynccontextmanager
async def metrics_endpoint(bind: str | None) -> AsyncIterator[asyncio.Server | None]:
    """Serve ProjectK's metrics at http://BIND/metrics while inside (`bind` None: nothing)."""
    if bind is None:
        yield None
        return
    server = await serve_metrics(bind)
    log.info("ProjectK metrics at http://%s/metrics", bind)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


def temporal_telemetry(bind: str | None) -> TelemetryConfig:
    """Return the Temporal SDK's telemetry: its core's log lines go through Python logging (so
    the process's format, secret masking and log file apply to them, and stdout stays clean), and
    its metrics are served at http://BIND/metrics when `bind` is set."""
    forwarding = LogForwardingConfig(logger=logging.getLogger(SDK_CORE_LOGGER))
    logs = LoggingConfig(filter=LoggingConfig.default.filter, forwarding=forwarding)
    if bind is None:
        return TelemetryConfig(logging=logs)
    split_bind(bind)  # fail with our message before the SDK's
    return TelemetryConfig(logging=logs, metrics=PrometheusConfig(bind_address=bind))


def temporal_runtime(bind: str | None) -> Runtime:
    """Return a Temporal runtime with `temporal_telemetry(bind)`."""
    telemetry = temporal_telemetry(bind)
    if bind is not None:
        log.info("Temporal SDK metrics at http://%s/metrics", bind)
    return Runtime(telemetry=telemetry)
