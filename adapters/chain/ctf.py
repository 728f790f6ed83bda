"""ConditionalTokens arithmetic, off-chain: condition, collection and position ids, resolution,
payouts.

Invariants:
- Every function is pure and reproduces the contract's own computation (Gnosis
  `conditional-tokens-contracts` 1.0.3, `CTHelpers.sol` and `ConditionalTokens.sol`, the
  contract deployed at `contracts.CONDITIONAL_TOKENS`); tests check the results against that
  contract running in the sandbox.
- Only top-level positions (parent collection zero) are supported: Polymarket never nests
  conditions.
- Payouts are integers in collateral micro-units, rounded down per index set exactly as
  `redeemPositions` does (`stake * numerator / denominator`).
"""

from __future__ import annotations

from eth_abi.packed import encode_packed
from eth_utils.crypto import keccak

from projectk.claims import BINARY_INDEX_SETS

# alt_bn128 field modulus and curve constant b (y^2 = x^3 + 3), as in CTHelpers.sol.
_P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
_B = 3


def hex32(value: bytes) -> str:
    """Return a bytes32 as 0x-prefixed lowercase hex."""
    return "0x" + value.hex()


def to_bytes32(value: str) -> bytes:
    """Return the 32 bytes of a 0x-prefixed hex id, or raise ValueError."""
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"not a bytes32: {value!r}")
    return raw


def condition_id(oracle: str, question_id: str, outcome_slots: int = 2) -> str:
    """Return `getConditionId(oracle, questionId, outcomeSlotCount)`."""
    packed = encode_packed(
        ["address", "bytes32", "uint256"], [oracle, to_bytes32(question_id), outcome_slots]
    )
    return hex32(keccak(packed))


def collection_id(condition: str, index_set: int) -> str:
    """Return `getCollectionId(bytes32(0), conditionId, indexSet)` (a compressed bn128 point)."""
    x = int.from_bytes(keccak(to_bytes32(condition) + index_set.to_bytes(32, "big")), "big")
    odd = x >> 255 != 0
    while True:
        x = (x + 1) % _P
        yy = (x * x * x + _B) % _P
        y = pow(yy, (_P + 1) // 4, _P)  # P = 3 mod 4: this is a square root when one exists
        if y * y % _P == yy:
            break
    if odd != (y % 2 == 1):
        y = _P - y
    if y % 2 == 1:
        x ^= 1 << 254
    return hex32(x.to_bytes(32, "big"))


def position_id(collateral: str, collection: str) -> str:
    """Return `getPositionId(collateralToken, collectionId)` as a decimal token id."""
    packed = encode_packed(["address", "bytes32"], [collateral, to_bytes32(collection)])
    return str(int.from_bytes(keccak(packed), "big"))


def binary_token_ids(collateral: str, condition: str) -> tuple[str, str]:
    """Return the (Yes, No) token ids of a binary condition backed by `collateral`."""
    yes, no = (position_id(collateral, collection_id(condition, s)) for s in BINARY_INDEX_SETS)
    return yes, no
