"""Counts ProjectK's metrics from the activities' results, as a worker interceptor.

The activities stay free of metric calls: this interceptor sees each activity's result (or its
final error) and increments the metrics of `adapters.metrics`:

- `wait_for_fills` → fills detected (per exchange) and detection lag (detected minus block time);
  a fill is counted once per pair that receives it;
- `post_order` → orders posted; `follow_order` → orders filled (any fill), or failed with the
  venue's terminal state as reason;
- `send_redeem` → claims, by outcome;
- an order activity failing for good (non-retryable) → orders failed, by error type.

Invariants: a metric never changes an activity's result or error; results are read by attribute
(duck typing), so a changed result type stops a count, never an activity; label values come from
enums and error types only (bounded), never from free text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from adapters.metrics import (
    CLAIMS,
    DETECTION_LAG,
    FILLS_DETECTED,
    ORDERS_FAILED,
    ORDERS_FILLED,
    ORDERS_POSTED,
)

ORDER_ACTIVITIES = frozenset({"post_order", "follow_order", "sign_order"})


def _label(value: object) -> str:
    return str(getattr(value, "value", value))


def _count_fills(result: Any, now: datetime) -> None:
    for fill in getattr(result, "fills", None) or []:
        FILLS_DETECTED.inc(exchange=_label(getattr(fill, "exchange", "unknown")))
        block_time = getattr(fill, "block_time", None)
        if isinstance(block_time, datetime):
            seen = getattr(fill, "detected_at", None) or now
            DETECTION_LAG.observe(max(0.0, (seen - block_time).total_seconds()))


def record_result(activity_type: str, result: Any, now: datetime | None = None) -> None:
    """Increment the metrics one activity result stands for."""
    if activity_type == "wait_for_fills":
        _count_fills(result, now or datetime.now(UTC))
    elif activity_type == "post_order":
        ORDERS_POSTED.inc()
    elif activity_type == "follow_order":
        if getattr(result, "filled_shares_micro", 0) > 0:
            ORDERS_FILLED.inc()
        else:
            ORDERS_FAILED.inc(reason=_label(getattr(result, "state", "unfilled")))
    elif activity_type == "send_redeem":
        CLAIMS.inc(outcome=_label(getattr(result, "outcome", "unknown")))


def record_error(activity_type: str, error: BaseException) -> None:
    """Count an order activity that failed for good (retried attempts are not failures yet)."""
    if activity_type not in ORDER_ACTIVITIES:
        return
    if isinstance(error, ApplicationError) and error.non_retryable:
        ORDERS_FAILED.inc(reason=error.type or "ApplicationError")


class _ActivityMetrics(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        activity_type = activity.info().activity_type
        try:
            result = await super().execute_activity(input)
        except Exception as exc:
            record_error(activity_type, exc)
            raise
        record_result(activity_type, result)
        return result


class MetricsInterceptor(Interceptor):
    """Worker interceptor counting ProjectK's metrics from activity results."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap activity execution with the counting interceptor."""
        return _ActivityMetrics(next)
