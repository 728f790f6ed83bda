"""Ethereum log bloom checks: can a block hold an `OrderFilled` of one of our wallets?

Invariant: `may_hold_fills` never says False for a block that holds such a log (a bloom filter
has no false negatives), so skipping `eth_getLogs` on False never misses a fill; an empty or
malformed bloom always answers True.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from eth_utils.crypto import keccak

from adapters.chain.contracts import FILL_EXCHANGES, ORDER_FILLED_TOPIC

BLOOM_BYTES = 256


@lru_cache(maxsize=65_536)
def bloom_bits(value: bytes) -> tuple[int, int, int]:
    """Return the three bloom bit positions (0..2047) a log address or topic sets."""
    digest = keccak(value)
    return tuple(((digest[i] << 8) | digest[i + 1]) & 2047 for i in (0, 2, 4))  # type: ignore[return-value]


def _has(bloom: bytes, value: bytes) -> bool:
    return all(bloom[BLOOM_BYTES - 1 - bit // 8] & (1 << (bit % 8)) for bit in bloom_bits(value))


_TOPIC = bytes.fromhex(ORDER_FILLED_TOPIC[2:])
_EXCHANGES = [bytes.fromhex(address[2:]) for address in FILL_EXCHANGES]


def may_hold_fills(bloom: bytes, wallets: Iterable[str]) -> bool:
    """Tell whether a block with this logs bloom may hold an `OrderFilled` made by a wallet."""
    if len(bloom) != BLOOM_BYTES:
        return True
    if not _has(bloom, _TOPIC) or not any(_has(bloom, address) for address in _EXCHANGES):
        return False
    return any(_has(bloom, bytes(12) + bytes.fromhex(wallet[2:])) for wallet in wallets)
