"""Typed errors of the CLOB activities, as Temporal `ApplicationError`s.

Invariants:
- Error types are the names listed in `workflows.policies`: `OrderRejected` is non-retryable;
  `VenueUnavailable` (no answer, 5xx, 425, 503), `VenueThrottled` (429) and `OrderOutcomeUnknown`
  are retried by the activity's retry policy, a 429 after the delay its Retry-After asked for;
  a 401 is retried too, after the venue dropped the wallet's API credentials to derive anew.
- Messages carry the CLOB's text only, never a key, credential or signature.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from activities.clob_session import ClobCallError
from projectk.clob_responses import PostVerdict, Verdict, parse_retry_after

ORDER_REJECTED = "OrderRejected"
VENUE_UNAVAILABLE = "VenueUnavailable"
VENUE_THROTTLED = "VenueThrottled"
VENUE_REFUSED = "VenueRefused"
OUTCOME_UNKNOWN = "OrderOutcomeUnknown"
DEFAULT_THROTTLE_S = 2.0


def throttled(retry_after_s: float | None, text: str) -> ApplicationError:
    """Return the retryable error of a 429, delayed as the CLOB asked."""
    delay = timedelta(seconds=retry_after_s if retry_after_s is not None else DEFAULT_THROTTLE_S)
    return ApplicationError(
        f"CLOB throttled us: {text}", type=VENUE_THROTTLED, next_retry_delay=delay
    )


def read_failure(err: ClobCallError) -> ApplicationError:
    """Classify a failed read or cancel: temporary faults retry, other refusals do not."""
    if err.status == 429:
        return throttled(parse_retry_after(err.retry_after), err.text)
    if err.status is None or err.status >= 500 or err.status in (401, 425):
        return ApplicationError(
            f"CLOB unavailable ({err.status}): {err.text}", type=VENUE_UNAVAILABLE
        )
    return ApplicationError(
        f"CLOB refused the request ({err.status}): {err.text}",
        type=VENUE_REFUSED,
        non_retryable=True,
    )


def post_failure(verdict: PostVerdict) -> ApplicationError:
    """Return the error for a post that neither was accepted nor killed."""
    if verdict.verdict is Verdict.UNKNOWN or verdict.duplicate:
        return ApplicationError(
            f"order outcome unknown, not found by hash yet: {verdict.reason}", type=OUTCOME_UNKNOWN
        )
    if verdict.throttled:
        return throttled(verdict.retry_after_s, verdict.reason)
    if verdict.retryable:
        return ApplicationError(f"CLOB unavailable: {verdict.reason}", type=VENUE_UNAVAILABLE)
    return ApplicationError(verdict.reason, type=ORDER_REJECTED, non_retryable=True)
