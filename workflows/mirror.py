"""MirrorOrderWorkflow: one mirror decision for a source order becomes at most one follower
order flow.

Invariants:
- Its id is `mirror/<pair_id>/<decision_id>` and duplicate ids are rejected, so a decision has
  one flow. A BUY never spends more than the pair held back for it (`reserved_micro`).
- The intent is in the ledger before any order is sent; each posted order is marked in the
  ledger and each of its trades recorded (order hash + trade id) before the flow moves on.
- Every order is signed in its own activity, so the signed order (never the key) is in history
  and a retried post re-posts that very order; a new order is only signed for a remainder round,
  at most `MAX_ORDER_ROUNDS` in all, always at the first order's guarded limit price.
- Sign and post are shielded from cancellation: a cancelled flow first learns whether its order
  reached the CLOB, then cancels what rests and keeps what filled.
- However it ends (filled, partial, unfilled, skipped, failed, cancelled), it records the outcome
  and signals its pair exactly one report, addressed to the pair's workflow id.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.chain import ChainActivities
    from activities.ledger import LedgerActivities
    from activities.orders import OrderActivities
    from projectk import policy
    from projectk.contract import MIRROR_ORDER_WORKFLOW, SIGNAL_MIRROR_FINISHED
    from projectk.messages import (
        MirrorOrderInput,
        Quote,
        QuoteInput,
        RaiseAlertInput,
        RecordIntentInput,
        RecordOutcomeInput,
        TokenBalanceInput,
    )
    from projectk.models import (
        MICRO,
        AlertKind,
        AlertLevel,
        MirrorOutcome,
        MirrorReport,
        OrderIntent,
        Side,
    )
    from workflows import policies
    from workflows.mirror_rounds import OrderRounds

_ALERT_KINDS = {MirrorOutcome.FILLED: AlertKind.FILLED, MirrorOutcome.PARTIAL: AlertKind.PARTIAL}


@workflow.defn(name=MIRROR_ORDER_WORKFLOW)
class MirrorOrderWorkflow:
    """Quote, size under the guards, sign, post, follow, record, report to the pair."""

    def __init__(self) -> None:
        self._rounds: OrderRounds | None = None

    @workflow.run
    async def run(self, data: MirrorOrderInput) -> MirrorReport:
        """Mirror one decision for a source order and report how it ended."""
        try:
            report = await self._mirror(data)
        except asyncio.CancelledError:
            report = await self._cancelled(data)
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):  # the pair cancelled us mid-activity
                report = await self._cancelled(data)
            else:
                report = await self._failed(data, _reason(err))
        await self._record(data, report)
        await self._alert(data, report)
        await self._tell_pair(data, report)
        return report

    async def _mirror(self, data: MirrorOrderInput) -> MirrorReport:
        quote = await self._quote(data)
        plan = await self._plan(data, quote)
        if isinstance(plan, policy.Skip):
            return self._report(data, MirrorOutcome.SKIPPED, reason=plan.reason)
        await workflow.execute_activity_method(
            LedgerActivities.record_intent,
            RecordIntentInput(intent=plan),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )
        self._rounds = OrderRounds(data, plan, self._quote)
        await self._rounds.run(quote)
        return self._rounds.report()

    async def _quote(self, data: MirrorOrderInput) -> Quote:
        return await workflow.execute_activity_method(
            OrderActivities.quote,
            QuoteInput(token_id=data.order.token_id, reference_price=data.order.last_price),
            start_to_close_timeout=policies.QUOTE_TIMEOUT,
            retry_policy=policies.VENUE_RETRY,
        )

    async def _plan(self, data: MirrorOrderInput, quote: Quote) -> OrderIntent | policy.Skip:
        order = data.order
        if order.side is Side.BUY:
            return policy.plan_buy(
                data.config, order, data.decision_id, quote, data.want_micro, data.reserved_micro
            )
        if data.position.shares_micro == 0:
            return policy.Skip("follower holds no position in this token")
        # The source's balance before the order's first fill: the order's running total over
        # it is the fraction of its position the source sold.
        before = await workflow.execute_activity_method(
            ChainActivities.token_balance,
            TokenBalanceInput(
                wallet=data.source,
                token_id=order.token_id,
                block_number=order.first_block - 1,
                market_version=order.market_version,
            ),
            start_to_close_timeout=policies.CHAIN_READ_TIMEOUT,
            retry_policy=policies.CHAIN_RETRY,
        )
        return policy.plan_sell(
            data.config, order, data.decision_id, quote, data.position, before.shares_micro
        )

    async def _cancelled(self, data: MirrorOrderInput) -> MirrorReport:
        # Learn whether an order reached the CLOB, cancel what rests, keep what filled.
        if self._rounds is not None:
            await self._rounds.wind_down()
            return self._rounds.report(MirrorOutcome.CANCELLED, "cancelled by the pair")
        return self._report(data, MirrorOutcome.CANCELLED, reason="cancelled by the pair")

    async def _failed(self, data: MirrorOrderInput, reason: str) -> MirrorReport:
        # A failure after some rounds filled must still hand those fills to the books.
        if self._rounds is not None and self._rounds.has_orders:
            await self._rounds.wind_down()
            if self._rounds.filled_shares:
                return self._rounds.report(MirrorOutcome.PARTIAL, reason)
            return self._rounds.report(MirrorOutcome.FAILED, reason)
        return self._report(data, MirrorOutcome.FAILED, reason=reason)

    @staticmethod
    def _report(data: MirrorOrderInput, outcome: MirrorOutcome, reason: str) -> MirrorReport:
        return MirrorReport(
            decision_id=data.decision_id,
            outcome=outcome,
            token_id=data.order.token_id,
            side=data.order.side,
            reason=reason,
        )

    async def _record(self, data: MirrorOrderInput, report: MirrorReport) -> None:
        await workflow.execute_activity_method(
            LedgerActivities.record_outcome,
            RecordOutcomeInput(pair_id=data.pair_id, report=report),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )

    async def _alert(self, data: MirrorOrderInput, report: MirrorReport) -> None:
        # Failures are alerted by the pair's books (they also count towards blocking).
        kind = _ALERT_KINDS.get(report.outcome)
        if kind is None:
            return
        shares = Decimal(report.filled_shares_micro) / MICRO
        pusd = Decimal(report.notional_micro) / MICRO
        await workflow.execute_local_activity_method(
            LedgerActivities.raise_alert,
            RaiseAlertInput(
                dedup_key=f"{kind.value}:{data.pair_id}:{data.decision_id}",
                level=AlertLevel.MEDIUM,
                kind=kind.value,
                message=(
                    f"pair {data.pair_id}: {report.side.value} {shares} shares for {pusd} pUSD "
                    f"({report.outcome.value}) mirroring source order {data.decision_id}"
                ),
                pair_id=data.pair_id,
            ),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )

    async def _tell_pair(self, data: MirrorOrderInput, report: MirrorReport) -> None:
        pair = workflow.get_external_workflow_handle(data.parent_workflow_id)
        try:
            await pair.signal(SIGNAL_MIRROR_FINISHED, report)
        except ApplicationError as err:  # the pair is gone (removed); the ledger has the outcome
            workflow.logger.warning("pair %s did not take the report: %s", data.pair_id, err)


def _reason(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type or 'error'}: {cause.message}"
    return str(cause or err)
