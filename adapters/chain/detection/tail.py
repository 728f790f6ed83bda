"""The chain tail: one per worker process, it reads the `OrderFilled` logs of every watched
wallet and hands each wallet's fills to the pairs that long-poll it.

Invariants:
- One loop task follows the heads; per new block range it issues one `eth_getLogs` per (block
  chunk, wallet chunk) for *all* live wallets, so RPC cost does not grow with the pairs.
- `synced` moves over a range only after every live wallet's fills in it are in the ledger and
  in memory; a range that fails is retried whole at the next head, so there is never a gap.
- Fills reach the ledger (idempotent by fill id, with their detection time) before any poller
  sees them; a retried range or backfill writes nothing twice and delivers nothing twice.
- A wallet joins the live set between two ranges, inside the loop task; the blocks from its
  poller's cursor up to the join point are backfilled in chunks (Data API fallback when the node
  cannot serve them) and its pollers wait until that is done. A zero cursor means "from now".
- Reorgs: a head whose parent or number does not match the recorded chain (or a `removed` log)
  makes the tail find the fork (the newest recorded block that is still canonical), re-read every
  block after it, retract fills that vanished (marked in the ledger) and record a rewind in the
  wallets touched, which their pollers receive once as `FillBatch.retracted`. The tail raises no
  alert: each pair that had a retracted fill raises one, saying what became of its mirror.
- Rewind epochs grow with every rewind, across restarts too: each is the detection time in
  milliseconds (or one more than the last, if the clock stepped back). A pair's poll may move to
  another worker, whose tail numbers its own rewinds, so epochs are comparable between tails as
  far as the workers' clocks agree; a reorg both tails saw may then reach a pair once from each,
  which the pair takes as it takes any retraction of an id it already knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from adapters.chain.decoding import source_fills
from adapters.chain.detection.bloom import may_hold_fills
from adapters.chain.detection.fallback import DataApiFallback
from adapters.chain.detection.heads import BlockHeader, HeadSource
from adapters.chain.detection.ledger_io import by_wallet, record_fills, retract_fills
from adapters.chain.detection.logs import LogReader, LogsUnavailable
from adapters.chain.detection.reorg import ChainTracker
from adapters.chain.detection.stats import DetectionMetrics, DetectionStats, snapshot, write_stats
from adapters.chain.detection.store import Rewind, WalletFills
from adapters.chain.rpc import RpcPool
from adapters.ledger import Ledger
from projectk.messages import FillBatch
from projectk.models import FillCursor, SourceFill

log = logging.getLogger(__name__)

# Polygon PoS makes a block every ~2 s and, since Heimdall v2 (2025), milestones finalise blocks
# within seconds, so reorgs are rare and a few blocks deep. Every confirmation would delay every
# copy by a whole block, while a reorged source fill is handled (retracted, an unposted mirror
# cancelled, an alert raised). So fills are delivered at the head (0 confirmations) and the last
# REORG_WINDOW blocks (~2 min, far past milestone finality) are watched for reorgs. Operators who
# prefer certainty over speed set PROJECTK_FILL_CONFIRMATIONS to 2-3.
DEFAULT_CONFIRMATIONS = 0
REORG_WINDOW = 64
RETRY_MAX_S = 10.0
RESTART_S = 1.0  # pause before the loop runs again after an unexpected error


@dataclass(frozen=True)
class TailConfig:
    """Knobs of the chain tail."""

    confirmations: int = DEFAULT_CONFIRMATIONS
    reorg_window: int = REORG_WINDOW
    batch_limit: int = 500  # fills per poller batch
    idle_expiry_s: float = 3600.0  # forget a wallet nobody polled for this long
    stats_path: Path | None = None
    stats_every_s: float = 5.0
    restart_s: float = RESTART_S


class ChainTail:
    """Follow the chain for every watched wallet at once."""

    def __init__(
        self,
        rpc: RpcPool,
        heads: HeadSource,
        reader: LogReader,
        ledger: Ledger | None = None,
        fallback: DataApiFallback | None = None,
        config: TailConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.rpc, self._heads, self._reader = rpc, heads, reader
        self._ledger, self._fallback = ledger, fallback
        self.config = config or TailConfig()
        self._clock = clock
        self._wall_ms = wall_ms  # numbers rewinds (see the module's invariants)
        self._rewind_epoch = 0
        self.metrics = DetectionMetrics()
        self._stores: dict[str, WalletFills] = {}
        self._live: set[str] = set()
        self._pending: dict[str, int | None] = {}  # wallet -> first block its poller needs
        self._extending: set[str] = set()
        self._synced: int | None = None
        self._chain = ChainTracker(rpc, self.config.reorg_window)
        self._forks: list[int] = []  # fork block of every reorg, in order
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stats_at = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start following the chain."""
        self._spawn(self._run_forever())

    async def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Wait until the tail has seen its first head."""
        await asyncio.wait_for(self._ready.wait(), timeout_s)

    async def stop(self) -> None:
        """Stop every task of the tail and close its connections."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._heads.close()
        if self._fallback is not None:
            await self._fallback.close()
        await self.rpc.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- pollers -----------------------------------------------------------------------------

    @property
    def synced_block(self) -> int | None:
        """Return the block up to which every live wallet's fills are delivered."""
        return self._synced

    def watch(self, wallet: str, cursor: FillCursor) -> WalletFills:
        """Return the wallet's fills, registering it (and backfilling) as needed."""
        wallet = str(to_checksum_address(wallet))
        store = self._stores.get(wallet)
        if store is None:
            store = self._stores[wallet] = WalletFills(wallet)
            self._pending[wallet] = cursor.block or None
            self._wake.set()
        elif wallet in self._pending:
            start = self._pending[wallet]
            if cursor.block and (start is None or cursor.block < start):
                self._pending[wallet] = cursor.block
        elif (
            store.covered_from is not None
            and 0 < cursor.block < store.covered_from
            and wallet not in self._extending
        ):
            self._extending.add(wallet)
            self._spawn(self._extend(wallet, cursor.block, store.covered_from - 1))
        store.last_polled = self._clock()
        return store

    def batch(self, store: WalletFills, cursor: FillCursor, acked: int = 0) -> FillBatch | None:
        """Return the batch a poller at `cursor` that applied the rewinds up to epoch `acked`
        gets now, or None."""
        return store.batch_after(cursor, self.config.batch_limit, acked)

    def idle_cursor(self, store: WalletFills, cursor: FillCursor) -> FillCursor:
        """Return the cursor an empty batch carries: past blocks no reorg can change any more."""
        if self._synced is None or not store.covers(cursor):
            return cursor
        final = FillCursor(block=max(0, self._synced - self.config.reorg_window + 1))
        return final if final.key() > cursor.key() else cursor

    # -- the loop ----------------------------------------------------------------------------

    async def _run_forever(self) -> None:
        # A loop that died would silently stop detection for every pair: an unexpected error
        # is logged and the loop starts again (its state lives on the tail, not in the loop).
        while True:
            try:
                await self._run()
            except Exception:
                restart = self.config.restart_s
                log.exception("chain tail: the loop failed; restarting in %.0f s", restart)
                await asyncio.sleep(restart)

    async def _run(self) -> None:
        head_task: asyncio.Task[BlockHeader] | None = None
        delay = 0.1
        try:
            while True:
                if head_task is None:
                    head_task = asyncio.create_task(self._heads.next_head(self._chain.head))
                wake = asyncio.create_task(self._wake.wait())
                try:
                    done, _ = await asyncio.wait({head_task, wake}, return_when="FIRST_COMPLETED")
                finally:
                    wake.cancel()
                self._wake.clear()
                if head_task in done:
                    head, head_task = head_task.result(), None
                    delay = await self._process(head, delay)
                self._register_pending()
                await self._housekeeping()
        finally:
            if head_task is not None:
                head_task.cancel()

    async def _process(self, head: BlockHeader, delay: float) -> float:
        # A failed head is retried (whole range) with the next head, after a growing pause.
        try:
            await self._on_head(head)
        except Exception:
            log.exception("chain tail: head %d not processed; retrying", head.number)
            await asyncio.sleep(delay)
            return min(RETRY_MAX_S, delay * 2)
        return 0.1

    async def _on_head(self, head: BlockHeader) -> None:
        seen_at = self._clock()
        self.metrics.saw_head(head.number, seen_at)
        self._reader.remember_time(head.number, head.timestamp)
        if self._synced is None:
            self._synced = max(0, head.number - self.config.confirmations)
            self._chain.accept(head)
            self._ready.set()
            return
        if await self._chain.behind(head):
            return  # a node behind the one we followed (failover, load balancer): not a reorg
        target = max(0, head.number - self.config.confirmations)
        fork = await self._chain.find_fork(head)
        if fork is not None and fork < self._synced:
            await self._advance(fork + 1, max(target, fork), seen_at, fork=fork)
        elif target == self._synced + 1 == head.number and not self._may_hold(head):
            self._synced = self.metrics.synced_block = target  # the bloom rules out our fills
        elif target > self._synced:
            await self._advance(self._synced + 1, target, seen_at)
        self._chain.accept(head)

    def _may_hold(self, head: BlockHeader) -> bool:
        # Only live wallets matter: a wallet joining later is backfilled up to the synced block.
        return bool(self._live) and may_hold_fills(head.logs_bloom, self._live)

    async def _advance(self, start: int, end: int, seen_at: float, fork: int | None = None) -> None:
        fills = await self._read(start, end, sorted(self._live)) if end >= start else []
        await self._record(fills)
        if fork is None:
            self._deliver(fills, seen_at)
        else:
            await self._rewind(fork, fills)
        self._synced = end
        self.metrics.synced_block = end

    async def _read(self, start: int, end: int, wallets: Sequence[str]) -> list[SourceFill]:
        if not wallets:
            return []
        detected_at = datetime.now(UTC)
        try:
            logs = await self._reader.fetch(start, end, wallets)
        except LogsUnavailable:
            if self._fallback is None:
                raise
            self.metrics.data_api_fallbacks += 1
            found: list[SourceFill] = []
            for wallet in wallets:
                found += await self._fallback.fills(wallet, start, end, detected_at)
            return sorted(found, key=lambda f: (f.block_number, f.log_index))
        if any(lg.removed for lg in logs):
            self._chain.suspect = True  # a node reported removed logs: re-check at the next head
        times = await self._reader.block_times(logs)
        return source_fills(logs, set(wallets), detected_at, times.get)

    def _deliver(self, fills: Iterable[SourceFill], seen_at: float | None) -> None:
        for wallet, group in by_wallet(fills).items():
            store = self._stores.get(wallet)
            if store is None:
                continue
            new = store.add(group)
            self.metrics.fills_detected += new
            if new:
                store.changed()
                if seen_at is not None:
                    lag_ms = (self._clock() - seen_at) * 1000
                    self.metrics.lags_ms.extend([lag_ms] * new)

    async def _rewind(self, fork: int, fills: list[SourceFill]) -> None:
        self._forks.append(fork)
        self.metrics.reorgs += 1
        epoch = self._rewind_epoch = max(self._rewind_epoch + 1, self._wall_ms())
        new_ids = {f.fill_id for f in fills}
        grouped = by_wallet(fills)
        gone_all: list[SourceFill] = []
        for wallet, store in self._stores.items():
            old = store.drop_above(fork)
            gone = [f for f in old if f.fill_id not in new_ids]
            store.add(grouped.get(wallet, []))
            if gone:
                retracted = tuple((f.fill_id, f.cursor()) for f in gone)
                store.add_rewind(Rewind(fork, retracted, epoch))
                gone_all += gone
            if old or wallet in grouped:
                store.changed()
        self.metrics.fills_retracted += len(gone_all)
        if not gone_all:
            return
        log.warning(
            "reorg after block %d took back %d fill(s) (rewind %d); pairs that had one are told",
            fork,
            len(gone_all),
            epoch,
        )
        if self._ledger is not None:
            await asyncio.to_thread(retract_fills, self._ledger, gone_all)

    async def _record(self, fills: list[SourceFill]) -> None:
        if fills and self._ledger is not None:
            await asyncio.to_thread(record_fills, self._ledger, fills)

    # -- joining wallets and backfills -----------------------------------------------------

    def _register_pending(self) -> None:
        if self._synced is None or not self._pending:
            return
        synced = self._synced
        backfill: dict[str, int] = {}
        for wallet, start in self._pending.items():
            self._live.add(wallet)
            store = self._stores[wallet]
            if start is None or start > synced:
                store.cover(synced + 1)
                store.changed()
            else:
                backfill[wallet] = start
        self._pending.clear()
        if backfill:
            self._spawn(self._backfill(sorted(backfill), min(backfill.values()), synced))

    async def _extend(self, wallet: str, start: int, end: int) -> None:
        try:
            await self._backfill([wallet], start, end)
        finally:
            self._extending.discard(wallet)

    async def _backfill(self, wallets: list[str], start: int, end: int) -> None:
        """Read blocks start..end for `wallets` (retrying until done), then mark them covered."""
        delay = 0.2
        while True:
            epoch = len(self._forks)
            try:
                fills = await self._read(start, end, wallets)
                if len(self._forks) == epoch:
                    await self._record(fills)
                    break
            except Exception as exc:
                log.warning(
                    "backfill of %d wallet(s) %d-%d failed: %s", len(wallets), start, end, exc
                )
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
        if len(self._forks) > epoch:  # a reorg re-read the newest blocks meanwhile: keep its view
            cut = min(self._forks[epoch:])
            fills = [f for f in fills if f.block_number <= cut]
        self._deliver(fills, None)
        for wallet in wallets:
            store = self._stores.get(wallet)
            if store is not None:
                store.cover(start)
                store.changed()

    # -- housekeeping and figures --------------------------------------------------------

    async def _housekeeping(self) -> None:
        now = self._clock()
        idle = [
            w
            for w, s in self._stores.items()
            if w not in self._pending and now - s.last_polled > self.config.idle_expiry_s
        ]
        for wallet in idle:
            del self._stores[wallet]
            self._live.discard(wallet)
        path = self.config.stats_path
        if path is not None and now - self._stats_at >= self.config.stats_every_s:
            self._stats_at = now
            await asyncio.to_thread(write_stats, path, self.stats())

    def stats(self) -> DetectionStats:
        """Return a snapshot of the tail's figures."""
        return snapshot(
            self.metrics,
            mode=self._heads.mode,
            synced=self._synced or 0,
            wallets=len(self._stores),
            requests=self.rpc.total_requests,
            endpoints=self.rpc.stats(),
            interval_s=self._heads.interval_s,
            now=self._clock(),
        )
