"""SIGTERM and SIGHUP end a long-running command the way Ctrl-C does.

`timeout`, `kill`, a supervisor or a closed terminal stop a process with SIGTERM or SIGHUP, whose
default action ends Python at once: no `finally` runs, and whatever the command started in its own
session (a dev server, a worker) is left running. Inside `cancel_on_stop_signals` those signals
cancel the task instead, as asyncio does for Ctrl-C, so the command's own cleanup stops what it
started.

Invariants:
- The first stop signal cancels the task that entered the block, once; later ones are only noted,
  so a second signal never cuts the cleanup short.
- A signal that was ignored when the block was entered (SIGHUP under `nohup`) stays ignored.
- Leaving the block puts back the handlers that were there before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class StopSignalled(Exception):
    """The command was stopped by a signal and has cleaned up; the message names the signal."""


@dataclass
class StopRequest:
    """The stop signal received inside the block, if any."""

    signal: signal.Signals | None = None


@contextlib.contextmanager
def cancel_on_stop_signals() -> Iterator[StopRequest]:
    """Turn SIGTERM and SIGHUP into a cancellation of the current task, as Ctrl-C is."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None, "enter from inside a task"
    request = StopRequest()

    def stop(sig: signal.Signals) -> None:
        if request.signal is None:
            request.signal = sig
            task.cancel(f"stopped by {sig.name}")
        else:
            log.info("%s received while stopping; still stopping", sig.name)

    previous = _install(loop, stop)
    try:
        yield request
    finally:
        _restore(loop, previous)


def raise_if_signalled(request: StopRequest) -> None:
    """Replace the cancellation a stop signal caused with `StopSignalled` (a no-op otherwise)."""
    if request.signal is None:
        return
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()  # the cancellation was ours, and it has been handled
    raise StopSignalled(f"stopped by {request.signal.name}")


def _install(
    loop: asyncio.AbstractEventLoop, stop: Callable[[signal.Signals], None]
) -> dict[signal.Signals, Any]:
    previous = {}
    for sig in STOP_SIGNALS:
        handler = signal.getsignal(sig)
        if handler is signal.SIG_IGN:
            continue
        previous[sig] = handler
        loop.add_signal_handler(sig, stop, sig)
    return previous


def _restore(loop: asyncio.AbstractEventLoop, previous: dict[signal.Signals, Any]) -> None:
    for sig, handler in previous.items():
        loop.remove_signal_handler(sig)
        if handler is not None:  # None: set outside Python, nothing to put back
            signal.signal(sig, handler)
