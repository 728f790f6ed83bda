"""Order activities over an injected venue (paper, sandbox CLOB, live CLOB).

Invariants:
- One activity per step the workflow records: `quote`, `sign_order` (the signed order, never the
  key, enters history), `post_order` (idempotent: the same signed order, looked up by its hash
  before any re-post), `follow_order` (reads and cancels only), `cancel_orders`.
- Venue answers are classified: results for accepted, filled, killed orders; retryable
  `ApplicationError`s for temporary faults; non-retryable ones (`OrderRejected`, `VaultError`)
  for refusals no retry can fix.
- An order status the code does not know is retried (read again, never taken for LIVE) and
  alerted once per order and status, so an operator sees a venue that changed its wire.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.polymarket import Venue
from adapters.vault import VaultError
from projectk import contract
from projectk.messages import (
    CancelOrdersInput,
    CancelOrdersResult,
    FollowOrderInput,
    FollowOrderResult,
    PostOrderInput,
    PostOrderResult,
    Quote,
    QuoteInput,
    SignedOrder,
    SignOrderInput,
)
from projectk.models import AlertLevel

VAULT_ERROR = contract.ERROR_VAULT
UNKNOWN_STATUS = contract.ERROR_VENUE_UNKNOWN_STATUS
ALERT_KIND_VENUE = "venue"


class AlertSink(Protocol):
    """Where an activity leaves an alert for the operators (the ledger)."""

    def record_alert(
        self, dedup_key: str, level: str, kind: str, message: str, pair_id: str | None = None
    ) -> bool:
        """Queue an alert once per dedup key; True if new."""
        ...


def _vault_failure(err: VaultError) -> ApplicationError:
    # The vault's messages never hold a secret (see adapters.vault).
    return ApplicationError(str(err), type=VAULT_ERROR, non_retryable=True)


class OrderActivities:
    """Quote, sign, post, follow and cancel orders on the configured venue."""

    def __init__(self, venue: Venue, alerts: AlertSink | None = None) -> None:
        self._venue = venue
        self._alerts = alerts

    async def _alert_unknown_status(self, err: ApplicationError) -> None:
        if err.type != UNKNOWN_STATUS or self._alerts is None or len(err.details) < 2:
            return
        order_id, status = str(err.details[0]), str(err.details[1])
        message = (
            f"order {order_id}: the CLOB reports status {status!r}, which ProjectK does not "
            "know; it keeps reading the order and never takes it for live"
        )
        await asyncio.to_thread(
            self._alerts.record_alert,
            f"unknown-status:{order_id}:{status}",
            AlertLevel.HIGH.value,
            ALERT_KIND_VENUE,
            message,
        )

    @activity.defn(name="quote")
    async def quote(self, data: QuoteInput) -> Quote:
        """Return the current book, tick size, minimum size and market state of a token."""
        return await self._venue.quote(data)

    @activity.defn(name="sign_order")
    async def sign_order(self, data: SignOrderInput) -> SignedOrder:
        """Build and sign one order with the follower's key (by key_ref)."""
        try:
            signed = await self._venue.sign(data)
        except VaultError as err:
            raise _vault_failure(err) from None
        activity.logger.info(
            "signed %s %s order %s", signed.side.value, signed.order_type.value, signed.order_id
        )
        return signed

    @activity.defn(name="post_order")
    async def post_order(self, data: PostOrderInput) -> PostOrderResult:
        """Post a signed order; on any doubt find it by hash before re-posting the same order."""
        try:
            result = await self._venue.post(data, attempt=activity.info().attempt)
        except VaultError as err:
            raise _vault_failure(err) from None
        except ApplicationError as err:
            await self._alert_unknown_status(err)
            raise
        activity.logger.info("order %s posted: %s", result.order_id, result.state.value)
        return result

    @activity.defn(name="follow_order")
    async def follow_order(self, data: FollowOrderInput) -> FollowOrderResult:
        """Follow an order until terminal (cancelling the rest at the deadline), with its trades."""
        try:
            result = await self._venue.follow(data)
        except VaultError as err:
            raise _vault_failure(err) from None
        except ApplicationError as err:
            await self._alert_unknown_status(err)
            raise
        activity.logger.info(
            "order %s %s: filled %d of %d shares",
            result.order_id,
            result.state.value,
            result.filled_shares_micro,
            data.order.shares_micro,
        )
        return result

    @activity.defn(name="cancel_orders")
    async def cancel_orders(self, data: CancelOrdersInput) -> CancelOrdersResult:
        """Cancel a follower's open orders (emergency stop)."""
        try:
            result = await self._venue.cancel_open(data)
        except VaultError as err:
            raise _vault_failure(err) from None
        activity.logger.info("cancelled %d open orders: %s", len(result.cancelled), data.reason)
        return result
