"""One long-lived event loop for the dashboard's Temporal client.

Streamlit reruns the page script in a fresh thread on every interaction and refresh; a Temporal
client is bound to the event loop it was created on. So the dashboard keeps one daemon thread
running one asyncio loop, connects the client lazily on that loop, and every read is submitted
to it from the script thread with a deadline.

Invariants:
- One bridge per (address, namespace), built once per process (`st.cache_resource` in `state`),
  connected with `adapters.temporal.connect`, so payloads decode like every other client's.
- A read never blocks a page longer than its timeout; a server that cannot be reached raises
  `TemporalDown` with a message for the operator, never an SDK traceback.
- A failed connection is not kept: the next read tries again, so a server that comes back is
  picked up without restarting the dashboard.
- The bridge only reads: it hands out the client to read-only functions in `temporal_reads`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from temporalio.client import Client
from temporalio.service import RPCError

from adapters.temporal import TemporalUnavailableError, connect
from dashboard.temporal_reads import QueryUnanswered
from projectk.settings import Settings

T = TypeVar("T")

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 8.0


class TemporalDown(RuntimeError):
    """Temporal cannot answer the dashboard right now; the message says where and why."""


class Pending(Generic[T]):
    """A Temporal read running on the bridge's loop."""

    def __init__(self, future: concurrent.futures.Future[T], address: str) -> None:
        self._future = future
        self._address = address

    def result(self, timeout_s: float = READ_TIMEOUT_S) -> T:
        """Wait for the read's result, or raise TemporalDown when it does not come in time."""
        try:
            return self._future.result(timeout=timeout_s)
        except (TimeoutError, concurrent.futures.TimeoutError):
            self._future.cancel()
            raise TemporalDown(
                f"the Temporal server at {self._address} did not answer within {timeout_s:.0f} s"
            ) from None


class TemporalBridge:
    """Run Temporal reads on one background event loop with one lazily connected client."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.address = settings.temporal_address
        self.namespace = settings.temporal_namespace
        self._loop = asyncio.new_event_loop()
        self._client: Client | None = None
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"temporal-{self.address}", daemon=True
        )
        self._thread.start()

    def start(self, read: Callable[[Client], Awaitable[T]]) -> Pending[T]:
        """Start `read(client)` on the bridge's loop; the caller collects it later."""
        return Pending(asyncio.run_coroutine_threadsafe(self._call(read), self._loop), self.address)

    def run(self, read: Callable[[Client], Awaitable[T]], timeout_s: float = READ_TIMEOUT_S) -> T:
        """Run `read(client)` on the bridge's loop and return its result, or raise TemporalDown."""
        return self.start(read).result(timeout_s)

    async def _call(self, read: Callable[[Client], Awaitable[T]]) -> T:
        client = await self._connected()
        try:
            return await read(client)
        except QueryUnanswered as exc:
            raise TemporalDown(str(exc)) from None
        except RPCError as exc:
            raise TemporalDown(
                f"the Temporal server at {self.address} (namespace {self.namespace!r}) "
                f"refused a read: {exc.message or exc.status.name}"
            ) from None

    async def _connected(self) -> Client:
        if self._client is None:
            try:
                # `connect` applies the settings' payload codec, so encrypted payloads decode.
                self._client = await connect(self._settings, timeout_s=CONNECT_TIMEOUT_S)
            except TemporalUnavailableError as exc:
                raise TemporalDown(str(exc)) from None
        return self._client

    def close(self) -> None:
        """Stop the loop and its thread (tests; Streamlit keeps the bridge for the process)."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
