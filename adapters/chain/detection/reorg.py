"""The chain of heads the tail followed, and reorg detection against it.

Invariants:
- `hashes` holds the hash of every head accepted within the last `window` blocks; nothing
  else is trusted as "our chain".
- A head lower than ours whose chain agrees with ours as far as it reaches is a node that is
  behind (failover, load balancer), never a reorg: `behind` says so and the tail waits.
- `find_fork` reports a reorg only on evidence (a parent or hash that differs from ours, or a
  `removed` log flagged through `suspect`) and returns the newest accepted block that is still
  canonical; blocks above it are forgotten so they are re-read and re-recorded.
"""

from __future__ import annotations

import logging

from adapters.chain.detection.heads import BlockHeader, fetch_header
from adapters.chain.rpc import RpcPool

log = logging.getLogger(__name__)


class ChainTracker:
    """Remember the heads the tail accepted and compare new heads with them."""

    def __init__(self, rpc: RpcPool, window: int) -> None:
        self._rpc = rpc
        self._window = window
        self.head: BlockHeader | None = None
        self.hashes: dict[int, str] = {}
        self.suspect = False  # set when a node reported removed logs

    def accept(self, head: BlockHeader) -> None:
        """Record `head` as the newest block of our chain."""
        self.head = head
        self.hashes[head.number] = head.hash
        for block in [b for b in self.hashes if b <= head.number - self._window]:
            del self.hashes[block]

    async def behind(self, head: BlockHeader) -> bool:
        """Tell whether `head` is lower than ours yet on our chain (a lagging node)."""
        if self.head is None or head.number >= self.head.number:
            return False
        known = [b for b in self.hashes if b <= head.number]
        if not known:
            return True  # nothing to compare with: wait for it to catch up rather than guess
        block = max(known)
        canonical = head if block == head.number else await fetch_header(self._rpc, block)
        return canonical is not None and canonical.hash == self.hashes[block]

    async def find_fork(self, head: BlockHeader) -> int | None:
        """Return the newest accepted block still canonical if the chain was reorganised."""
        prev = self.head
        if prev is None:
            return None
        suspect, self.suspect = self.suspect, False
        if head.number <= prev.number:
            suspect = True
        elif head.number == prev.number + 1:
            suspect = suspect or head.parent_hash != prev.hash
        else:
            following = await fetch_header(self._rpc, prev.number + 1)
            suspect = suspect or following is None or following.parent_hash != prev.hash
        if not suspect:
            return None
        start = min(head.number, prev.number)
        for block in sorted((b for b in self.hashes if b <= start), reverse=True):
            canonical = head if block == head.number else await fetch_header(self._rpc, block)
            if canonical is not None and canonical.hash == self.hashes[block]:
                return self._forked(block)
        return self._forked(max(0, start - self._window))

    def _forked(self, fork: int) -> int:
        for block in [b for b in self.hashes if b > fork]:
            del self.hashes[block]
        log.warning("chain reorganised after block %d; re-reading", fork)
        return fork
