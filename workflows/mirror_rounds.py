"""The order rounds of one mirror flow: sign -> post -> mark posted -> follow -> record trades.

Runs inside MirrorOrderWorkflow (deterministic; all I/O through activities).

Invariants:
- Round 0 places the planned intent; later rounds (FAK only) place what is still unfilled, at the
  same guarded limit price, after a re-quote that shows liquidity within the guard; at most
  `MAX_ORDER_ROUNDS` orders in all. FOK and resting orders (GTC/GTD) get one round.
- Sign, post and ledger writes run shielded from cancellation, and a post is remembered until its
  order has been followed, so `wind_down` can always learn the order's fate, cancel what rests
  and count what filled.
- Ledger writes of the rounds (posted, trades) are local activities: idempotent, fast, and one
  marker event each instead of a round trip through the task queue.
- Fill totals are updated the moment a follow result arrives (before any other await), so a
  cancellation never loses fills the workflow has seen; their ledger rows are written then or
  by `wind_down`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.execution_ledger import ExecutionLedgerActivities
    from activities.orders import OrderActivities
    from projectk import policy
    from projectk.messages import (
        FollowOrderInput,
        FollowOrderResult,
        MarkPostedInput,
        MirrorOrderInput,
        PostOrderInput,
        PostOrderResult,
        Quote,
        RecordExecutionsInput,
        SignedOrder,
        SignOrderInput,
        VenueOrderState,
        Wallet,
    )
    from projectk.models import MirrorOutcome, MirrorReport, OrderIntent, OrderType
    from workflows import policies

RESTING = frozenset({OrderType.GTC, OrderType.GTD})
T = TypeVar("T")


async def _shielded(step: Awaitable[T]) -> T:
    # Steps with an effect outside the workflow (an order, a ledger row) are never cancelled
    # half-way; a cancellation waits for the flow's next await and `wind_down` takes over.
    return await asyncio.shield(asyncio.ensure_future(step))


@dataclass
class _Pending:
    """An order that was (or is being) posted and has not been followed to the end yet."""

    order: SignedOrder
    post: asyncio.Task[PostOrderResult]


class OrderRounds:
    """Place and follow a mirror flow's orders; keep the fill totals."""

    def __init__(
        self,
        data: MirrorOrderInput,
        plan: OrderIntent,
        requote: Callable[[MirrorOrderInput], Awaitable[Quote]],
    ) -> None:
        config = data.config
        self._data = data
        self._plan = plan
        self._requote = requote
        self._wallet = Wallet(
            key_ref=config.key_ref,
            funder=config.funder_address,
            signature_type=config.signature_type,
        )
        self._target = plan.shares_micro
        self._pending: _Pending | None = None
        self._unrecorded: list[FollowOrderResult] = []
        self._order_ids: list[str] = []
        self._note = ""
        self.filled_shares = 0
        self._notional = 0
        self._fee = 0

    @property
    def has_orders(self) -> bool:
        """Tell whether any order may have reached the CLOB."""
        return bool(self._order_ids) or self._pending is not None

    async def run(self, quote: Quote) -> None:
        """Place the plan, then bounded remainder rounds, each followed to a terminal state."""
        intent = self._plan
        for round_no in range(policies.MAX_ORDER_ROUNDS):
            signed = await self._sign(intent, quote, round_no)
            if round_no == 0:
                self._target = signed.shares_micro
            posted = await self._post(signed)
            if posted.state is VenueOrderState.KILLED:
                self._pending, self._note = None, posted.reason
                return
            await self._mark_posted(signed)
            await self._follow(signed, posted, self._deadline(signed.order_type))
            if not self._wants_more(signed):
                return
            await workflow.sleep(policies.REMAINDER_PAUSE)
            quote = await self._requote(self._data)
            nxt = policy.plan_remainder(self._plan, self._target, self.filled_shares, quote)
            if isinstance(nxt, policy.Skip):
                self._note = f"remainder not placed: {nxt.reason}"
                return
            intent = nxt

    async def wind_down(self) -> None:
        """After a cancel or failure: learn the pending order's fate, cancel the rest, record."""
        pending = self._pending
        if pending is not None:
            posted = await self._settled_post(pending)
            if posted is not None and posted.state is not VenueOrderState.KILLED:
                await self._mark_posted(pending.order)
                await self._follow(pending.order, posted, workflow.now(), cancel_now=True)
            self._pending = None
        await self._record_unrecorded()

    def report(self, outcome: MirrorOutcome | None = None, reason: str = "") -> MirrorReport:
        """Return the flow's report from the fill totals."""
        if outcome is None:
            if self.filled_shares >= self._target:
                outcome = MirrorOutcome.FILLED
            elif self.filled_shares > 0:
                outcome = MirrorOutcome.PARTIAL
            else:
                outcome = MirrorOutcome.UNFILLED
        return MirrorReport(
            decision_id=self._data.decision_id,
            outcome=outcome,
            token_id=self._plan.token_id,
            side=self._plan.side,
            filled_shares_micro=self.filled_shares,
            notional_micro=self._notional,
            fee_micro=self._fee,
            order_id=self._order_ids[-1] if self._order_ids else None,
            reason=reason or self._note,
        )

    # -- steps -------------------------------------------------------------------------------

    async def _sign(self, intent: OrderIntent, quote: Quote, round_no: int) -> SignedOrder:
        order_type = intent.order_type
        expiration = 0
        if order_type is OrderType.GTD:
            expires = self._deadline(order_type) + policies.GTD_EXPIRY_MARGIN
            expiration = int(expires.timestamp())
        return await _shielded(
            workflow.execute_activity_method(
                OrderActivities.sign_order,
                SignOrderInput(
                    intent=intent,
                    wallet=self._wallet,
                    order_type=order_type,
                    tick_size=quote.tick_size,
                    neg_risk=quote.neg_risk,
                    expiration=expiration,
                    round=round_no,
                ),
                start_to_close_timeout=policies.SIGN_TIMEOUT,
                heartbeat_timeout=policies.SIGN_HEARTBEAT_TIMEOUT,
                retry_policy=policies.ORDER_RETRY,
            )
        )

    async def _post(self, signed: SignedOrder) -> PostOrderResult:
        task = asyncio.ensure_future(
            workflow.execute_activity_method(
                OrderActivities.post_order,
                PostOrderInput(order=signed, wallet=self._wallet),
                start_to_close_timeout=policies.POST_TIMEOUT,
                heartbeat_timeout=policies.POST_HEARTBEAT_TIMEOUT,
                retry_policy=policies.ORDER_RETRY,
            )
        )
        self._pending = _Pending(signed, task)
        return await asyncio.shield(task)

    async def _mark_posted(self, signed: SignedOrder) -> None:
        await _shielded(
            workflow.execute_local_activity_method(
                ExecutionLedgerActivities.mark_posted,
                MarkPostedInput(
                    pair_id=self._data.pair_id,
                    decision_id=self._data.decision_id,
                    order_id=signed.order_id,
                    limit_price=signed.limit_price,
                ),
                start_to_close_timeout=policies.LEDGER_TIMEOUT,
                retry_policy=policies.LEDGER_RETRY,
            )
        )

    async def _follow(
        self,
        signed: SignedOrder,
        posted: PostOrderResult,
        deadline: datetime,
        cancel_now: bool = False,
    ) -> None:
        left = max(deadline - workflow.now(), timedelta(0))
        result = await workflow.execute_activity_method(
            OrderActivities.follow_order,
            FollowOrderInput(
                order=signed,
                wallet=self._wallet,
                posted=posted,
                deadline=deadline,
                cancel_now=cancel_now,
            ),
            start_to_close_timeout=left + policies.FOLLOW_SLACK,
            heartbeat_timeout=policies.FOLLOW_HEARTBEAT_TIMEOUT,
            retry_policy=policies.ORDER_RETRY,
        )
        self._take(result)
        await self._record_unrecorded()

    def _take(self, result: FollowOrderResult) -> None:
        # Synchronous on purpose: totals and the pending order change together, before any await.
        self._pending = None
        if result.state is not VenueOrderState.MISSING:
            self._order_ids.append(result.order_id)
        self.filled_shares += result.filled_shares_micro
        self._notional += result.notional_micro
        self._fee += result.fee_micro
        if result.trades:
            self._unrecorded.append(result)
        if result.trades_missing:
            self._note = (
                f"the CLOB reported {result.inferred_shares_micro} share-micro filled that no "
                f"trade row showed; counted at the limit price"
            )

    async def _record_unrecorded(self) -> None:
        while self._unrecorded:
            result = self._unrecorded[0]
            await _shielded(
                workflow.execute_local_activity_method(
                    ExecutionLedgerActivities.record_executions,
                    RecordExecutionsInput(
                        pair_id=self._data.pair_id,
                        decision_id=self._data.decision_id,
                        order_id=result.order_id,
                        side=self._plan.side,
                        trades=result.trades,
                    ),
                    start_to_close_timeout=policies.LEDGER_TIMEOUT,
                    retry_policy=policies.LEDGER_RETRY,
                )
            )
            self._unrecorded.pop(0)

    async def _settled_post(self, pending: _Pending) -> PostOrderResult | None:
        # The post ran shielded; wait for its answer. A refusal means nothing is on the CLOB; any
        # other failure leaves the order's fate to a follow that looks it up by hash.
        try:
            return await pending.post
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.non_retryable:
                return None
            return PostOrderResult(order_id=pending.order.order_id, state=VenueOrderState.LIVE)

    def _wants_more(self, signed: SignedOrder) -> bool:
        if signed.order_type is not OrderType.FAK:
            return False
        return self.filled_shares < self._target

    def _deadline(self, order_type: OrderType) -> datetime:
        if order_type in RESTING:
            return workflow.now() + timedelta(seconds=self._data.config.order_deadline_s)
        return workflow.now() + policies.MARKETABLE_DEADLINE
