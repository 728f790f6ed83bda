"""Timeouts and retry policies of every activity and child workflow, in one place.

Invariant: a retryable failure is retried with backoff forever unless its type is listed as
non-retryable here or raised as `ApplicationError(non_retryable=True)`; business outcomes
(skips, rejections) are results, not exceptions.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy, WorkflowIDReusePolicy

# Error types (ApplicationError.type) that no retry can fix.
NON_RETRYABLE_ERRORS = [
    "InvalidInput",  # a value that will not become valid by retrying
    "VaultError",  # the key cannot be opened: wrong passphrase or unknown key_ref
    "OrderRejected",  # the venue refused the order for a reason a retry cannot fix
]

LEDGER_TIMEOUT = timedelta(seconds=10)
LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

POLL_HEARTBEAT_TIMEOUT = timedelta(seconds=15)  # a dead poller is replaced within this
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

CHAIN_READ_TIMEOUT = timedelta(seconds=20)
CHAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    maximum_attempts=30,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)

MIRROR_EXECUTION_TIMEOUT = timedelta(
    hours=1
)  # a mirror flow that cannot finish in an hour is stuck
REPORT_SIGNAL_TIMEOUT = timedelta(seconds=30)
MIRROR_ID_REUSE = WorkflowIDReusePolicy.REJECT_DUPLICATE  # one mirror flow per fill, ever
