"""MirrorOrderWorkflow: one source fill becomes at most one follower order flow.

Invariants:
- Its id is `mirror/<pair_id>/<fill_id>` and duplicate ids are rejected, so a fill has one flow.
- The intent is in the ledger before the order is sent.
- However it ends (filled, skipped, failed, cancelled), it records the outcome and signals its
  pair exactly one report, addressed to the pair's workflow id so it reaches the current run.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.chain import ChainActivities
    from activities.ledger import LedgerActivities
    from activities.orders import OrderActivities
    from projectk import policy
    from projectk.contract import MIRROR_ORDER_WORKFLOW, SIGNAL_MIRROR_FINISHED
    from projectk.messages import (
        ExecuteOrderInput,
        ExecutionResult,
        Quote,
        QuoteInput,
        RecordIntentInput,
        RecordOutcomeInput,
        TokenBalanceInput,
    )
    from projectk.models import (
        MirrorOrderInput,
        MirrorOutcome,
        MirrorReport,
        OrderIntent,
        Side,
    )
    from workflows import policies


@workflow.defn(name=MIRROR_ORDER_WORKFLOW)
class MirrorOrderWorkflow:
    """Quote, size under the guards, execute, record, report to the pair."""

    @workflow.run
    async def run(self, data: MirrorOrderInput) -> MirrorReport:
        """Mirror one source fill and report how it ended."""
        try:
            report = await self._mirror(data)
        except asyncio.CancelledError:
            report = self._report(data, MirrorOutcome.CANCELLED, reason="cancelled by the pair")
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):  # the pair cancelled us mid-activity
                report = self._report(data, MirrorOutcome.CANCELLED, reason="cancelled by the pair")
            else:
                report = self._report(data, MirrorOutcome.FAILED, reason=_reason(err))
        await self._record(data, report)
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
        result = await self._execute(data, plan)
        return self._result_report(data, plan, result)

    async def _quote(self, data: MirrorOrderInput) -> Quote:
        return await workflow.execute_activity_method(
            OrderActivities.quote,
            QuoteInput(token_id=data.fill.token_id, reference_price=data.fill.price),
            start_to_close_timeout=policies.QUOTE_TIMEOUT,
            retry_policy=policies.VENUE_RETRY,
        )

    async def _plan(self, data: MirrorOrderInput, quote: Quote) -> OrderIntent | policy.Skip:
        fill = data.fill
        if fill.side is Side.BUY:
            return policy.plan_buy(data.config, fill, quote, data.remaining_budget_micro)
        if data.position.shares_micro == 0:
            return policy.Skip("follower holds no position in this token")
        before = await workflow.execute_activity_method(
            ChainActivities.token_balance,
            TokenBalanceInput(
                wallet=fill.wallet, token_id=fill.token_id, block_number=fill.block_number - 1
            ),
            start_to_close_timeout=policies.CHAIN_READ_TIMEOUT,
            retry_policy=policies.CHAIN_RETRY,
        )
        return policy.plan_sell(data.config, fill, quote, data.position, before.shares_micro)

    async def _execute(self, data: MirrorOrderInput, intent: OrderIntent) -> ExecutionResult:
        return await workflow.execute_activity_method(
            OrderActivities.execute_order,
            ExecuteOrderInput(
                intent=intent,
                key_ref=data.config.key_ref,
                funder=data.config.funder_address,
                order_type=intent.order_type,
            ),
            start_to_close_timeout=policies.EXECUTE_TIMEOUT,
            heartbeat_timeout=policies.EXECUTE_HEARTBEAT_TIMEOUT,
            retry_policy=policies.VENUE_RETRY,
        )

    def _result_report(
        self, data: MirrorOrderInput, intent: OrderIntent, result: ExecutionResult
    ) -> MirrorReport:
        if result.rejected_reason:
            return self._report(data, MirrorOutcome.FAILED, reason=result.rejected_reason)
        if result.filled_shares_micro >= intent.shares_micro:
            outcome = MirrorOutcome.FILLED
        elif result.filled_shares_micro > 0:
            outcome = MirrorOutcome.PARTIAL
        else:
            outcome = MirrorOutcome.UNFILLED
        return MirrorReport(
            fill_id=data.fill.fill_id,
            outcome=outcome,
            token_id=intent.token_id,
            side=intent.side,
            filled_shares_micro=result.filled_shares_micro,
            notional_micro=result.notional_micro,
            fee_micro=result.fee_micro,
            order_id=result.order_id,
        )

    @staticmethod
    def _report(data: MirrorOrderInput, outcome: MirrorOutcome, reason: str) -> MirrorReport:
        return MirrorReport(
            fill_id=data.fill.fill_id,
            outcome=outcome,
            token_id=data.fill.token_id,
            side=data.fill.side,
            reason=reason,
        )

    async def _record(self, data: MirrorOrderInput, report: MirrorReport) -> None:
        await workflow.execute_activity_method(
            LedgerActivities.record_outcome,
            RecordOutcomeInput(pair_id=data.pair_id, report=report),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )

    async def _tell_pair(self, data: MirrorOrderInput, report: MirrorReport) -> None:
        pair = workflow.get_external_workflow_handle(data.parent_workflow_id)
        try:
            await pair.signal(SIGNAL_MIRROR_FINISHED, report)
        except FailureError as err:  # the pair is gone (removed); the ledger has the outcome
            workflow.logger.warning("pair %s did not take the report: %s", data.pair_id, err)


def _reason(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type or 'error'}: {cause.message}"
    return str(cause or err)
