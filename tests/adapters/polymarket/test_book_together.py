"""Quote reads book and market at once: a failed read fails the quote and leaves nothing behind."""

from __future__ import annotations

import asyncio
import gc

import pytest

from adapters.polymarket.book import _together


async def _answer(value: str, after_s: float) -> str:
    await asyncio.sleep(after_s)
    return value


async def _fail(message: str, after_s: float) -> str:
    await asyncio.sleep(after_s)
    raise ConnectionError(message)


async def test_both_answers_come_back_in_order() -> None:
    assert await _together(_answer("book", 0.02), _answer("market", 0.0)) == ("book", "market")


async def test_a_failure_is_raised_at_once_and_the_other_read_is_cancelled() -> None:
    slow = asyncio.ensure_future(_answer("market", 30.0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ConnectionError, match="book down"):
        await _together(_fail("book down", 0.0), slow)
    assert loop.time() - started < 5.0
    await asyncio.sleep(0)
    assert slow.cancelled()


async def test_when_both_fail_one_is_raised_and_the_other_is_not_left_unseen() -> None:
    unseen: list[object] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unseen.append(context))
    with pytest.raises(ConnectionError):
        await _together(_fail("book down", 0.0), _fail("market down", 0.0))

    gc.collect()
    await asyncio.sleep(0)
    assert unseen == []
