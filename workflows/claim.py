"""ClaimWorkflow `claim/<holder>/<condition_id>`: wait for a market to resolve, then redeem the
holder's position in it once, and report.

Invariants:
- One per wallet and market, ever (the id; duplicates rejected by whoever starts it).
- Waiting costs little: one resolution read per timer, the timers backing off to a ceiling
  (`projectk.claims.resolution_wait`); continue-as-new carries the count.
- Never twice: the redeem transaction is signed in one activity, so its hash is in history;
  the ledger row moves to `sent` with that hash before `send_redeem` runs; `send_redeem` waits
  for that very transaction if the chain has it. A new signature is made only when the chain
  says the old one can never be mined (its nonce was used by another transaction).
- A position whose payout is 0 (lost, or nothing held) is recorded `lost` with nothing sent.
- Low gas never fails a claim: it raises one alert and waits, backing off, until funded.
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.claim_ledger import ClaimLedgerActivities
    from activities.claims import ClaimActivities
    from activities.ledger import LedgerActivities
    from projectk import claims, contract
    from projectk.contract import CLAIM_WORKFLOW, pair_workflow_id
    from projectk.messages import (
        ClaimBalancesInput,
        ClaimReport,
        ClaimResult,
        ClaimTarget,
        ClaimWorkflowInput,
        GasCheckInput,
        PairsOfHolderInput,
        RaiseAlertInput,
        RecordClaimInput,
        RedeemOutcome,
        RedeemReceipt,
        Resolution,
        ResolutionInput,
        SendRedeemInput,
        SignRedeemInput,
    )
    from projectk.models import MICRO, AlertKind, AlertLevel, ClaimStatus
    from workflows import policies

MAX_SIGNATURES = 3  # new signatures after replaced transactions before giving up


@workflow.defn(name=CLAIM_WORKFLOW)
class ClaimWorkflow:
    """Redeem one wallet's position in one market after it resolves."""

    @workflow.init
    def __init__(self, data: ClaimWorkflowInput) -> None:
        self._data = data
        self._checks = data.checks
        self._gas_waits = data.gas_waits
        self._status = ClaimStatus.WAITING

    @workflow.query(name="claim_status")
    def status(self) -> str:
        """Return the claim's current ClaimStatus value."""
        return self._status.value

    @workflow.run
    async def run(self, data: ClaimWorkflowInput) -> ClaimResult:
        """Wait for resolution, redeem once, record, notify."""
        if data.checks == 0 and data.gas_waits == 0:
            await self._record(ClaimStatus.WAITING)
        target = _with_tokens(data.target)
        resolution = await self._wait_for_resolution()
        shares = await self._balances(target)
        stakes = dict(zip(claims.BINARY_INDEX_SETS, shares, strict=False))
        expected = claims.payout_micro(stakes, resolution.numerators, resolution.denominator)
        if expected == 0:
            held = "lost" if any(shares) else "nothing held"
            return await self._finish(ClaimStatus.LOST, target, resolution, None, held=held)
        try:
            receipt = await self._redeem(target, shares)
        except ActivityError as err:
            return await self._fail(target, f"redeem impossible: {_cause(err)}")
        if receipt.outcome is not RedeemOutcome.MINED:
            return await self._fail(target, _failure_text(receipt))
        return await self._finish(ClaimStatus.REDEEMED, target, resolution, receipt, expected)

    # -- steps -------------------------------------------------------------------------------

    async def _wait_for_resolution(self) -> Resolution:
        cid = self._data.target.condition_id
        while True:
            resolution = await workflow.execute_activity_method(
                ClaimActivities.read_resolution,
                ResolutionInput(condition_id=cid),
                start_to_close_timeout=policies.CLAIM_READ_TIMEOUT,
                retry_policy=policies.CLAIM_RETRY,
            )
            if claims.is_resolved(resolution.denominator):
                return resolution
            await workflow.sleep(claims.resolution_wait(self._checks))
            self._checks += 1
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    self._data.model_copy(update={"checks": self._checks, "gas_waits": 0})
                )

    async def _balances(self, target: ClaimTarget) -> list[int]:
        result = await workflow.execute_activity_method(
            ClaimActivities.read_claim_balances,
            ClaimBalancesInput(holder=target.holder, token_ids=target.token_ids),
            start_to_close_timeout=policies.CLAIM_READ_TIMEOUT,
            retry_policy=policies.CLAIM_RETRY,
        )
        return result.shares_micro

    async def _redeem(self, target: ClaimTarget, shares: list[int]) -> RedeemReceipt:
        """Sign, record as sent, send; sign anew only after a replaced transaction."""
        for attempt in range(MAX_SIGNATURES):
            await self._wait_for_gas(target)
            signed = await workflow.execute_activity_method(
                ClaimActivities.sign_redeem,
                SignRedeemInput(target=target, shares_micro=shares, attempt=attempt),
                start_to_close_timeout=policies.CLAIM_SIGN_TIMEOUT,
                retry_policy=policies.CLAIM_RETRY,
            )
            await self._record(ClaimStatus.SENT, tx_hash=signed.tx_hash)
            receipt = await workflow.execute_activity_method(
                ClaimActivities.send_redeem,
                SendRedeemInput(signed=signed, holder=target.holder, token_ids=target.token_ids),
                start_to_close_timeout=policies.CLAIM_SEND_TIMEOUT,
                heartbeat_timeout=policies.CLAIM_SEND_HEARTBEAT_TIMEOUT,
                retry_policy=policies.CLAIM_RETRY,
            )
            if receipt.outcome is not RedeemOutcome.REPLACED:
                return receipt
            shares = await self._balances(target)
        return receipt

    async def _wait_for_gas(self, target: ClaimTarget) -> None:
        while True:
            gas = await workflow.execute_activity_method(
                ClaimActivities.check_gas,
                GasCheckInput(key_ref=target.key_ref, holder=target.holder),
                start_to_close_timeout=policies.CLAIM_READ_TIMEOUT,
                retry_policy=policies.CLAIM_RETRY,
            )
            if gas.enough:
                return
            await self._alert(
                f"low_gas:{workflow.info().workflow_id}",
                AlertLevel.HIGH,
                AlertKind.LOW_GAS,
                f"claim of {target.condition_id} for {target.holder} waits: {gas.signer} has "
                f"{_pol(gas.balance_wei)} POL, needs {_pol(gas.threshold_wei)}",
            )
            await workflow.sleep(claims.gas_wait(self._gas_waits))
            self._gas_waits += 1

    # -- endings -----------------------------------------------------------------------------

    async def _finish(
        self,
        status: ClaimStatus,
        target: ClaimTarget,
        resolution: Resolution,
        receipt: RedeemReceipt | None,
        expected: int = 0,
        held: str = "lost",
    ) -> ClaimResult:
        payout = (receipt.payout_micro or expected) if receipt else 0
        tx = receipt.tx_hash if receipt else None
        gas = receipt.gas_used if receipt else None
        await self._record(status, payout_micro=payout, tx_hash=tx, gas_used=gas)
        pusd = Decimal(payout) / MICRO
        what = f"redeemed {pusd} pUSD (tx {tx}, gas {gas})" if tx else f"{held}: payout 0"
        await self._alert(
            f"claimed:{workflow.info().workflow_id}",
            AlertLevel.MEDIUM,
            AlertKind.CLAIMED,
            f"claim of {target.condition_id} for {target.holder}: {what}",
        )
        await self._notify_pairs(target, resolution, status, tx)
        return ClaimResult(
            status=status.value, payout_micro=payout, tx_hash=tx, gas_used=gas, checks=self._checks
        )

    async def _fail(self, target: ClaimTarget, reason: str) -> ClaimResult:
        await self._record(ClaimStatus.FAILED)
        await self._alert(
            f"claim_failed:{workflow.info().workflow_id}",
            AlertLevel.HIGH,
            AlertKind.FAILED,
            f"claim of {target.condition_id} for {target.holder} failed: {reason}",
        )
        return ClaimResult(status=ClaimStatus.FAILED.value, checks=self._checks)

    async def _notify_pairs(
        self, target: ClaimTarget, resolution: Resolution, status: ClaimStatus, tx: str | None
    ) -> None:
        pairs = await workflow.execute_activity_method(
            ClaimLedgerActivities.pairs_of_holder,
            PairsOfHolderInput(holder=target.holder),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )
        report = ClaimReport(
            holder=target.holder,
            condition_id=target.condition_id,
            token_ids=target.token_ids,
            numerators=resolution.numerators,
            denominator=resolution.denominator,
            status=status.value,
            tx_hash=tx,
        )
        for pair_id in pairs.pair_ids:
            handle = workflow.get_external_workflow_handle(pair_workflow_id(pair_id))
            try:
                await handle.signal(contract.SIGNAL_CLAIM_FINISHED, report)
            except FailureError as err:  # the pair is not running; its books stay as they are
                workflow.logger.info("pair %s not told of claim: %s", pair_id, err)

    # -- ledger and alerts -------------------------------------------------------------------

    async def _record(self, status: ClaimStatus, **values: int | str | None) -> None:
        self._status = status
        await workflow.execute_activity_method(
            ClaimLedgerActivities.record_claim,
            RecordClaimInput(
                holder=self._data.target.holder,
                condition_id=self._data.target.condition_id,
                status=status.value,
                **values,
            ),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )

    async def _alert(self, key: str, level: AlertLevel, kind: str, message: str) -> None:
        await workflow.execute_activity_method(
            LedgerActivities.raise_alert,
            RaiseAlertInput(
                dedup_key=key, level=level, kind=kind, message=message, pair_id=self._data.pair_id
            ),
            start_to_close_timeout=policies.LEDGER_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )


def _with_tokens(target: ClaimTarget) -> ClaimTarget:
    if len(target.token_ids) != len(claims.BINARY_INDEX_SETS):
        raise ApplicationError(
            "a claim target needs the market's (Yes, No) token ids",
            type=contract.ERROR_INVALID_INPUT,
            non_retryable=True,
        )
    return target


def _pol(wei: int) -> str:
    return f"{Decimal(wei) / claims.WEI_PER_POL:f}"


def _cause(err: ActivityError) -> str:
    cause = err.cause
    return str(cause.message if isinstance(cause, ApplicationError) else err)


def _failure_text(receipt: RedeemReceipt) -> str:
    if receipt.outcome is RedeemOutcome.REVERTED:
        return f"transaction {receipt.tx_hash} reverted"
    if receipt.outcome is RedeemOutcome.GONE:
        return "the tokens left the wallet without ProjectK's transaction (redeemed elsewhere?)"
    return f"transaction {receipt.tx_hash} was replaced {MAX_SIGNATURES} times"
