"""Timeouts and retry policies of every activity and child workflow, in one place.

Invariant: a retryable failure is retried with backoff forever unless its type is listed as
non-retryable here or raised as `ApplicationError(non_retryable=True)`; business outcomes
(skips, rejections) are results, not exceptions.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy, WorkflowIDReusePolicy

from projectk import contract

# Error types (ApplicationError.type, named in projectk.contract) that no retry can fix.
NON_RETRYABLE_ERRORS = [
    contract.ERROR_INVALID_INPUT,
    contract.ERROR_VAULT,
    contract.ERROR_ORDER_REJECTED,
    contract.ERROR_VENUE_REFUSED,
]

LEDGER_TIMEOUT = timedelta(seconds=10)
LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

# An idle pair's cost: one wait_for_fills per poll timeout (PROJECTK_FILL_POLL_TIMEOUT_S, an hour by
# default) plus the poll's heartbeats, one per 0.8 x POLL_HEARTBEAT_TIMEOUT (activities/fills.py):
# 8 billable actions an hour. `projectk bench mirror` measures it from the server's own counter.
# The price is that a poller on a worker that died hard (SIGKILL, lost host) is replaced only after
# this timeout; a worker that shuts down gracefully hands its polls over at once, and no fill is
# lost either way (the cursor is in the workflow).
POLL_HEARTBEAT_TIMEOUT = timedelta(minutes=10)
MAX_HEARTBEAT_THROTTLE = timedelta(minutes=8)  # the worker sends at most one heartbeat per this
POLL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

QUOTE_TIMEOUT = timedelta(seconds=15)
EXECUTE_TIMEOUT = timedelta(minutes=5)
EXECUTE_HEARTBEAT_TIMEOUT = timedelta(seconds=30)
VENUE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

# A pair looks up each new token's market (for per-market caps) before deciding on its fills; it
# cannot decide without it, so the lookup is retried until the venue answers.
MARKET_LOOKUP_TIMEOUT = timedelta(seconds=15)
MARKET_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

CHAIN_READ_TIMEOUT = timedelta(seconds=20)
CHAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=30,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

# A mirror flow's execution timeout is PairWorkflowInput.mirror_timeout_s (an hour by default:
# a flow that cannot finish in an hour is stuck).
# A flight older than its child's execution timeout and this grace has a closed child that never
# reported (timed out, terminated, or failed in its wind-down): the pair settles it from the
# ledger (workflows/pair.py). The grace lets a report sent just before the timeout arrive first.
STALE_FLIGHT_GRACE = timedelta(minutes=1)
REPORT_SIGNAL_TIMEOUT = timedelta(seconds=30)
MIRROR_ID_REUSE = WorkflowIDReusePolicy.REJECT_DUPLICATE  # one flow per mirror decision, ever

# Order execution: sign -> post -> follow, bounded remainder rounds.
# Order activities heartbeat at least every 2 s while they wait on the CLOB, so a dead worker is
# noticed within the heartbeat timeout instead of the start-to-close timeout.
SIGN_TIMEOUT = timedelta(seconds=30)  # includes opening the wallet's client on first use
SIGN_HEARTBEAT_TIMEOUT = timedelta(seconds=6)
POST_TIMEOUT = timedelta(seconds=30)  # the client's own timeout is 5 s per request
POST_HEARTBEAT_TIMEOUT = timedelta(seconds=6)
FOLLOW_SLACK = timedelta(seconds=60)  # follow start-to-close = time to the deadline + this
FOLLOW_HEARTBEAT_TIMEOUT = timedelta(seconds=6)
MARKETABLE_DEADLINE = timedelta(seconds=30)  # FAK/FOK are terminal at once; bounds the settle wait
GTD_EXPIRY_MARGIN = timedelta(seconds=90)  # GTD expiration beyond the deadline (CLOB keeps 60 s)
MAX_ORDER_ROUNDS = 3  # the first order plus at most two re-priced remainders
REMAINDER_PAUSE = timedelta(seconds=1)  # let the book refill before re-quoting a remainder
ORDER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=30,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
RECONCILE_TIMEOUT = timedelta(seconds=30)

# -- claims ---------------------------------------------------------------------------------
CLAIM_NON_RETRYABLE_ERRORS = [
    *NON_RETRYABLE_ERRORS,
    contract.ERROR_REDEEM_UNSUPPORTED,
    contract.ERROR_REDEEM_WOULD_REVERT,
]
CLAIM_READ_TIMEOUT = timedelta(seconds=30)
CLAIM_SIGN_TIMEOUT = timedelta(minutes=1)
CLAIM_SEND_TIMEOUT = timedelta(minutes=15)  # broadcast and wait for the receipt
CLAIM_SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)  # a dead sender is retried within this
CLAIM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=CLAIM_NON_RETRYABLE_ERRORS,
)
# A pair's periodic "did my markets end?" check gives up quickly: the next check comes anyway.
CLAIM_CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
CLAIM_ID_REUSE = WorkflowIDReusePolicy.REJECT_DUPLICATE  # one claim per wallet and market, ever
