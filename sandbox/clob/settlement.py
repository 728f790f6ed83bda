"""Trades and their on-chain settlement through the exchange contract of their market.

Invariants: every match becomes exactly one Trade and one settlement transaction from the operator
(``settle``/``settleComplement`` on v1 markets, ``matchOrders`` on ExchangeV3 for v2 markets);
transactions are sent one at a time in match order (so later matches see earlier transfers); a
trade moves MATCHED -> MINED when its receipt succeeds, MINED -> CONFIRMED on the next poll
(one poll stands for finality: the chain only reorganises when an admin asks for it), or to
FAILED when the transaction reverts or cannot be sent. Nothing is sent or polled while a reorg
runs (``quiet``); afterwards a trade follows its transaction: FAILED when it was dropped, MINED
again (then CONFIRMED) in its new block, under its new hash when it was sent anew.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum, unique

from sandbox.clob.engine import BookOrder, MakerFill
from sandbox.clob.settle_calls import MakerPart, settlement_call
from sandbox.reorg import ReorgResult
from sandbox.rpc import Rpc, RpcError

log = logging.getLogger(__name__)


@unique
class TradeStatus(StrEnum):
    """Settlement state of a trade, as /data/trades reports it."""

    MATCHED = "MATCHED"  # matched off-chain, transaction sent or about to be
    MINED = "MINED"  # included in a block
    CONFIRMED = "CONFIRMED"  # final (one settlement poll after MINED)
    FAILED = "FAILED"  # reverted or never sent


@dataclass
class Trade:
    """One match: a taker order against one or more maker orders."""

    id: str
    taker: BookOrder
    fills: tuple[MakerFill, ...]
    market: str
    outcome: str
    match_time: int
    exchange: str  # the contract the trade settles on
    fee: int = 0  # micro-pUSD the taker pays (BUY: on top of its cost; SELL: from its proceeds)
    status: TradeStatus = TradeStatus.MATCHED
    tx_hash: str | None = None
    block_number: int | None = None
    last_update: int = 0
    matched_at: float = 0.0  # the match's wall-clock time with sub-second precision

    @property
    def shares(self) -> int:
        """Total shares traded."""
        return sum(f.shares for f in self.fills)

    @property
    def usd(self) -> int:
        """Total pUSD the taker paid or received."""
        return sum(f.taker_usd for f in self.fills)

    @property
    def complement(self) -> bool:
        """True when the makers are on the other outcome (a mint or merge match)."""
        return self.fills[0].complement

    def taker_amounts(self) -> tuple[int, int]:
        """Return (making, taking) of the taker order."""
        if self.taker.side == 0:
            return self.usd, self.shares
        return self.shares, self.usd


class Settler:
    """Sends settlement transactions and follows their receipts."""

    def __init__(self, rpc: Rpc, operator: str) -> None:
        self.rpc = rpc
        self.operator = operator
        self._send_lock = asyncio.Lock()
        self._poll_lock = asyncio.Lock()
        self._pending: dict[str, Trade] = {}
        self._mined: list[Trade] = []

    async def submit(self, trade: Trade, now: int) -> None:
        """Send the settle transaction of a trade; on failure mark it FAILED."""
        call = settlement_call(
            trade.exchange,
            trade.taker,
            trade.taker_amounts(),
            [MakerPart(f.maker, f.making, f.taking) for f in trade.fills],
            bytes.fromhex(trade.market[2:]) if trade.complement else None,
            trade.fee,
        )
        async with self._send_lock:
            try:
                trade.tx_hash = await self.rpc.send(
                    self.operator, call.to, call.signature, *call.args, gas=call.gas
                )
            except (RpcError, OSError) as exc:
                log.warning("settlement of trade %s failed to send: %s", trade.id, exc)
                trade.status = TradeStatus.FAILED
                trade.last_update = now
                return
        self._pending[trade.tx_hash] = trade

    async def poll(self, now: int) -> None:
        """Confirm trades mined at the previous poll, then check receipts of pending ones."""
        async with self._poll_lock:
            await self._poll(now)

    async def _poll(self, now: int) -> None:
        for trade in self._mined:
            trade.status = TradeStatus.CONFIRMED
            trade.last_update = now
        self._mined = []
        for tx_hash, trade in list(self._pending.items()):
            rec = await self.rpc.receipt(tx_hash)
            if rec is None:
                continue
            del self._pending[tx_hash]
            trade.block_number = int(rec["blockNumber"], 16)
            ok = int(rec["status"], 16) == 1
            trade.status = TradeStatus.MINED if ok else TradeStatus.FAILED
            trade.last_update = now
            if ok:
                self._mined.append(trade)
            else:
                log.warning("settlement of trade %s reverted in %s", trade.id, tx_hash)

    @asynccontextmanager
    async def quiet(self) -> AsyncIterator[None]:
        """Send and poll nothing while the caller reorganises the chain."""
        async with self._send_lock, self._poll_lock:
            yield

    def follow(self, trades: list[Trade], reorg: ReorgResult, now: int) -> None:
        """Move the trades of a reorganised range to where their transactions are now."""
        dropped = set(reorg.dropped)
        for trade in trades:
            old = trade.tx_hash
            if old is None or (old not in dropped and old not in reorg.moved):
                continue
            self._pending.pop(old, None)
            self._mined = [t for t in self._mined if t is not trade]
            trade.last_update = now
            if old in dropped:
                trade.status = TradeStatus.FAILED
                continue
            moved = reorg.moved[old]
            trade.tx_hash, trade.block_number = moved.tx_hash, moved.block_number
            trade.status = TradeStatus.MINED if moved.ok else TradeStatus.FAILED
            if moved.ok:
                self._mined.append(trade)

    def pending(self) -> int:
        """Return the number of trades waiting for a receipt."""
        return len(self._pending)
