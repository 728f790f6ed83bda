"""Typed errors of the CLOB activities, as Temporal `ApplicationError`s.

Invariants:
- Error types are named in `projectk.contract`: `OrderRejected` is non-retryable;
  `VenueUnavailable` (no answer, 5xx, 425, 503) and `VenueThrottled` (429)
  are retried by the activity's retry policy, a 429 after the delay its Retry-After asked for;
  a 401 is retried too, after the venue dropped the wallet's API credentials to derive anew.
- An answer this code cannot read is `VenueUnreadable`, an order status it does not know
  `VenueUnknownStatus` (its details: order id, status text; the activity alerts the operators):
  both retried (read again), never taken for a known state.
- A refused order lookup is `OrderOutcomeUnknown` too: only "not found" says the CLOB lacks it.
- A post that was neither refused nor found by hash is `OrderOutcomeUnknown`: retried, and the
  retry looks the order up before re-posting the same order.
- Messages carry the CLOB's text only, never a key, credential or signature.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from adapters.polymarket.schemas import OpenOrder, WireError
from adapters.polymarket.session import ClobCallError
from adapters.polymarket.verdicts import PostVerdict, Verdict, parse_retry_after
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
from projectk.contract import (
    ERROR_VENUE_UNKNOWN_STATUS as UNKNOWN_STATUS,
)
from projectk.contract import (
    ERROR_VENUE_UNREADABLE as VENUE_UNREADABLE,
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


def lookup_failure(err: ClobCallError) -> ApplicationError:
    """Classify a failed order lookup: whatever the status, the order's fate stays unknown.

    A refused lookup (a 4xx) says nothing about the order, so it is retried like no answer,
    never taken as "nothing on the CLOB".
    """
    if err.status == 429:
        return throttled(parse_retry_after(err.retry_after), err.text)
    return ApplicationError(
        f"order lookup failed ({err.status}): {err.text}; its outcome stays unknown",
        type=OUTCOME_UNKNOWN,
    )


def post_failure(verdict: PostVerdict) -> ApplicationError:
    """Return the error for a post that neither was accepted nor killed."""
    if verdict.verdict is not Verdict.REJECTED:  # unknown, duplicate, or of unknown status
        return ApplicationError(
            f"order outcome unknown, not found by hash yet: {verdict.reason}", type=OUTCOME_UNKNOWN
        )
    if verdict.throttled:
        return throttled(verdict.retry_after_s, verdict.reason)
    if verdict.retryable:
        return ApplicationError(f"CLOB unavailable: {verdict.reason}", type=VENUE_UNAVAILABLE)
    return ApplicationError(verdict.reason, type=ORDER_REJECTED, non_retryable=True)


def unreadable(err: WireError) -> ApplicationError:
    """Return the retryable error of an answer that does not have its route's shape."""
    return ApplicationError(f"CLOB answer unreadable: {err}", type=VENUE_UNREADABLE)


def unknown_state(order: OpenOrder) -> ApplicationError:
    """Return the retryable error of an order whose status this code does not know."""
    return ApplicationError(
        f"order {order.id} has a status this code does not know ({order.status_text!r}): "
        "read again",
        order.id,
        order.status_text,
        type=UNKNOWN_STATUS,
    )
