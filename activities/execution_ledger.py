"""Ledger writes of the execution steps: posted orders, trades, and the alerts they raise.

Invariant: every write is idempotent by its natural key ((pair, decision) for a posted order,
(order hash, trade id) for a trade, the dedup key for an alert), so a retried activity never
writes a row twice. The synchronous ledger runs in a thread.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity

from adapters.ledger import Execution, Ledger
from projectk.messages import (
    MarkPostedInput,
    RecordedFills,
    RecordedFillsInput,
    RecordExecutionsInput,
    RecordResult,
)


class ExecutionLedgerActivities:
    """Write what the order activities did into the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @activity.defn(name="mark_posted")
    async def mark_posted(self, data: MarkPostedInput) -> RecordResult:
        """Record that a mirror flow's order (or a remainder order) reached the CLOB."""
        changed = await asyncio.to_thread(
            self._ledger.mark_posted,
            data.pair_id,
            data.decision_id,
            data.order_id,
            data.limit_price,
        )
        return RecordResult(written=int(changed))

    @activity.defn(name="record_executions")
    async def record_executions(self, data: RecordExecutionsInput) -> RecordResult:
        """Record each trade of an order (shares, price, fee, trade id, tx hash)."""
        written = 0
        for trade in data.trades:
            execution = Execution(
                pair_id=data.pair_id,
                decision_id=data.decision_id,
                order_id=data.order_id,
                trade_id=trade.trade_id,
                side=data.side,
                shares_micro=trade.shares_micro,
                price=trade.price,
                notional_micro=trade.notional_micro,
                fee_micro=trade.fee_micro,
                tx_hash=trade.tx_hash,
                executed_at=trade.matched_at or datetime.now(UTC),
            )
            written += int(await asyncio.to_thread(self._ledger.record_execution, execution))
        return RecordResult(written=written)

    @activity.defn(name="recorded_fills")
    async def recorded_fills(self, data: RecordedFillsInput) -> RecordedFills:
        """Return what a mirror decision's recorded trades add up to (read only)."""
        rows = await asyncio.to_thread(
            self._ledger.list_executions, data.pair_id, data.decision_id, 10_000
        )
        order = await asyncio.to_thread(self._ledger.get_order, data.pair_id, data.decision_id)
        posted = {row.order_id for row in rows}
        if order is not None and order.order_id:
            posted.add(order.order_id)
        return RecordedFills(
            filled_shares_micro=sum(row.shares_micro for row in rows),
            notional_micro=sum(row.notional_micro for row in rows),
            fee_micro=sum(row.fee_micro for row in rows),
            order_ids=sorted(posted),
        )
