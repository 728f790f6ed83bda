"""Deliver the ledger's alerts to the owners, each level at its own rhythm.

Invariants:
- Critical and high alerts go out on the first tick that sees them, one message each.
- Medium alerts are debounced per key (pair and kind): a key sends at most one message per
  `debounce_s`; alerts of that key arriving inside the window are held and sent together when it
  ends, so the first of a quiet key goes at once and a burst becomes one message.
- Low alerts are batched: one digest of every pending low alert once the oldest of them has
  waited `batch_s`.
- An alert is marked delivered only after its message reached at least one owner, and a
  delivered alert is never sent again (the mark is in the ledger, so a restart does not resend).
  A failed send leaves the alerts pending for the next tick.
- Time comes from an injected clock; `plan` is a pure function of the alerts and the time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from adapters.ledger import AlertRecord, utcnow
from projectk.models import AlertLevel

log = logging.getLogger(__name__)

PENDING_LIMIT = 1000  # alerts read per tick; held ones stay pending and come back next tick
URGENT = (AlertLevel.CRITICAL, AlertLevel.HIGH)
ICONS = {
    AlertLevel.CRITICAL: "🚨",
    AlertLevel.HIGH: "⚠️",
    AlertLevel.MEDIUM: "🔔",
    AlertLevel.LOW: "📝",
}

AlertKey = tuple[str, str]  # (pair id or "-", kind)
Send = Callable[[str], Awaitable[bool]]  # True when at least one owner received the text


@dataclass(frozen=True)
class AlertRhythm:
    """How often medium and low alerts may reach the owners."""

    debounce_s: float = 300.0
    batch_s: float = 3600.0


@dataclass(frozen=True)
class Delivery:
    """One message to send and the alerts it carries."""

    text: str
    alerts: tuple[AlertRecord, ...]
    key: AlertKey | None = None  # set for a medium delivery, to start its debounce window


class AlertStore(Protocol):
    """The part of the ledger the dispatcher uses."""

    def pending_alerts(self, limit: int = 100) -> list[AlertRecord]:
        """Return undelivered alerts, oldest first."""
        ...

    def mark_alert_delivered(self, alert_id: int) -> bool:
        """Mark one alert delivered."""
        ...


def alert_key(alert: AlertRecord) -> AlertKey:
    """Return the debounce key of an alert: its pair and kind."""
    return (alert.pair_id or "-", alert.kind)


def alert_line(alert: AlertRecord) -> str:
    """Return one alert as a line of text."""
    where = f" · {alert.pair_id}" if alert.pair_id else ""
    return f"{ICONS[alert.level]} {alert.kind}{where}: {alert.message}"


def plan(
    pending: Sequence[AlertRecord],
    now: datetime,
    last_sent: dict[AlertKey, datetime],
    rhythm: AlertRhythm,
) -> list[Delivery]:
    """Return the messages due at `now` for the pending alerts."""
    deliveries = [Delivery(alert_line(a), (a,)) for a in pending if a.level in URGENT]
    groups: dict[AlertKey, list[AlertRecord]] = {}
    for alert in pending:
        if alert.level is AlertLevel.MEDIUM:
            groups.setdefault(alert_key(alert), []).append(alert)
    debounce = timedelta(seconds=rhythm.debounce_s)
    for key, alerts in groups.items():
        last = last_sent.get(key)
        if last is None or now - last >= debounce:
            deliveries.append(Delivery(_group_text(key, alerts), tuple(alerts), key))
    low = [a for a in pending if a.level is AlertLevel.LOW]
    if low and now - min(a.created_at for a in low) >= timedelta(seconds=rhythm.batch_s):
        header = f"{ICONS[AlertLevel.LOW]} {len(low)} low-priority alert(s):"
        deliveries.append(Delivery("\n".join([header, *map(alert_line, low)]), tuple(low)))
    return deliveries


def _group_text(key: AlertKey, alerts: list[AlertRecord]) -> str:
    if len(alerts) == 1:
        return alert_line(alerts[0])
    pair, kind = key
    header = f"{ICONS[AlertLevel.MEDIUM]} {len(alerts)} x {kind} · {pair}:"
    return "\n".join([header, *(f"• {a.message}" for a in alerts)])


class AlertDispatcher:
    """Read pending alerts, send what is due, mark what was sent."""

    def __init__(
        self,
        store: AlertStore,
        send: Send,
        rhythm: AlertRhythm = AlertRhythm(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._send = send
        self._rhythm = rhythm
        self._clock = clock
        self._last_sent: dict[AlertKey, datetime] = {}

    async def tick(self) -> int:
        """Deliver everything due now; return how many alerts were marked delivered."""
        now = self._clock()
        delivered = 0
        for delivery in plan(
            self._store.pending_alerts(PENDING_LIMIT), now, self._last_sent, self._rhythm
        ):
            if not await self._send(delivery.text):
                log.warning(
                    "alerts: delivery failed, %d alert(s) stay pending", len(delivery.alerts)
                )
                continue
            for alert in delivery.alerts:
                self._store.mark_alert_delivered(alert.id)
                delivered += 1
            if delivery.key is not None:
                self._last_sent[delivery.key] = now
        return delivered
