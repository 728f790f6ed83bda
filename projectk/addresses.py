"""Ethereum addresses without an Ethereum library: Keccak-256 and EIP-55 checksums.

The kernel may not import chain libraries, yet every domain type carries checksummed
addresses. The standard library's `sha3_256` is FIPS-202 SHA-3, which pads differently from the
Keccak-256 Ethereum uses, so the permutation is written out here (it is short and checked
against known digests and `eth_utils` in the tests).

Invariants:
- `keccak256` is the original Keccak (pad 0x01 ... 0x80, rate 136 bytes), as Ethereum uses it.
- `to_checksum` accepts 0x + 40 hex digits in any case and returns the EIP-55 form;
  `is_address` checks that form only; whether a mixed-case address's checksum matches is
  `has_valid_checksum`'s question, so callers can say which of the two is wrong.
"""

from __future__ import annotations

from functools import lru_cache

_MASK = (1 << 64) - 1
_RATE = 136  # bytes absorbed per permutation for a 256-bit digest
_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
# Rotation offsets r[x][y] of the rho step, indexed [x + 5 * y].
_ROTATIONS = (
    0, 1, 62, 28, 27,
    36, 44, 6, 55, 20,
    3, 10, 43, 25, 39,
    41, 45, 15, 21, 8,
    18, 2, 61, 56, 14,
)  # fmt: skip
_HEX = frozenset("0123456789abcdefABCDEF")


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _permute(lanes: list[int]) -> None:
    # Keccak-f[1600] over 25 lanes indexed x + 5 * y.
    rotl = _rotl
    for constant in _ROUND_CONSTANTS:
        c = [lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20]
             for x in range(5)]  # fmt: skip
        d = [c[(x - 1) % 5] ^ rotl(c[(x + 1) % 5], 1) for x in range(5)]
        moved = [0] * 25
        for i in range(25):
            x, y = i % 5, i // 5
            moved[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(lanes[i] ^ d[x], _ROTATIONS[i])
        for y in range(0, 25, 5):
            a0, a1, a2, a3, a4 = moved[y : y + 5]
            lanes[y] = a0 ^ (~a1 & a2)
            lanes[y + 1] = a1 ^ (~a2 & a3)
            lanes[y + 2] = a2 ^ (~a3 & a4)
            lanes[y + 3] = a3 ^ (~a4 & a0)
            lanes[y + 4] = a4 ^ (~a0 & a1)
        lanes[0] ^= constant


def keccak256(data: bytes) -> bytes:
    """Return the Keccak-256 digest of `data` (Ethereum's hash, not FIPS-202 SHA3-256)."""
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(b"\x00" * (-len(padded) % _RATE))
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), _RATE):
        block = padded[start : start + _RATE]
        for i in range(_RATE // 8):
            lanes[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _permute(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


def _hex40(value: str) -> str | None:
    if len(value) != 42 or not value.startswith("0x"):
        return None
    digits = value[2:]
    return digits if all(c in _HEX for c in digits) else None


@lru_cache(maxsize=8192)  # a process sees the same few wallets and contracts again and again
def to_checksum(value: str) -> str:
    """Return the EIP-55 checksummed form of a 0x-prefixed 40-hex-digit address."""
    digits = _hex40(value)
    if digits is None:
        raise ValueError(f"not an Ethereum address: {value!r}")
    lower = digits.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(lower)
    )


def is_address(value: object) -> bool:
    """Tell whether `value` has the form of an address: 0x and 40 hex digits, in any case."""
    return isinstance(value, str) and _hex40(value) is not None


def has_valid_checksum(value: str) -> bool:
    """Tell whether an address is all lower-case, all upper-case, or correctly EIP-55 mixed."""
    digits = _hex40(value)
    if digits is None:
        return False
    if digits == digits.lower() or digits == digits.upper():
        return True
    return to_checksum(value) == value
