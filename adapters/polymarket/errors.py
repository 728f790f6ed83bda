"""Typed errors of the CLOB activities, as Temporal `ApplicationError`s.

Invariants:
- Error types are named in `projectk.contract`: `OrderRejected` is non-retryable;
  `VenueUnavailable` (no answer, 5xx, 425, 503) and `VenueThrottled` (429)
  are retried by the activity's retry policy, a 429 after the delay its Retry-After asked for;
  a 401 is retried too, after the venue dropped the wallet's API credentials to derive anew.
- Messages carry the CLOB's text only, never a key, credential or signature.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from adapters.polymarket.schemas import PostVerdict, Verdict, parse_retry_after
from adapters.polymarket.session import ClobCallError
from projectk.contract import (
    ERROR_ORDER_OUTCOME_UNKNOWN as OUTCOME_UNKNOWN,
)
from projectk.contract import (
    ERROR_ORDER_REJECTED as ORDER_REJECTED,
)
from projectk.contract import (
    ERROR_VENUE_REFUSED as VENUE_REFUSED,
)
from projectk.contract import (
    ERROR_VENUE_THROTTLED as VENUE_THROTTLED,
)
from projectk.contract import (
    ERROR_VENUE_UNAVAILABLE as VENUE_UNAVAILABLE,
)

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
