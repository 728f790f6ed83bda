"""Ledger writes as activities.

Invariant: every write is idempotent by its natural key (pair + decision id for an intent or an
outcome, pair + fill id for a skipped fill, the dedup key for an alert), so a retried activity
never writes a row twice. The synchronous ledger runs in a
thread so the worker's event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio

from temporalio import activity

from adapters.ledger import Ledger
from projectk.messages import (
    RaiseAlertInput,
    RecordIntentInput,
    RecordOutcomeInput,
    RecordResult,
    RecordSkipsInput,
)


class LedgerActivities:
    """Write what the workflows decide into the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @activity.defn(name="record_skips")
    async def record_skips(self, data: RecordSkipsInput) -> RecordResult:
        """Record fills a pair decided not to mirror, with the reason and their source order."""
        written = 0
        for skip in data.skips:
            created = await asyncio.to_thread(
                self._ledger.record_skip,
                data.pair_id,
                skip.fill_id,
                skip.token_id,
                skip.side,
                skip.reason,
                skip.order_hash,
            )
            written += int(created)
        return RecordResult(written=written)

    @activity.defn(name="record_intent")
    async def record_intent(self, data: RecordIntentInput) -> RecordResult:
        """Record an order before it is sent (keyed by pair and decision)."""
        created = await asyncio.to_thread(self._ledger.record_intent, data.intent)
        return RecordResult(written=int(created))

    @activity.defn(name="record_outcome")
    async def record_outcome(self, data: RecordOutcomeInput) -> RecordResult:
        """Record the terminal outcome of a mirror flow."""
        changed = await asyncio.to_thread(self._ledger.record_outcome, data.pair_id, data.report)
        return RecordResult(written=int(changed))

    @activity.defn(name="raise_alert")
    async def raise_alert(self, data: RaiseAlertInput) -> RecordResult:
        """Store an alert for the operators, once per dedup key."""
        created = await asyncio.to_thread(
            self._ledger.record_alert,
            data.dedup_key,
            data.level.value,
            data.kind,
            data.message,
            data.pair_id,
        )
        if created:
            activity.logger.info("alert %s [%s]: %s", data.kind, data.level.value, data.message)
        return RecordResult(written=int(created))
