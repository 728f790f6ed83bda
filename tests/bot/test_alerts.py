"""Alert delivery: critical and high at once, medium debounced per pair and kind, low batched;
delivered alerts are marked and never resent, failed sends are retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.ledger import AlertKind, AlertLevel, Ledger
from bot.alerts import AlertDispatcher, AlertRhythm
from tests.bot.conftest import OTHER_OWNER, OWNER, BotFactory, FakeClock
from tests.bot.fake_api import FakeBotApi

RHYTHM = AlertRhythm(debounce_s=300, batch_s=3600)


class Outbox:
    """A sender that records texts and can be made to fail."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.failing = False

    async def send(self, text: str) -> bool:
        """Record the text; report failure when told to."""
        if self.failing:
            return False
        self.texts.append(text)
        return True

    def take(self) -> list[str]:
        """Return and forget what was sent."""
        sent, self.texts = self.texts, []
        return sent


@pytest.fixture
def timed_ledger(ledger: Ledger, clock: FakeClock) -> Iterator[Ledger]:
    """Yield the test ledger stamping alerts with the fake clock."""
    yield Ledger(ledger.engine, clock=clock.wall)


def alert(ledger: Ledger, key: str, level: AlertLevel, kind: str, pair: str = "p1") -> None:
    """Queue an alert whose message is its dedup key."""
    assert ledger.record_alert(key, level, kind, key, pair_id=pair)


async def test_critical_and_high_go_at_once_one_message_each(
    timed_ledger: Ledger, clock: FakeClock
) -> None:
    outbox = Outbox()
    dispatcher = AlertDispatcher(timed_ledger, outbox.send, RHYTHM, clock.wall)
    alert(timed_ledger, "blocked-1", AlertLevel.CRITICAL, AlertKind.BLOCKED)
    alert(timed_ledger, "gas-1", AlertLevel.HIGH, AlertKind.LOW_GAS)
    alert(timed_ledger, "reorg-1", AlertLevel.HIGH, AlertKind.REORG)
    assert await dispatcher.tick() == 3
    sent = outbox.take()
    assert len(sent) == 3
    assert sent[0].startswith("🚨 blocked · p1: blocked-1")
    assert sent[1].startswith("⚠️ low_gas") and sent[2].startswith("⚠️ reorg")
    assert timed_ledger.pending_alerts() == []


async def test_medium_is_debounced_per_pair_and_kind(
    timed_ledger: Ledger, clock: FakeClock
) -> None:
    outbox = Outbox()
    dispatcher = AlertDispatcher(timed_ledger, outbox.send, RHYTHM, clock.wall)
    alert(timed_ledger, "fill-1", AlertLevel.MEDIUM, AlertKind.FILLED)
    await dispatcher.tick()
    assert outbox.take() == ["🔔 filled · p1: fill-1"]  # the first of a quiet key: at once
    clock.advance(10)
    alert(timed_ledger, "fill-2", AlertLevel.MEDIUM, AlertKind.FILLED)
    alert(timed_ledger, "fill-3", AlertLevel.MEDIUM, AlertKind.FILLED)
    alert(timed_ledger, "part-1", AlertLevel.MEDIUM, AlertKind.PARTIAL)  # another kind
    alert(timed_ledger, "fill-p2", AlertLevel.MEDIUM, AlertKind.FILLED, pair="p2")  # another pair
    assert await dispatcher.tick() == 2
    assert sorted(outbox.take()) == ["🔔 filled · p2: fill-p2", "🔔 partial · p1: part-1"]
    clock.advance(289)  # 299 s after the first p1 fill
    assert await dispatcher.tick() == 0
    assert outbox.take() == []
    clock.advance(1)
    assert await dispatcher.tick() == 2
    assert outbox.take() == ["🔔 2 x filled · p1:\n• fill-2\n• fill-3"]
    assert timed_ledger.pending_alerts() == []


async def test_low_is_batched_into_one_digest_per_period(
    timed_ledger: Ledger, clock: FakeClock
) -> None:
    outbox = Outbox()
    dispatcher = AlertDispatcher(timed_ledger, outbox.send, RHYTHM, clock.wall)
    alert(timed_ledger, "rec-1", AlertLevel.LOW, AlertKind.RECONCILED)
    clock.advance(1800)
    alert(timed_ledger, "rec-2", AlertLevel.LOW, AlertKind.RECONCILED, pair="p2")
    assert await dispatcher.tick() == 0
    clock.advance(1799)
    assert await dispatcher.tick() == 0
    clock.advance(1)  # the oldest has waited an hour
    assert await dispatcher.tick() == 2
    (digest,) = outbox.take()
    assert digest.startswith("📝 2 low-priority alert(s):")
    assert "rec-1" in digest and "rec-2" in digest
    assert timed_ledger.pending_alerts() == []


async def test_delivered_alerts_are_not_resent_after_a_restart_and_failures_retry(
    timed_ledger: Ledger, clock: FakeClock
) -> None:
    outbox = Outbox()
    alert(timed_ledger, "stop-1", AlertLevel.CRITICAL, AlertKind.STOPPED)
    outbox.failing = True
    first = AlertDispatcher(timed_ledger, outbox.send, RHYTHM, clock.wall)
    assert await first.tick() == 0
    assert [a.dedup_key for a in timed_ledger.pending_alerts()] == ["stop-1"]  # kept for later
    outbox.failing = False
    assert await first.tick() == 1
    restarted = AlertDispatcher(timed_ledger, outbox.send, RHYTHM, clock.wall)
    assert await restarted.tick() == 0
    assert outbox.take() == ["🚨 stopped · p1: stop-1"]
    assert timed_ledger.list_alerts()[0].delivered_at == clock.wall()


@pytest.mark.devserver
async def test_the_running_bot_delivers_alerts_to_every_owner(
    api: FakeBotApi, make_bot: BotFactory, ledger: Ledger, clock: FakeClock
) -> None:
    timed = Ledger(ledger.engine, clock=clock.wall)
    async with make_bot().running():
        alert(timed, "claim-1", AlertLevel.MEDIUM, AlertKind.CLAIMED)
        for owner in (OWNER, OTHER_OWNER):
            await api.wait_text(owner, "claimed · p1: claim-1")
        alert(timed, "claim-2", AlertLevel.MEDIUM, AlertKind.CLAIMED)  # inside the window
        alert(timed, "fail-1", AlertLevel.HIGH, AlertKind.FAILED)
        await api.wait_text(OWNER, "failed · p1: fail-1")
        await api.settle()
        assert not any("claim-2" in t for t in api.texts(OWNER))
        clock.advance(300)
        await api.wait_text(OWNER, "claimed · p1: claim-2")
        await api.settle()
    assert timed.pending_alerts() == []
    assert sum("claim-1" in t for t in api.texts(OWNER)) == 1  # never twice
