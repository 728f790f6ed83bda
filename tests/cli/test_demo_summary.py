"""The end of a demo: the drain waits for every fill to settle, within its bound, and the summary
accounts for every fill the pairs saw."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.chain.detection.stats import DetectionStats, write_stats
from adapters.ledger import Ledger, OrderStatus, OutcomeCount, open_ledger
from cli.tools.demo_summary import (
    DemoSummary,
    PairOutcome,
    amount,
    drain,
    signed,
    summary_lines,
)
from control.pairs import PairError
from projectk.models import (
    MICRO,
    InFlight,
    MirrorOutcome,
    MirrorReport,
    PairConfig,
    PairState,
    Position,
    Side,
)
from projectk.settings import Settings
from tests.fakes import FOLLOWER, SOURCE, TOKEN, make_fill

CONFIG = PairConfig(
    pair_id="demo-fixed",
    source=SOURCE,
    follower=FOLLOWER,
    key_ref="vault://demo-fixed",
    budget_micro=50 * MICRO,
)


class ScriptedPairs:
    """Answers `state` as PairService does, from a script: one answer per call, the last kept."""

    def __init__(self, *answers: PairState | PairError) -> None:
        self._answers = list(answers)
        self.calls = 0

    async def state(self, pair_id: str) -> PairState:
        answer = self._answers[min(self.calls, len(self._answers) - 1)]
        self.calls += 1
        if isinstance(answer, PairError):
            raise answer
        return answer


def _one_fill_seen(ledger: Ledger, *, in_flight: bool) -> PairState:
    fill = make_fill(1)
    ledger.record_fill(fill)
    flights = {}
    if in_flight:
        flights[fill.order_key] = InFlight(
            decision_id=fill.order_key,
            workflow_id=f"mirror/demo-fixed/{fill.fill_id}",
            side=Side.BUY,
            token_id=TOKEN,
            started_at=datetime.now(UTC),
        )
    else:
        report = MirrorReport(
            decision_id=fill.order_key,
            outcome=MirrorOutcome.FILLED,
            token_id=TOKEN,
            filled_shares_micro=6 * MICRO,
            notional_micro=3 * MICRO,
        )
        ledger.record_outcome(CONFIG.pair_id, report)
    return PairState(
        config=CONFIG,
        cursor=fill.cursor(),
        fills_seen=1,
        in_flight=flights,
        spent_micro=3 * MICRO,
        positions={TOKEN: Position(shares_micro=6 * MICRO, cost_micro=3 * MICRO)},
    )


def _synced_to(path: Path, block: int) -> None:
    stats = {name: 0 for name in DetectionStats.model_fields}
    stats.update(head_mode="poll", endpoints=[], updated_at=datetime.now(UTC))
    write_stats(path, DetectionStats.model_validate({**stats, "synced_block": block}))


async def test_the_drain_ends_once_every_fill_is_settled_and_the_tail_is_past_the_last_block(
    settings: Settings, tmp_path: Path
) -> None:
    ledger = open_ledger(settings)
    settled = _one_fill_seen(ledger, in_flight=False)
    busy = PairError("pair 'demo-fixed' did not answer")
    pairs = ScriptedPairs(busy, settled)
    stats = tmp_path / "detection.json"
    _synced_to(stats, 1000)
    kwargs = {"last_block": 1001, "stats_path": stats, "poll_s": 0.01}

    behind = await drain(pairs, ledger, [CONFIG], timeout_s=0.2, **kwargs)
    assert not behind.drained and behind.pairs[0].settled  # the tail has not read the last block
    _synced_to(stats, 1001)
    done = await drain(pairs, ledger, [CONFIG], timeout_s=10, **kwargs)
    assert done.drained and done.waited_s < 5
    pair = done.pairs[0]
    assert (pair.fills_seen, pair.mirrored, pair.in_flight) == (1, 1, 0)
    assert pair.marked_pnl_micro == 0  # 6 shares bought for 3 pUSD, marked at the fill's 0.50


async def test_the_drain_gives_up_at_its_bound_on_a_mirror_still_in_flight(
    settings: Settings,
) -> None:
    ledger = open_ledger(settings)
    pairs = ScriptedPairs(_one_fill_seen(ledger, in_flight=True))
    summary = await drain(
        pairs,
        ledger,
        [CONFIG],
        last_block=None,
        stats_path=Path("unused"),
        timeout_s=0.3,
        poll_s=0.05,
    )
    assert not summary.drained and 0.3 <= summary.waited_s < 5 and pairs.calls > 1
    assert summary_lines(summary)[0] == "summary (not every fill settled within 0 s):"
    assert summary_lines(summary)[1].endswith("0 skipped, 1 in flight, still settling")


def test_a_fill_settles_only_with_a_terminal_row_and_nothing_in_flight() -> None:
    filled = OutcomeCount(status=OrderStatus.FILLED, orders=2)
    posted = OutcomeCount(status=OrderStatus.POSTED, orders=1)
    base = PairOutcome(pair_id="p", fills_seen=2, caught_up=True, orders=[filled])
    assert base.settled
    assert not base.model_copy(update={"in_flight": 1}).settled
    assert not base.model_copy(update={"caught_up": False}).settled
    assert not base.model_copy(update={"fills_seen": 3, "orders": [filled, posted]}).settled
    assert not base.model_copy(update={"waiting": 1}).settled  # a source order still waiting
    assert not base.model_copy(update={"problem": "did not answer"}).settled


def test_the_summary_says_what_became_of_every_fill() -> None:
    orders = [
        OutcomeCount(status=OrderStatus.FILLED, orders=5),
        OutcomeCount(status=OrderStatus.PARTIAL, orders=1),
        OutcomeCount(status=OrderStatus.UNFILLED, orders=1),
        OutcomeCount(status=OrderStatus.SKIPPED, reason="budget exhausted", orders=2),
        OutcomeCount(status=OrderStatus.SKIPPED, reason="follower holds no position", orders=1),
    ]
    pair = PairOutcome(
        pair_id="demo-fixed",
        status="active",
        fills_seen=10,
        caught_up=True,
        orders=orders,
        spent_micro=20_934_999,
        shares_micro=44_815_000,
        realized_pnl_micro=-350_000,
        marked_pnl_micro=1_204_999,
    )
    lines = summary_lines(DemoSummary(drained=True, waited_s=4.2, pairs=[pair]))
    assert lines == [
        "summary (every fill settled, after 4 s):",
        "  demo-fixed (active): 10 source fills seen: 6 mirrored (5 filled, 1 partially), "
        "1 unfilled, 3 skipped: budget exhausted (2); follower holds no position (1), 0 in flight",
        "    spent 20.93 pUSD, position 44.82 shares, PnL realized -0.35 pUSD, marked +1.20 pUSD",
    ]


def test_amounts_show_two_decimals_rounded_half_to_even() -> None:
    assert [amount(m) for m in (1_234_999, 1_235_000, 1_245_000, 0, -4_000)] == [
        "1.23",
        "1.24",
        "1.24",
        "0.00",
        "0.00",
    ]
    assert [signed(m) for m in (10_000, -10_000, 4_999, -4_000)] == [
        "+0.01",
        "-0.01",
        "0.00",
        "0.00",
    ]
