"""One watched wallet's detected fills in memory, and the batches its pollers receive.

Invariants:
- `fills` is sorted by (block, log index) and holds each fill id once.
- `covered_from` is the first block from which every fill of the wallet, up to the tail's synced
  block, is in `fills` (None until the first backfill or live range has covered the wallet).
  Pruning old fills raises `covered_from`, so a poller asking for older fills triggers a backfill
  instead of silently missing them.
- A batch never holds a fill after the tail's synced block and never skips a fill: fills after
  the cursor are returned oldest first, at most `limit`, and the batch cursor is the last one's.
- A rewind (reorg) is reported to a poller whose cursor is past the fork and at or after a
  retracted fill (it may have been given that fill): the batch carries the retracted ids and a
  cursor at the fork, plus the fills of the new chain after it.
- A rewind reaches a poller once: every rewind has an epoch, larger than any before it; a rewind
  batch carries the newest epoch it hands, and a poller that sends that epoch back (it applied
  the batch) is handed only newer rewinds. So the batch names every fill of that rewind and of
  the older ones not yet handed (a poller ignores ids it never had), and after it batches run
  on from the poller's cursor: a branch with more than `limit` fills past the fork is read to
  its end.
- At most MAX_REWINDS rewinds are kept (the oldest is forgotten first); fills are never dropped
  for a rewind's sake.
- `changed()` wakes every waiter of this wallet; a waiter re-checks rather than trusting the wake.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from projectk.messages import FillBatch
from projectk.models import FillCursor, SourceFill

MAX_FILLS = 10_000  # per wallet in memory; older ones are re-read from the chain if ever asked for
MAX_REWINDS = 32


@dataclass(frozen=True)
class Rewind:
    """A reorganisation that touched this wallet: blocks after `fork_block` were re-read."""

    fork_block: int
    retracted: tuple[tuple[str, FillCursor], ...]  # (fill id, where it was)
    epoch: int  # larger than every earlier rewind's; what a poller acknowledges


def _key(fill: SourceFill) -> tuple[int, int]:
    return (fill.block_number, fill.log_index)


class WalletFills:
    """The fills of one wallet the tail has seen, and the waiters polling them."""

    def __init__(self, wallet: str) -> None:
        self.wallet = wallet
        self.fills: list[SourceFill] = []
        self.covered_from: int | None = None
        self.rewinds: deque[Rewind] = deque(maxlen=MAX_REWINDS)
        self.epoch = 0  # the newest rewind's epoch (kept when the rewind itself is forgotten)
        self.last_polled = 0.0  # monotonic time of the last poll, for idle expiry
        self._ids: set[str] = set()
        self._event = asyncio.Event()

    def add(self, fills: Iterable[SourceFill]) -> int:
        """Insert fills not seen before, in chain order; return how many were new."""
        new = 0
        for fill in fills:
            if fill.fill_id in self._ids:
                continue
            self.fills.insert(bisect.bisect_right(self.fills, _key(fill), key=_key), fill)
            self._ids.add(fill.fill_id)
            new += 1
        if len(self.fills) > MAX_FILLS:
            self._prune()
        return new

    def _prune(self) -> None:
        # Drop the oldest half, whole blocks only, and say from where the memory is complete.
        cut_block = self.fills[len(self.fills) // 2].block_number
        kept = [f for f in self.fills if f.block_number > cut_block]
        for fill in self.fills[: len(self.fills) - len(kept)]:
            self._ids.discard(fill.fill_id)
        self.fills = kept
        self.covered_from = max(self.covered_from or 0, cut_block + 1)

    def add_rewind(self, rewind: Rewind) -> None:
        """Remember a rewind, to be handed to the pollers it concerns."""
        if rewind.epoch <= self.epoch:
            raise ValueError(f"rewind epoch {rewind.epoch} is not after {self.epoch}")
        self.rewinds.append(rewind)
        self.epoch = rewind.epoch

    def drop_above(self, fork_block: int) -> list[SourceFill]:
        """Remove and return the fills in blocks after `fork_block`."""
        dropped = [f for f in self.fills if f.block_number > fork_block]
        self.fills = [f for f in self.fills if f.block_number <= fork_block]
        for fill in dropped:
            self._ids.discard(fill.fill_id)
        return dropped

    def cover(self, from_block: int) -> None:
        """Record that every fill from `from_block` on is now known."""
        if self.covered_from is None or from_block < self.covered_from:
            self.covered_from = from_block

    def covers(self, cursor: FillCursor) -> bool:
        """Tell whether every fill after `cursor` is known (a zero cursor means "from now")."""
        if self.covered_from is None:
            return False
        return cursor.block == 0 or self.covered_from <= cursor.block

    def changed(self) -> None:
        """Wake every waiter of this wallet."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_changed(self, timeout_s: float) -> None:
        """Wait until `changed()` or the timeout."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)

    def batch_after(self, cursor: FillCursor, limit: int, acked: int = 0) -> FillBatch | None:
        """Return what a poller at `cursor`, having applied the rewinds up to epoch `acked`,
        should get now, or None if nothing yet."""
        if not self.covers(cursor):
            return None
        rewind = self._rewind_for(cursor, acked)
        if rewind is not None:
            fork, retracted, epoch = rewind
            start = FillCursor(block=fork + 1, log_index=-1)
            fills = self.after(start, limit)
            return FillBatch(
                fills=fills,
                retracted=retracted,
                cursor=fills[-1].cursor() if fills else start,
                rewind_epoch=epoch,
            )
        fills = self.after(cursor, limit)
        return FillBatch(fills=fills, cursor=fills[-1].cursor()) if fills else None

    def after(self, cursor: FillCursor, limit: int) -> list[SourceFill]:
        """Return at most `limit` fills strictly after `cursor`, oldest first."""
        start = bisect.bisect_right(self.fills, cursor.key(), key=_key)
        return self.fills[start : start + limit]

    def _rewind_for(self, cursor: FillCursor, acked: int) -> tuple[int, list[str], int] | None:
        # The rewinds not yet acknowledged that took back a fill the poller may have been given
        # (one at or before its cursor, past the fork) decide the fork and the epoch.
        pending = [r for r in self.rewinds if r.epoch > acked]
        handed = [r for r in pending if cursor.block > r.fork_block and _reached(r, cursor)]
        if not handed:
            return None
        epoch = max(r.epoch for r in handed)
        # Acknowledging `epoch` acknowledges every older rewind too, and a poller an earlier
        # rewind moved back may have had a fill now after its cursor: all their fills are named
        # (a poller ignores ids it never had).
        retracted = [fid for r in pending if r.epoch <= epoch for fid, _ in r.retracted]
        return min(r.fork_block for r in handed), list(dict.fromkeys(retracted)), epoch


def _reached(rewind: Rewind, cursor: FillCursor) -> bool:
    # Whether a retracted fill is at or before the cursor: a poller there may have been given it.
    return any(at.key() <= cursor.key() for _, at in rewind.retracted)
