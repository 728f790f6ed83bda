"""Chain reorganisations on demand: roll back the last blocks, then re-include their transactions.

Invariants: the caller holds every sender of the sandbox still (no settlement is sent meanwhile);
the transactions of the rolled-back blocks are re-included in their original order, except the
dropped ones; one keeps its hash (re-sent raw) while its sender's nonce sequence is unbroken, and
is sent anew from the same sender (a new hash) after a dropped transaction of that sender, or when
anvil cannot re-send it raw (an impersonated one); no re-included transaction lands in a block of
its old number, and the new chain ends above the old head, so a follower sees a longer branch with
new block hashes; the mining mode (automine or interval) is the same afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.rpc import Rpc

Json = Any


class ReorgError(ValueError):
    """The reorg asked for cannot be done (nothing was changed)."""


@dataclass(frozen=True)
class Moved:
    """Where a re-included transaction is now."""

    tx_hash: str
    block_number: int
    ok: bool  # its receipt succeeded


@dataclass
class ReorgResult:
    """What a reorg did."""

    old_head: int
    new_head: int
    dropped: list[str] = field(default_factory=list)
    moved: dict[str, Moved] = field(default_factory=dict)  # old hash -> re-included transaction

    def to_json(self) -> dict[str, Json]:
        """Return the admin route's answer."""
        return {
            "old_head": self.old_head,
            "new_head": self.new_head,
            "dropped": self.dropped,
            "reincluded": {old: m.tx_hash for old, m in self.moved.items()},
        }


async def reorg(
    rpc: Rpc, depth: int, drop: set[str], shift: int = 1, block_time_s: float = 0.0
) -> ReorgResult:
    """Roll back ``depth`` blocks, mine ``shift`` empty ones, re-include all but ``drop``."""
    if depth < 1 or shift < 0:
        raise ReorgError("depth must be at least 1 and shift at least 0")
    # Automine while reorganising: it also mines what is pending, so the range is complete.
    await rpc.request("evm_setAutomine", [True])
    try:
        old_head = await rpc.block_number()
        if depth > old_head:
            raise ReorgError(f"depth {depth} reaches below block 1 (head {old_head})")
        txs = await _transactions(rpc, old_head - depth + 1, old_head)
        drop = {h.lower() for h in drop}
        unknown = drop - {str(tx["hash"]).lower() for tx in txs}
        if unknown:
            raise ReorgError(f"not in the last {depth} blocks: {sorted(unknown)}")
        await rpc.request("anvil_rollback", [depth])
        if shift:
            await rpc.request("anvil_mine", [hex(shift)])
        result = ReorgResult(old_head, old_head)
        await _reinclude(rpc, txs, drop, result)
        head = await rpc.block_number()
        if head <= old_head:
            await rpc.request("anvil_mine", [hex(old_head + 1 - head)])
        result.new_head = await rpc.block_number()
        return result
    finally:
        if block_time_s > 0:  # back to interval mining (anvil takes whole seconds)
            await rpc.request("evm_setIntervalMining", [max(1, round(block_time_s))])


async def _transactions(rpc: Rpc, first: int, last: int) -> list[dict[str, Json]]:
    # Every transaction of blocks first..last, in chain order, with its raw signed form.
    txs = []
    for number in range(first, last + 1):
        block = await rpc.request("eth_getBlockByNumber", [hex(number), True])
        for tx in block["transactions"]:
            tx["raw"] = await rpc.request("eth_getRawTransactionByHash", [tx["hash"]])
            txs.append(tx)
    return txs


async def _reinclude(
    rpc: Rpc, txs: list[dict[str, Json]], drop: set[str], result: ReorgResult
) -> None:
    unlocked = {a.lower() for a in await rpc.request("eth_accounts", [])}
    broken: set[str] = set()  # senders with a dropped transaction: their nonces moved down
    for tx in txs:
        sender = str(tx["from"]).lower()
        if str(tx["hash"]).lower() in drop:
            broken.add(sender)
            result.dropped.append(tx["hash"])
            continue
        if await rpc.block_number() + 1 == int(tx["blockNumber"], 16):
            await rpc.request("anvil_mine", ["0x1"])  # never back into a block of its old number
        if sender in broken or _impersonated(tx):
            new_hash = await _send_anew(rpc, tx, sender in unlocked)
        else:
            new_hash = await rpc.request("eth_sendRawTransaction", [tx["raw"]])
        receipt = await rpc.wait_mined(new_hash)
        result.moved[tx["hash"]] = Moved(
            new_hash, int(receipt["blockNumber"], 16), int(receipt["status"], 16) == 1
        )


def _impersonated(tx: dict[str, Json]) -> bool:
    # anvil signs impersonated transactions with r = s = 0: they cannot be re-sent raw
    return int(tx.get("r") or "0x0", 16) == 0 and int(tx.get("s") or "0x0", 16) == 0


async def _send_anew(rpc: Rpc, tx: dict[str, Json], unlocked: bool) -> str:
    fields = {"from": tx["from"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
    if tx.get("to"):
        fields["to"] = tx["to"]
    if not unlocked:
        await rpc.request("anvil_impersonateAccount", [tx["from"]])
    try:
        tx_hash: str = await rpc.request("eth_sendTransaction", [fields])
        return tx_hash
    finally:
        if not unlocked:
            await rpc.request("anvil_stopImpersonatingAccount", [tx["from"]])
