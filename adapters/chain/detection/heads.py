"""New chain heads for the tail: adaptive polling, or `eth_subscribe newHeads` over a WebSocket.

Invariants:
- `next_head` returns a header that differs (number or hash) from the one passed in; it never
  returns the same head twice in a row, and it keeps trying through RPC errors (backing off).
- Polling asks for the whole latest header (`eth_getBlockByNumber("latest")`) rather than
  `eth_blockNumber`: the same one request also gives the hash and parent hash (reorg checks)
  and the timestamp (fill times), so no second request per block is needed.
- The poll schedule locks onto the chain's rhythm: it learns the block interval and the phase
  at which blocks appear, sleeps until just before the next block is due, then polls every
  `fast_s` (stretched to the RPC latency on a slow node) and backs off geometrically while a
  block is overdue, so a healthy chain costs about 1-2 polls per block at low latency.
- The WebSocket source reconnects with backoff and falls back to one poll whenever no head
  arrived for a few block intervals, so a dropped subscription never stalls the tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import websockets

from adapters.chain.rpc import RpcError, RpcPool, RpcUnavailable

log = logging.getLogger(__name__)

ERROR_BACKOFF_MAX_S = 5.0


@dataclass(frozen=True)
class BlockHeader:
    """The parts of a block header the tail uses."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int  # seconds
    logs_bloom: bytes = b""  # empty when the node did not send it


def parse_header(raw: dict[str, Any]) -> BlockHeader:
    """Turn a JSON-RPC block (or newHeads notification) into a header."""
    bloom = str(raw.get("logsBloom") or "0x")
    return BlockHeader(
        number=int(raw["number"], 16),
        hash=str(raw["hash"]).lower(),
        parent_hash=str(raw["parentHash"]).lower(),
        timestamp=int(raw["timestamp"], 16),
        logs_bloom=bytes.fromhex(bloom[2:]) if len(bloom) == 514 else b"",
    )


async def fetch_header(rpc: RpcPool, block: int | str) -> BlockHeader | None:
    """Return a block's header ("latest" or a number), None if the node does not have it."""
    tag = block if isinstance(block, str) else hex(block)
    raw = await rpc.call("eth_getBlockByNumber", [tag, False])
    return parse_header(raw) if raw else None


