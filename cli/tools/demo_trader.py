"""The demo's source: the sandbox's scripted trader, in a thread that stops when asked.

Invariants:
- `stop` takes effect at the trader's next wait; an order being placed is placed first.
- An error of the trader ends the trading, never the demo: it is logged and, unless the demo is
  stopping, told in the terminal.
- After `cancel_open_orders` the source has no order left on the book, so no new fill of the
  source can happen.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox import trader as scripted

log = logging.getLogger(__name__)

SCENARIO = Path(scripted.__file__).resolve().parent / "scenarios" / "demo.json"

Echo = Callable[[str], None]


class _Stopped(Exception):
    pass


class DemoTrader:
    """Place the demo scenario's orders for the source wallet until stopped."""

    def __init__(self, info: dict[str, Any], key: str, echo: Echo) -> None:
        self._stop = threading.Event()
        self._info, self._key, self._echo = info, key, echo
        self._client: scripted.TraderClient | None = (
            None  # made by `run`; None until it places orders
        )

    def run(self) -> None:
        """Place the scenario's orders until stopped (blocking: run it in a thread)."""
        try:
            with contextlib.suppress(_Stopped):
                scenario = scripted.load_scenario(SCENARIO)
                self._client = scripted.make_client(self._info, self._key)
                scripted.run(
                    self._info,
                    self._key,
                    scenario,
                    self._said,
                    sleep=self._sleep,
                    client=self._client,
                )
        except Exception as exc:
            # Its details go to the log file; the terminal gets one line, and none when the
            # demo is stopping anyway (then the sandbox may be gone first).
            log.info("the source trader stopped on an error", exc_info=True)
            if not self._stop.is_set():
                self._echo(f"source trader stopped on an error: {exc}")

    def stop(self) -> None:
        """Make the trader stop at its next wait."""
        self._stop.set()

    def cancel_open_orders(self) -> int:
        """Cancel the source's orders resting on the book; return how many were cancelled.

        Call it once `run` has returned.
        """
        if self._client is None:
            return 0  # the trader never got as far as placing an order
        result = self._client.cancel_all()
        cancelled = result.get("canceled", []) if isinstance(result, dict) else []
        return len(cancelled)

    def _sleep(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise _Stopped

    def _said(self, step: scripted.Step, result: dict[str, Any] | str) -> None:
        what = f"{step.side} {step.outcome} {step.amount or step.size} {step.order_type}"
        outcome = result.get("status") if isinstance(result, dict) else f"rejected: {result}"
        self._echo(f"source trader: {what} -> {outcome}")
