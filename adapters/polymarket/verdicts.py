"""What an answer to POST /order says about the order: accepted, rejected or unknown.

Invariants:
- Every answer to posting an order is ACCEPTED, REJECTED or UNKNOWN. UNKNOWN (no answer, a 5xx,
  a body that says nothing) means "look the order up by its hash", never "post a new order".
- "Duplicated." means the CLOB already holds this very order: ACCEPTED.
- A FOK/FAK kill is REJECTED with `killed=True`: the order is done with nothing filled, which
  is an unfilled mirror, not a failure.
- Temporary refusals (401 stale API credentials, 425 engine restart, 429 throttled, 503
  cancel-only) are REJECTED with `retryable=True`: re-posting the same signed order is safe.
- A 200 body is parsed once into `PostOrderAnswer`, kept on the verdict for the venue to convert.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum, unique

from adapters.polymarket.schemas import PostOrderAnswer, WireError
from adapters.polymarket.schemas.common import parse

TEMPORARY_STATUSES = frozenset({401, 425, 429, 503})  # 401: credentials are derived again
KILL_TEXTS = ("FOK orders are fully filled or killed", "no orders found to match with FAK order")
DUPLICATE_TEXT = "Duplicated."


@unique
class Verdict(StrEnum):
    """What an answer to posting an order says about that order."""

    ACCEPTED = "accepted"  # the CLOB holds the order (live, matched or delayed)
    REJECTED = "rejected"  # refused; `retryable` says whether re-posting it later may work
    UNKNOWN = "unknown"  # no usable answer: look the order up by its hash before anything else


@dataclass(frozen=True)
class PostVerdict:
    """A classified answer to POST /order."""

    verdict: Verdict
    reason: str = ""
    retryable: bool = False  # REJECTED for now (425/429/503): the same order may be re-posted
    killed: bool = False  # REJECTED because FOK/FAK found nothing to match: nothing filled
    duplicate: bool = False  # ACCEPTED because the CLOB already had this order
    throttled: bool = False  # REJECTED with 429: wait `retry_after_s` (or a default) first
    retry_after_s: float | None = None  # what a 429 asked us to wait
    answer: PostOrderAnswer | None = None  # the 200 body, when there was a readable one


def classify_post_answer(body: object) -> PostVerdict:
    """Classify the body of a 200 answer to POST /order."""
    try:
        answer = parse(PostOrderAnswer, body, "POST /order")
    except WireError:
        return PostVerdict(Verdict.UNKNOWN, reason=f"unreadable answer: {str(body)[:200]}")
    if answer.success and answer.order_id:
        return PostVerdict(Verdict.ACCEPTED, reason=answer.message, answer=answer)
    if answer.message:
        return classify_post_error(400, answer.message)
    return PostVerdict(Verdict.UNKNOWN, reason="answer without success or error")


def classify_post_error(
    status: int | None, text: str, retry_after: str | None = None
) -> PostVerdict:
    """Classify a failed POST /order by HTTP status (None: no answer) and error text."""
    if status is None or (status >= 500 and status != 503):
        return PostVerdict(Verdict.UNKNOWN, reason=f"no usable answer ({status}): {text}")
    if text.endswith(DUPLICATE_TEXT):
        return PostVerdict(Verdict.ACCEPTED, reason=text, duplicate=True)
    if status in TEMPORARY_STATUSES:
        return PostVerdict(
            Verdict.REJECTED,
            reason=f"{status}: {text}",
            retryable=True,
            throttled=status == 429,
            retry_after_s=parse_retry_after(retry_after) if status == 429 else None,
        )
    killed = any(kill in text for kill in KILL_TEXTS)
    return PostVerdict(Verdict.REJECTED, reason=text, killed=killed)


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks for (HTTP dates are not used by the CLOB)."""
    if not value:
        return None
    try:
        seconds = float(Decimal(value.strip()))
    except (InvalidOperation, ValueError):
        return None
    return max(0.0, seconds)