class HeadSource(Protocol):
    """Where the tail learns of new blocks."""

    mode: str

    async def next_head(self, last: BlockHeader | None) -> BlockHeader:
        """Wait for and return a head different from `last`."""
        ...

    @property
    def interval_s(self) -> float:
        """Return the current expected block interval."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


MAX_BACKOFF_EXPONENT = 60  # 1.5**60 is far past any cap, and far from a float overflow


class PollSchedule:
    """When to poll for the next head (pure: times are passed in).

    It keeps an estimate of when the last block appeared and how uncertain that is. While the
    estimate is sharp it polls just after the next block is due (one poll per block); while it
    is vague it polls early by the uncertainty and then every `step`, so the block is
    bracketed by an empty poll and a hit and the estimate becomes sharp again. The uncertainty
    grows a little with every block timed only by the learned grid, which forces a re-measure
    every few blocks.
    """

    def __init__(self, block_time_s: float = 2.0, fast_s: float = 0.015) -> None:
        self.interval = block_time_s
        self.fast = fast_s
        self.latency = 0.0  # EMA of the head request's duration
        self.arrival: float | None = None  # estimated time the last head appeared
        self.uncertainty = block_time_s / 2  # how far off `arrival` may be
        self.number: int | None = None
        self.last_empty: float | None = None  # start of the last poll that saw no new head
        self._anchor: tuple[float, int] | None = None  # last sharply timed (arrival, block)

    def step(self) -> float:
        """Return the poll step while a block is due (never shorter than the RPC latency)."""
        return max(self.fast, self.latency)

    def delay(self, now: float, overdue_polls: int) -> float:
        """Return how long to sleep before the next poll."""
        step = self.step()
        if self.arrival is None:
            return step if overdue_polls else 0.0
        due = self.arrival + self.interval
        if overdue_polls == 0:
            sharp = self.uncertainty <= step
            lead = -step / 2 if sharp else min(self.uncertainty, self.interval / 2)
            return max(0.0, due - lead - now)
        if now < due:
            return max(step, (due - now) / 2)  # early: halve the distance to the due time
        if now < due + self.uncertainty + step:
            return step  # inside the window where the block is expected: poll fast
        # Late beyond the expected window: back off geometrically up to a quarter interval. The
        # exponent is capped: a chain that stops for hours must not overflow the float.
        growth = 1.5 ** min(max(0, overdue_polls - 3), MAX_BACKOFF_EXPONENT)
        return min(step * growth, max(step, self.interval / 4))

    def on_empty(self, started: float) -> None:
        """Record a poll that saw no new head."""
        self.last_empty = started

    def on_head(self, started: float, number: int) -> None:
        """Record a poll (started at `started`) that saw new head `number`."""
        step = self.step()
        advanced = 1 if self.number is None else max(1, number - self.number)
        gap = None if self.last_empty is None else started - self.last_empty
        predicted = None if self.arrival is None else self.arrival + advanced * self.interval
        if gap is not None and gap < self.interval / 2:
            arrival, self.uncertainty = started - gap / 2, gap / 2  # bracketed
            if gap <= 3 * step:
                self._learn_interval(arrival, number)
        elif predicted is not None and advanced == 1 and started >= predicted:
            arrival = predicted  # on the learned grid; trust it a little less each block
            self.uncertainty += step / 4
        elif predicted is not None and advanced == 1 and started > predicted - self.interval / 4:
            arrival = started  # a little early for the grid: poll earlier next time
            self.uncertainty = min(self.interval / 2, 2 * (predicted - started) + step)
        else:
            arrival = started
            if self.arrival is not None and (advanced > 1 or started < (predicted or 0)):
                # Blocks come faster than we thought: at most this far apart.
                self.interval = max(0.05, min(self.interval, (started - self.arrival) / advanced))
            self.uncertainty = self.interval / 2
        self.arrival, self.number, self.last_empty = arrival, number, None

    def _learn_interval(self, arrival: float, number: int) -> None:
        if self._anchor is not None and number > self._anchor[1]:
            sample = (arrival - self._anchor[0]) / (number - self._anchor[1])
            self.interval = min(60.0, max(0.05, 0.7 * self.interval + 0.3 * sample))
        self._anchor = (arrival, number)


class PollingHeads:
    """Adaptive polling of the latest header."""

    mode = "poll"

    def __init__(
        self,
        rpc: RpcPool,
        block_time_s: float = 2.0,
        fast_s: float = 0.015,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rpc = rpc
        self._clock = clock
        self.schedule = PollSchedule(block_time_s, fast_s)
        self._errors = 0

    @property
    def interval_s(self) -> float:
        """Return the learned block interval."""
        return self.schedule.interval

    async def close(self) -> None:
        """Nothing to release (the pool belongs to the caller)."""

    async def next_head(self, last: BlockHeader | None) -> BlockHeader:
        """Poll until the latest header differs from `last`."""
        overdue_polls = 0
        schedule = self.schedule
        while True:
            if self._errors:
                await asyncio.sleep(min(ERROR_BACKOFF_MAX_S, 0.05 * 2**self._errors))
            else:
                await asyncio.sleep(schedule.delay(self._clock(), overdue_polls))
            started = self._clock()
            try:
                head = await fetch_header(self._rpc, "latest")
            except (RpcError, RpcUnavailable) as exc:
                self._errors += 1
                log.warning("head poll failed (%s); backing off", exc)
                continue
            self._errors = 0
            schedule.latency = 0.8 * schedule.latency + 0.2 * (self._clock() - started)
            if head is None or (last and (head.number, head.hash) == (last.number, last.hash)):
                schedule.on_empty(started)
                overdue_polls += 1
                continue
            schedule.on_head(started, head.number)
            return head


class WsHeads:
    """`eth_subscribe newHeads` over a WebSocket, with polling as the safety net."""

    mode = "ws"

    def __init__(self, ws_url: str, rpc: RpcPool, block_time_s: float = 2.0) -> None:
        self._url = ws_url
        self._rpc = rpc
        self._interval = block_time_s
        self._queue: asyncio.Queue[BlockHeader] = asyncio.Queue(maxsize=1024)
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_s(self) -> float:
        """Return the configured block interval."""
        return self._interval

    async def next_head(self, last: BlockHeader | None) -> BlockHeader:
        """Return the next pushed head, or a polled one if none came for a while."""
        if self._task is None:
            self._task = asyncio.create_task(self._subscribe(), name="ws-new-heads")
        while True:
            try:
                head = await asyncio.wait_for(self._queue.get(), max(3.0, 3 * self._interval))
            except TimeoutError:
                try:
                    polled = await fetch_header(self._rpc, "latest")
                except (RpcError, RpcUnavailable):
                    continue
                if polled is None:
                    continue
                head = polled
            if last is None or (head.number, head.hash) != (last.number, last.hash):
                return head

    async def _subscribe(self) -> None:
        delay = 0.1
        while True:
            try:
                async with websockets.connect(self._url, max_size=2**22) as socket:
                    request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe"}
                    await socket.send(json.dumps({**request, "params": ["newHeads"]}))
                    json.loads(await socket.recv())  # the subscription id
                    delay = 0.1
                    async for message in socket:
                        params = json.loads(message).get("params") or {}
                        if "result" in params:
                            self._push(parse_header(params["result"]))
            except (OSError, websockets.WebSocketException, ValueError, KeyError) as exc:
                log.warning("newHeads subscription lost (%s); reconnecting", exc)
            await asyncio.sleep(delay)
            delay = min(ERROR_BACKOFF_MAX_S, delay * 2)

    def _push(self, head: BlockHeader) -> None:
        if self._queue.full():  # keep the newest; the tail reads ranges, not single blocks
            self._queue.get_nowait()
        self._queue.put_nowait(head)

    async def close(self) -> None:
        """Stop the subscription."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
