"""`projectk bench mirror` end to end, small: its figures come from a real run, not constants."""

from __future__ import annotations

import pytest

from cli.tools.bench.mirror import run_mirror

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]


async def test_the_mirror_benchmark_measures_two_pair_counts_apart() -> None:
    lines: list[str] = []
    one, three = await run_mirror([1, 3], fills=2, idle_minutes=0.1, progress=lines.append)
    assert (one.pairs, three.pairs) == (1, 3)
    assert one.mirrored == 2 and three.mirrored == 6  # every active pair mirrored every fill
    for result in (one, three):
        assert 0 < result.latency_ms_p50 <= result.latency_ms_p95
        stages = {"detect", "start_mirror", "quote", "intent_sign", "post", "total"}
        assert set(result.stages_ms) == stages
        assert result.history_events_per_fill > 20
        # Six seconds of idle pairs: no poll restarts and no heartbeat is due yet (they come
        # every 8 min), so the server counted nothing, not even the other count's fills. (The
        # window refuses to measure when the counter shows nothing of the latency phase before.)
        assert result.idle_actions == {} and result.actions_per_idle_pair_hour == 0
        assert set(result.as_json()) >= {
            "pairs",
            "latency_ms_p50",
            "latency_ms_p95",
            "history_events_per_fill",
            "actions_per_idle_pair_hour",
        }
    assert any("idle window" in line for line in lines)
