"""Protocol V2 ("v2") binary markets on the sandbox chain: ids, split, resolution, payouts.

Invariants: a v2 condition id is the binary module's derivation from the question data
(``[0x01 | low 128 bits of keccak256(abi.encode(1, data)) | 112 zero bits]``, 31 bytes), and the
module computes the same id on chain; a position id is the condition id followed by the outcome
byte (0 = YES, 1 = NO); markets are quoted as 32-byte condition ids (the 31 bytes plus ``00``, the
YES position id), the form Gamma and the CLOB use; resolution reports ``[1e6, 0]`` (YES) or
``[0, 1e6]`` (NO) from the oracle, which is the module's resolver.
"""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from sandbox import accounts
from sandbox.chain import BINARY_MODULE, POSITION_MANAGER, PUSD, ROUTER
from sandbox.rpc import Rpc

BINARY_MODULE_ID = 1
RESULT_DENOMINATOR = 1_000_000


def condition_id(data: bytes) -> bytes:
    """Derive the 31-byte condition id of a binary question (as the module's getConditionId)."""
    base = keccak(encode(["uint256", "bytes"], [BINARY_MODULE_ID, data]))
    return bytes([BINARY_MODULE_ID]) + base[16:] + bytes(14)


def position_id(cond: bytes, outcome: int) -> int:
    """Return the position id of outcome 0 (YES) or 1 (NO) of a 31-byte condition id."""
    return int.from_bytes(cond + bytes([outcome]), "big")


def market_condition_id(cond: bytes) -> str:
    """Return the 32-byte hex form of a condition id that markets are listed under."""
    return "0x" + cond.hex() + "00"


def condition_bytes(market_condition: str) -> bytes:
    """Return the 31-byte condition id of a market's 32-byte condition id."""
    return bytes.fromhex(market_condition.removeprefix("0x"))[:31]


async def split(rpc: Rpc, owner: str, cond: bytes, amount_micro: int) -> None:
    """Mint ``amount_micro`` pUSD to ``owner`` and split it through the Router into YES and NO.

    ``owner`` must be unlocked on anvil and have approved the Router for pUSD.
    """
    await rpc.transact(
        accounts.operator().address, PUSD, "faucet(address,uint256)", owner, amount_micro
    )
    await rpc.transact(owner, ROUTER, "split(bytes31,uint256)", cond, amount_micro)


async def resolve(rpc: Rpc, cond: bytes, winner: int) -> str:
    """Report ``winner`` (0 YES, 1 NO) to the binary module from the oracle; return the tx hash."""
    result = [RESULT_DENOMINATOR, 0] if winner == 0 else [0, RESULT_DENOMINATOR]
    rec = await rpc.transact(
        accounts.oracle().address, BINARY_MODULE, "reportResult(bytes31,uint256[])", cond, result
    )
    tx: str = rec["transactionHash"]
    return tx


async def payout(rpc: Rpc, position: int, amount_micro: int) -> int:
    """Return what ``amount_micro`` of a resolved position pays, read through PositionManager."""
    (value,) = await rpc.call(
        POSITION_MANAGER, "getPayout(uint256,uint256)", (position, amount_micro), ["uint256"]
    )
    return int(value)


async def has_result(rpc: Rpc, cond: bytes) -> bool:
    """Return True once the condition is resolved."""
    (done,) = await rpc.call(BINARY_MODULE, "hasResult(bytes31)", (cond,), ["bool"])
    return bool(done)
