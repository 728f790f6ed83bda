"""Bounded Temporal calls for the bot.

Invariant: updates are handled one at a time, so no Temporal call may hold up the next update
(an emergency /stopall above all): each is awaited for at most `TEMPORAL_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")
TEMPORAL_TIMEOUT_S = 15.0


class TemporalTimeoutError(RuntimeError):
    """Temporal did not answer a bot command in time (e.g. a query with no worker polling)."""


async def bounded(step: Awaitable[T], timeout_s: float = TEMPORAL_TIMEOUT_S) -> T:
    """Await a Temporal call for at most `timeout_s`."""
    try:
        return await asyncio.wait_for(step, timeout_s)
    except TimeoutError:
        raise TemporalTimeoutError(
            f"Temporal did not answer within {timeout_s:.0f} s (is the worker up?)"
        ) from None
