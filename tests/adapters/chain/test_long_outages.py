"""A chain that stops, or an RPC endpoint down for days, must not kill detection.

Found by the mirror benchmark: with no new block for a long while, the head poll's back-off
overflowed a float and the tail's loop died without a word, so no pair detected anything again.
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.chain.detection.heads import PollSchedule
from adapters.chain.rpc import COOLDOWN_MAX_S, Endpoint, TokenBucket
from tests.adapters.chain.helpers import make_tail


def test_the_head_poll_backs_off_to_a_cap_however_long_the_chain_is_silent() -> None:
    schedule = PollSchedule(block_time_s=2.0, fast_s=0.015)
    schedule.on_head(100.0, 1)
    for overdue in (4, 100, 2_000, 10**6):
        assert 0 < schedule.delay(1_000.0, overdue) <= 0.5  # a quarter of the block time


def test_an_endpoint_down_for_days_cools_down_at_most_the_cap() -> None:
    endpoint = Endpoint(url="http://node", bucket=TokenBucket(rate=10, burst=1))
    for n in range(5_000):
        endpoint.failed("connection refused", now=float(n))
    assert endpoint.cooldown_until - 4_999 == COOLDOWN_MAX_S


async def test_the_tail_loop_starts_again_after_an_unexpected_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tail = make_tail(["http://127.0.0.1:9"], None, restart_s=0.01)
    runs: list[int] = []
    second_run = asyncio.Event()

    async def flaky_run() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise OverflowError(34, "Numerical result out of range")
        second_run.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(tail, "_run", flaky_run)
    await tail.start()
    try:
        await asyncio.wait_for(second_run.wait(), 5)
    finally:
        await tail.stop()
    assert len(runs) == 2
