"""SIGTERM and SIGHUP stop a command the way Ctrl-C does: its cleanup runs, whole, once."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from cli.tools.stop_signals import StopSignalled, cancel_on_stop_signals, raise_if_signalled


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
async def test_a_stop_signal_runs_the_commands_cleanup_to_its_end(sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    events: list[str] = []

    async def command() -> None:
        with cancel_on_stop_signals() as stop:
            try:
                try:
                    os.kill(os.getpid(), sig)
                    await asyncio.sleep(30)
                    events.append("ran on")
                finally:
                    os.kill(os.getpid(), sig)  # another one while cleaning up
                    await asyncio.sleep(0.2)  # a cleanup that awaits is not cut short
                    events.append("cleaned up")
            except asyncio.CancelledError:
                raise_if_signalled(stop)
                raise

    with pytest.raises(StopSignalled, match=sig.name):
        await asyncio.wait_for(command(), timeout=10)
    assert events == ["cleaned up"]
    assert signal.getsignal(sig) == before


async def test_a_cancellation_without_a_signal_stays_a_cancellation() -> None:
    async def command() -> None:
        with cancel_on_stop_signals() as stop:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                raise_if_signalled(stop)
                raise

    task = asyncio.create_task(command())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_hangup_ignored_as_under_nohup_stays_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with cancel_on_stop_signals() as stop:
            os.kill(os.getpid(), signal.SIGHUP)
            await asyncio.sleep(0.2)
        assert stop.signal is None
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
