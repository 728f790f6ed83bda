"""The Temporal Schedules the worker makes sure exist: the claim sweep.

Invariant: a schedule is created once per namespace; creating it again is a no-op, and an
existing schedule is left as operators may have tuned it.
"""

from __future__ import annotations

import logging

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from projectk import claims, contract

log = logging.getLogger(__name__)


async def ensure_claim_sweep(client: Client, task_queue: str) -> bool:
    """Create the claim-sweep schedule if it does not exist; True if this call created it."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            contract.CLAIM_SWEEP_WORKFLOW, id=contract.CLAIM_SWEEP_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=claims.SWEEP_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(contract.CLAIM_SWEEP_ID, schedule)
    except ScheduleAlreadyRunningError:
        return False
    log.info("claim sweep scheduled every %s on %r", claims.SWEEP_EVERY, task_queue)
    return True
