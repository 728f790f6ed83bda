"""Starting claims: from a running pair (`ClaimStarter`) and from the periodic sweep
(`ClaimSweepWorkflow`, run by the Temporal Schedule `claim-sweep`).

Invariants:
- Every start is idempotent: child id `claim/<holder>/<condition_id>`, duplicate ids rejected
  (also after the claim finished) and an ABANDON parent-close policy, so a second start by a
  pair, another pair of the same wallet, or the sweep is a no-op and a claim outlives whoever
  started it.
- Whether a held market is due is decided by the pure `projectk.claims.due_markets`.
- A pair's check never blocks or fails the pair for long: it runs at most every
  `claim_check_every_s` (pair input, default 6 h), its activity gives up after a few attempts,
  and a failed check waits for the next one.
- Code for use inside workflows only (deterministic: `workflow.now()`, no I/O but activities).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.claim_ledger import ClaimLedgerActivities
    from activities.claims import ClaimActivities
    from projectk import claims, contract
    from projectk.contract import CLAIM_WORKFLOW, claim_workflow_id
    from projectk.messages import (
        ClaimTarget,
        ClaimWorkflowInput,
        HoldingsInput,
        MarketInfoInput,
        MarketInfoResult,
    )
    from projectk.models import PairState
    from workflows import policies


async def start_claim(target: ClaimTarget, pair_id: str | None = None) -> bool:
    """Start the claim of a target as an abandoned child; False if it already exists."""
    try:
        await workflow.start_child_workflow(
            CLAIM_WORKFLOW,
            ClaimWorkflowInput(target=target, pair_id=pair_id),
            id=claim_workflow_id(target.holder, target.condition_id),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            id_reuse_policy=policies.CLAIM_ID_REUSE,
        )
    except WorkflowAlreadyStartedError:
        return False
    workflow.logger.info("claim started for %s in %s", target.holder, target.condition_id)
    return True


async def market_info(token_ids: list[str], retry_quickly: bool) -> MarketInfoResult:
    """Return the markets of tokens (activity)."""
    return await workflow.execute_activity_method(
        ClaimActivities.market_info,
        MarketInfoInput(token_ids=token_ids),
        start_to_close_timeout=policies.CLAIM_READ_TIMEOUT,
        retry_policy=policies.CLAIM_CHECK_RETRY if retry_quickly else policies.CLAIM_RETRY,
    )


class ClaimStarter:
    """A pair's part in claims: every few hours, start claims for held markets that ended."""

    def __init__(self, now: datetime, every_s: float) -> None:
        self.every_s = every_s
        self._every = timedelta(seconds=every_s)
        self._checked_at: datetime | None = now  # the first check comes one period after start
        self._started: set[str] = set()  # condition ids this run already started (or found)

    async def start_due(self, state: PairState) -> None:
        """Start the claims the pair's held markets are due for, when a check is due."""
        now = workflow.now()
        if not claims.held_tokens(state.positions):
            return
        if not claims.check_due(self._checked_at, now, self._every):
            return
        self._checked_at = now
        try:
            found = await market_info(claims.held_tokens(state.positions), retry_quickly=True)
        except ActivityError as err:
            workflow.logger.warning("market check failed, next one later: %s", err)
            return
        for market in claims.due_markets(state.positions, found.markets, now, self._started):
            await start_claim(claims.target_for(state.config, market), state.config.pair_id)
            self._started.add(market.condition_id)


@workflow.defn(name=contract.CLAIM_SWEEP_WORKFLOW)
class ClaimSweepWorkflow:
    """One sweep: start claims for every ended market any pair holds (held before a restart,
    held by a removed pair, or missed by its pair)."""

    @workflow.run
    async def run(self) -> int:
        """Return how many claims this sweep started."""
        holdings = await workflow.execute_activity_method(
            ClaimLedgerActivities.read_holdings,
            HoldingsInput(),
            start_to_close_timeout=policies.CLAIM_READ_TIMEOUT,
            retry_policy=policies.LEDGER_RETRY,
        )
        tokens = sorted({t for p in holdings.pairs for t in claims.held_tokens(p.positions)})
        if not tokens:
            return 0
        found = await market_info(tokens, retry_quickly=False)
        started = 0
        seen: set[str] = set()
        for holding in holdings.pairs:
            due = claims.due_markets(holding.positions, found.markets, workflow.now())
            for market in due:
                target = claims.target_for(holding.config, market)
                key = claim_workflow_id(target.holder, target.condition_id)
                if key in seen:
                    continue
                seen.add(key)
                started += await start_claim(target, holding.config.pair_id)
        return started
