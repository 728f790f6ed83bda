"""PairWorkflow: the long-running entity of one source -> follower pair.

Invariants:
- All of the pair's state is one `PairState`; the `state` query returns it and continue-as-new
  carries it, including the mirror children still in flight.
- A fill is handled at most once: fills at or before the cursor, or remembered as handled, are
  dropped. Fills are folded into their source order (`projectk.decisions`): a pair makes one
  decision per source order (and top-ups where the sizing mode follows the order's total), each
  a child `mirror/<pair_id>/<decision_id>` with duplicate ids rejected and an ABANDON
  parent-close policy, so children outlive continue-as-new.
- An order that must wait (its own mirror, or a BUY in its market, is in flight) is decided again
  after the next report; the poll keeps running meanwhile, so reports and fills never wait on
  each other.
- Only an ACTIVE pair starts children. An emergency stop cancels the in-flight children and
  only an explicit resume restarts the pair.
- No flight is left unmanaged: one whose child never reported by its execution timeout is
  settled from the ledger's recorded trades (`_settle_stale_flights`), its reservation released,
  what may rest in its token cancelled, and an alert raised; a late report is then ignored.
- Handlers change state synchronously first; only then may they await the I/O it implies
  (cancelling children, raising alerts), so no state change is ever split by an await.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.execution_ledger import ExecutionLedgerActivities
    from activities.fills import FillActivities
    from activities.ledger import LedgerActivities
    from activities.markets import MarketActivities
    from projectk import books, decisions
    from projectk.claims import apply_claim
    from projectk.contract import (
        MIRROR_ORDER_WORKFLOW,
        PAIR_WORKFLOW,
        QUERY_STATE,
        SA_PAIR_STATUS,
        SIGNAL_CLAIM_FINISHED,
        SIGNAL_EMERGENCY_STOP,
        SIGNAL_MIRROR_FINISHED,
        SIGNAL_PAUSE,
        SIGNAL_REMOVE,
        SIGNAL_RESUME,
        UPDATE_CONFIG,
        mirror_workflow_id,
    )
    from projectk.messages import (
        ClaimReport,
        ConfigPatch,
        FillBatch,
        MarketOfTokenInput,
        MirrorOrderInput,
        PairWorkflowInput,
        RaiseAlertInput,
        RecordedFillsInput,
        RecordOutcomeInput,
        RecordSkipsInput,
        SkippedFill,
        StopRequest,
        WaitForFillsInput,
    )
    from projectk.models import (
        AlertKind,
        AlertLevel,
        FillCursor,
        InFlight,
        MirrorReport,
        PairConfig,
        PairState,
        PairStatus,
        Position,
        SourceFill,
    )
    from workflows import policies
    from workflows.claim_start import ClaimStarter
    from workflows.pair_upkeep import PairUpkeep

PAIR_STATUS_KEY = SearchAttributeKey.for_keyword(SA_PAIR_STATUS)
POLL_GRACE = timedelta(seconds=60)  # start-to-close slack beyond the long-poll timeout


@workflow.defn(name=PAIR_WORKFLOW)
class PairWorkflow:
    """Poll the source's fills and start one mirror child per eligible fill."""

    @workflow.init
    def __init__(self, data: PairWorkflowInput) -> None:
        state = data.state or PairState(
            config=data.config, cursor=data.start_cursor or FillCursor()
        )
        if data.state is not None:
            state = state.model_copy(update={"runs": state.runs + 1})
        self._state = state
        self._poll_timeout_s = data.poll_timeout_s
        self._mirror_timeout = timedelta(seconds=data.mirror_timeout_s)
        self._alerts: list[books.AlertSpec] = []
        self._to_cancel: list[str] = []  # workflow ids of children to cancel, in order asked
        self._poll_task: asyncio.Task[FillBatch] | None = None
        # A child reported since waiting orders were last decided; true at the start of a run
        # that carries waiting orders (a report may have come just before continue-as-new).
        self._reported = bool(decisions.waiting_orders(state))
        self._published: PairStatus | None = None
        self._upkeep = PairUpkeep(workflow.now())
        self._claims = ClaimStarter(workflow.now(), data.claim_check_every_s)

    @workflow.run
    async def run(self, data: PairWorkflowInput) -> PairState:
        """Run the pair until it is removed, continuing as new when history grows long."""
        del data
        self._publish_status()
        while self._state.status is not PairStatus.REMOVED:
            await self._flush_side_effects()
            if workflow.info().is_continue_as_new_suggested():
                await self._continue_as_new()
            batch = await self._poll()
            if batch is not None:
                await self._handle(batch)
            await self._settle_stale_flights()
            if self._reported:
                self._reported = False
                await self._record(await self._decide_waiting())
            await self._claims.start_due(self._state)
            repaired = await self._upkeep.reconcile_if_due(self.state, self._alerts)
            self._state = repaired or self._state
        # A handler may still be mid-flush (e.g. raising an emergency stop's alert when the
        # removal arrives): ending now would abandon its activity and lose the alert.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush_side_effects()
        return self._state

    # -- handlers: state changes first, then the I/O they imply --------------------------------

    @workflow.signal(name=SIGNAL_PAUSE)
    def pause(self) -> None:
        """Stop starting new mirror orders until resumed."""
        if self._state.status is PairStatus.ACTIVE:
            self._set_status(PairStatus.PAUSED, "paused by operator")

    @workflow.signal(name=SIGNAL_RESUME)
    def resume(self) -> None:
        """Return a paused, blocked or stopped pair to ACTIVE, clearing its failure streak."""
        if self._state.status in (PairStatus.PAUSED, PairStatus.BLOCKED, PairStatus.STOPPED):
            self._state = self._state.model_copy(update={"consecutive_failures": 0})
            self._set_status(PairStatus.ACTIVE, "resumed by operator")

    @workflow.signal(name=SIGNAL_EMERGENCY_STOP)
    async def emergency_stop(self, request: StopRequest) -> None:
        """Stop the pair now: start nothing new and cancel the in-flight children."""
        if self._state.status is PairStatus.REMOVED:
            return
        self._set_status(PairStatus.STOPPED, request.reason)
        self._cancel_in_flight()
        self._upkeep.cancel_open_orders(self._state, request.reason)
        pair = self._state.config.pair_id
        self._alert(f"stopped:{pair}:{workflow.now().isoformat()}", request.reason)
        await self._flush_side_effects()

    @workflow.signal(name=SIGNAL_REMOVE)
    async def remove(self) -> None:
        """End the pair: cancel in-flight children and finish the workflow."""
        self._set_status(PairStatus.REMOVED, "removed by operator")
        self._cancel_in_flight()
        await self._flush_side_effects()

    @workflow.signal(name=SIGNAL_MIRROR_FINISHED)
    async def mirror_finished(self, report: MirrorReport) -> None:
        """Apply a child's report to the books (once per fill), then raise its alerts."""
        self._state, alerts = books.apply_report(self._state, report, workflow.now())
        self._alerts.extend(alerts)
        self._reported = True
        self._publish_status()
        await self._flush_side_effects()

    @workflow.signal(name=SIGNAL_CLAIM_FINISHED)
    def claim_finished(self, report: ClaimReport) -> None:
        """Settle the positions of a market whose claim finished."""
        self._state = apply_claim(self._state, report)

    @workflow.update(name=UPDATE_CONFIG)
    def update_config(self, patch: ConfigPatch) -> PairConfig:
        """Apply a configuration change and return the new configuration."""
        # Only the fields the patch sets; inside them, None is a value (a guard turned off).
        changes = {k: v for k, v in patch.model_dump().items() if getattr(patch, k) is not None}
        config = PairConfig.model_validate({**self._state.config.model_dump(), **changes})
        self._state = self._state.model_copy(update={"config": config})
        return config

    @update_config.validator
    def _validate_config(self, patch: ConfigPatch) -> None:
        if self._state.status is PairStatus.REMOVED:
            raise ValueError("the pair has been removed")
        if patch.budget_micro is not None and patch.budget_micro < self._state.spent_micro:
            raise ValueError(
                f"budget {patch.budget_micro} is below what is already spent "
                f"({self._state.spent_micro})"
            )

    @workflow.query(name=QUERY_STATE)
    def state(self) -> PairState:
        """Return the pair's whole state."""
        return self._state

    # -- the loop ----------------------------------------------------------------------------

    async def _poll(self) -> FillBatch | None:
        """Wait for the poll's batch, a child's report or the removal, whichever comes first.

        The poll keeps running across reports: a report only wakes the loop to decide the orders
        waiting on it. A removal ends the run without waiting for the long poll; the orphaned poll
        only reads, learns of the close at its next heartbeat (within 8 min) and stops.
        """
        if self._poll_task is None:
            self._poll_task = asyncio.ensure_future(
                workflow.execute_activity_method(
                    FillActivities.wait_for_fills,
                    WaitForFillsInput(
                        pair_id=self._state.config.pair_id,
                        source=self._state.config.source,
                        cursor=self._state.cursor,
                        timeout_s=self._poll_timeout_s,
                        rewind_epoch=self._state.rewind_epoch,  # acknowledges applied rewinds
                    ),
                    start_to_close_timeout=timedelta(seconds=self._poll_timeout_s) + POLL_GRACE,
                    heartbeat_timeout=policies.POLL_HEARTBEAT_TIMEOUT,
                    retry_policy=policies.POLL_RETRY,
                )
            )
        task = self._poll_task
        try:
            await workflow.wait_condition(
                lambda: task.done() or self._reported or self._state.status is PairStatus.REMOVED,
                timeout=self._until_stale(),
            )
        except TimeoutError:  # a flight turned stale: the loop settles it
            return None
        if not task.done():
            return None
        self._poll_task = None
        return task.result()

    async def _handle(self, batch: FillBatch) -> None:
        if batch.retracted:
            await self._retract(batch.retracted)
            self._rewind(batch)
        skips: list[SkippedFill] = []
        for fill in batch.fills:
            if not self._is_new(fill):
                continue
            self._state = books.remember_fill(self._state, fill.fill_id)
            self._state = self._state.model_copy(
                update={"cursor": fill.cursor(), "last_fill_at": fill.block_time}
            )
            self._state = decisions.fold_fill(self._state, fill)
            await self._look_up_market(fill.token_id)
            skips += await self._decide(fill.order_key)
        if batch.cursor.key() > self._state.cursor.key():
            self._state = self._state.model_copy(update={"cursor": batch.cursor})
        self._state = decisions.prune_orders(self._state)
        await self._record(skips)

    async def _record(self, skips: list[SkippedFill]) -> None:
        if skips:
            await workflow.execute_activity_method(
                LedgerActivities.record_skips,
                RecordSkipsInput(pair_id=self._state.config.pair_id, skips=skips),
                start_to_close_timeout=policies.LEDGER_TIMEOUT,
                retry_policy=policies.LEDGER_RETRY,
            )

    async def _look_up_market(self, token_id: str) -> None:
        """Learn the token's market once (per-market caps and ordering need it)."""
        if token_id in self._state.markets:
            return
        found = await workflow.execute_local_activity_method(
            MarketActivities.market_of_token,
            MarketOfTokenInput(token_id=token_id),
            start_to_close_timeout=policies.MARKET_LOOKUP_TIMEOUT,
            retry_policy=policies.MARKET_RETRY,
        )
        markets = {**self._state.markets, token_id: found.condition_id}
        self._state = self._state.model_copy(update={"markets": markets})

    def _until_stale(self) -> timedelta | None:
        # Time until the oldest flight turns stale (None: nothing in flight), so a long poll
        # never delays the watchdog.
        if not self._state.in_flight:
            return None
        oldest = min(f.started_at for f in self._state.in_flight.values())
        due = oldest + self._mirror_timeout + policies.STALE_FLIGHT_GRACE - workflow.now()
        return max(due, timedelta(seconds=1))

    async def _settle_stale_flights(self) -> None:
        """Settle each flight whose child never reported: keep what the ledger says it filled,
        release its reservation, cancel what may rest in its token, and alert."""
        stale_after = self._mirror_timeout + policies.STALE_FLIGHT_GRACE
        for flight in books.stale_flights(self._state, workflow.now(), stale_after):
            fills = await workflow.execute_activity_method(
                ExecutionLedgerActivities.recorded_fills,
                RecordedFillsInput(
                    pair_id=self._state.config.pair_id, decision_id=flight.decision_id
                ),
                start_to_close_timeout=policies.LEDGER_TIMEOUT,
                retry_policy=policies.LEDGER_RETRY,
            )
            if flight.decision_id not in self._state.in_flight:
                continue  # its report arrived while the ledger was read
            report = books.stale_report(
                flight, fills.filled_shares_micro, fills.notional_micro, fills.fee_micro
            )
            self._state, alerts = books.apply_report(self._state, report, workflow.now())
            self._alerts.extend(alerts)
            self._reported = True
            others = [f for f in self._state.in_flight.values() if f.token_id == flight.token_id]
            if fills.order_ids and not others:
                self._upkeep.cancel_open_orders_in(self._state, [flight.token_id], report.reason)
            pair = self._state.config.pair_id
            self._alerts.append(
                books.AlertSpec(
                    f"stale:{pair}:{flight.decision_id}",
                    AlertLevel.HIGH,
                    AlertKind.FAILED,
                    f"pair {pair}: mirror {flight.workflow_id} never reported within its "
                    f"execution timeout; settled from its recorded trades "
                    f"({fills.filled_shares_micro} share-micro filled), reservation released"
                    + ("" if not fills.order_ids or others else ", open orders cancelled"),
                )
            )
            await workflow.execute_activity_method(
                LedgerActivities.record_outcome,
                RecordOutcomeInput(pair_id=pair, report=report),
                start_to_close_timeout=policies.LEDGER_TIMEOUT,
                retry_policy=policies.LEDGER_RETRY,
            )
            await self._flush_side_effects()

    async def _decide_waiting(self) -> list[SkippedFill]:
        skips: list[SkippedFill] = []
        for key in decisions.waiting_orders(self._state):
            skips += await self._decide(key)
        return skips

    async def _decide(self, key: str) -> list[SkippedFill]:
        """Start a mirror decision for a source order, or return its fills skipped (and why)."""
        outcome = decisions.decide(self._state, key, workflow.now())
        if isinstance(outcome, decisions.Wait):
            return []
        order = self._state.orders[key]
        if isinstance(outcome, decisions.Start):
            if await self._start_child(outcome):
                return []
            fill_ids: list[str] = list(outcome.fill_ids)
            reason = f"source order already has mirror {outcome.decision_id} (seen before)"
            return [
                SkippedFill(
                    fill_id=fill_id,
                    token_id=order.token_id,
                    side=order.side,
                    reason=reason,
                    order_hash=order.key,
                )
                for fill_id in fill_ids
            ]
        self._state, fill_ids = decisions.skip_undecided(self._state, key)
        return [
            SkippedFill(
                fill_id=fill_id,
                token_id=order.token_id,
                side=order.side,
                reason=outcome.reason,
                order_hash=order.key,
            )
            for fill_id in fill_ids
        ]

    async def _retract(self, fill_ids: list[str]) -> None:
        """Cancel the mirror of each fill a reorg took back, and tell the operators."""
        pair = self._state.config.pair_id
        for fill_id in fill_ids:
            flight = next(
                (f for f in self._state.in_flight.values() if fill_id in f.fill_ids), None
            )
            if flight is not None:
                self._to_cancel.append(flight.workflow_id)
                what = "its mirror flow was cancelled; any part already filled is kept"
            elif fill_id in self._state.recent_fill_ids:
                what = "it was already handled (mirrored or skipped): check the position"
            else:
                continue  # never seen by this pair
            self._alerts.append(
                books.AlertSpec(
                    f"reorg:{pair}:{fill_id}",
                    AlertLevel.HIGH,
                    AlertKind.REORG,
                    f"pair {pair}: source fill {fill_id} was retracted by a chain reorg; {what}",
                )
            )
        await self._flush_side_effects()

    def _rewind(self, batch: FillBatch) -> None:
        """After a reorg, read from the fork again; handled fills are then known by their id."""
        first = batch.fills[0] if batch.fills else None
        base = FillCursor(block=first.block_number, log_index=-1) if first else batch.cursor
        epoch = max(self._state.rewind_epoch, batch.rewind_epoch)
        update: dict[str, object] = {"rewind_epoch": epoch}  # each rewind is handed once
        if base.key() < self._state.cursor.key():
            update["cursor"] = base
        self._state = self._state.model_copy(update=update)

    def _is_new(self, fill: SourceFill) -> bool:
        if fill.cursor().key() <= self._state.cursor.key():
            return False
        return fill.fill_id not in self._state.recent_fill_ids

    async def _start_child(self, start: decisions.Start) -> bool:
        """Start the decision's mirror child; False if its id already had one."""
        pair_id = self._state.config.pair_id
        order = start.order
        child_id = mirror_workflow_id(pair_id, start.decision_id)
        position = self._state.positions.get(order.token_id, Position())
        # In flight before the start is awaited: a child's report can then never arrive for a
        # flight the pair does not know (e.g. its worker died and the child ran elsewhere).
        flight = InFlight(
            decision_id=start.decision_id,
            workflow_id=child_id,
            side=order.side,
            token_id=order.token_id,
            reserved_micro=start.reserved_micro,
            started_at=workflow.now(),
            order_key=order.key,
            market=self._state.markets.get(order.token_id, ""),
            fill_ids=list(start.fill_ids),
        )
        self._state = decisions.start_flight(self._state, start, flight)
        try:
            await workflow.start_child_workflow(
                MIRROR_ORDER_WORKFLOW,
                MirrorOrderInput(
                    pair_id=pair_id,
                    parent_workflow_id=workflow.info().workflow_id,
                    config=self._state.config,
                    decision_id=start.decision_id,
                    order=order,
                    source=self._state.config.source,
                    position=position,
                    reserved_micro=start.reserved_micro,
                    want_micro=start.want_micro,
                ),
                id=child_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=policies.MIRROR_ID_REUSE,
                execution_timeout=self._mirror_timeout,
            )
        except WorkflowAlreadyStartedError:
            # Only an order the pair forgot (pruned) or a re-added pair gets here: the id is
            # taken, so the fills are recorded as skipped and no second order is sent.
            workflow.logger.info("decision %s already has a mirror flow", start.decision_id)
            self._state = decisions.abandon_flight(self._state, start.decision_id)
            return False
        if self._state.status in (PairStatus.STOPPED, PairStatus.REMOVED):
            self._to_cancel.append(child_id)  # stopped while the start was in flight
            await self._flush_side_effects()
        return True

    # -- side effects the handlers asked for -------------------------------------------------

    async def _flush_side_effects(self) -> None:
        await self._upkeep.flush()  # the follower's open orders
        while self._to_cancel:
            child_id = self._to_cancel.pop(0)
            try:
                await workflow.get_external_workflow_handle(child_id).cancel()
            except FailureError as err:  # already finished: its report is on the way or applied
                workflow.logger.info("child %s not cancelled: %s", child_id, err)
        while self._alerts:
            spec = self._alerts.pop(0)
            await workflow.execute_activity_method(
                LedgerActivities.raise_alert,
                RaiseAlertInput(
                    dedup_key=spec.dedup_key,
                    level=spec.level,
                    kind=spec.kind,
                    message=spec.message,
                    pair_id=self._state.config.pair_id,
                ),
                start_to_close_timeout=policies.LEDGER_TIMEOUT,
                retry_policy=policies.LEDGER_RETRY,
            )

    async def _continue_as_new(self) -> None:
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush_side_effects()
        workflow.continue_as_new(
            PairWorkflowInput(
                config=self._state.config,
                state=self._state,
                poll_timeout_s=self._poll_timeout_s,
                claim_check_every_s=self._claims.every_s,
                mirror_timeout_s=self._mirror_timeout.total_seconds(),
            )
        )

    # -- helpers -----------------------------------------------------------------------------

    def _set_status(self, status: PairStatus, reason: str) -> None:
        self._state = self._state.model_copy(update={"status": status, "status_reason": reason})
        self._publish_status()

    def _publish_status(self) -> None:
        if self._published is self._state.status:
            return
        self._published = self._state.status
        workflow.upsert_search_attributes([PAIR_STATUS_KEY.value_set(self._state.status.value)])

    def _cancel_in_flight(self) -> None:
        for flight in sorted(self._state.in_flight.values(), key=lambda f: f.started_at):
            if flight.workflow_id not in self._to_cancel:
                self._to_cancel.append(flight.workflow_id)

    def _alert(self, dedup_key: str, message: str) -> None:
        pair = self._state.config.pair_id
        self._alerts.append(
            books.AlertSpec(
                dedup_key, AlertLevel.CRITICAL, AlertKind.STOPPED, f"pair {pair} stopped: {message}"
            )
        )
