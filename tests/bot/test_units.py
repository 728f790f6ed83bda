"""Small pure pieces of the bot: message splitting, bounded Temporal calls, settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import BotConfig, BotConfigError, file_url_for
from bot.handlers import MESSAGE_LIMIT, chunks
from bot.timeouts import TemporalTimeoutError, bounded
from projectk.settings import Settings


def test_long_texts_are_split_at_line_breaks_within_telegrams_limit() -> None:
    lines = [f"• pair-{n:04d} — active, budget 100.00 pUSD" for n in range(400)]
    parts = chunks("\n".join(lines))
    assert len(parts) > 1 and all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing lost, no line cut
    assert chunks("x" * (MESSAGE_LIMIT + 5)) == ["x" * MESSAGE_LIMIT, "xxxxx"]
    assert chunks("") == [""]


async def test_a_temporal_call_that_hangs_is_cut_off() -> None:
    with pytest.raises(TemporalTimeoutError, match="did not answer within"):
        await bounded(asyncio.sleep(5), timeout_s=0.05)
    assert await bounded(asyncio.sleep(0, result=7)) == 7


def test_the_bot_needs_a_token_and_owners(tmp_path: Path) -> None:
    with pytest.raises(BotConfigError, match="PROJECTK_TELEGRAM_TOKEN is not set"):
        BotConfig.from_settings(Settings(data_dir=tmp_path, telegram_token=None))
    with pytest.raises(BotConfigError, match="PROJECTK_TELEGRAM_OWNER_IDS is empty"):
        BotConfig.from_settings(
            Settings(data_dir=tmp_path, telegram_token=SecretStr("1:a"), telegram_owner_ids=[])
        )
    config = BotConfig.from_settings(
        Settings(
            data_dir=tmp_path,
            telegram_token=SecretStr("1:a"),
            telegram_owner_ids=[5, 6],  # the env form is "5,6"
            telegram_alert_debounce_s=60,
            telegram_base_url="https://api.telegram.org/bot",
            telegram_base_file_url=None,
            telegram_conversation_timeout_s=180,
        )
    )
    assert config.owner_ids == {5, 6} and config.rhythm.debounce_s == 60
    assert config.base_file_url == "https://api.telegram.org/file/bot"
    assert config.conversation_timeout_s == 180
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


def test_status_reports_the_chain_tail_figures_a_worker_wrote(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from adapters.chain.detection.stats import DetectionStats, EndpointStats
    from bot.status import StatusProbe, render

    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    stats = DetectionStats(
        head_mode="poll",
        head_block=120,
        synced_block=119,
        head_lag_blocks=1,
        head_age_ms=300.0,
        blocks_seen=100,
        rpc_requests=240,
        rpc_requests_per_block=2.4,
        rpc_errors=3,
        wallets=2,
        fills_detected=7,
        fills_retracted=0,
        reorgs=0,
        data_api_fallbacks=0,
        lag_ms_p50=14.0,
        lag_ms_p95=40.0,
        poll_interval_ms=15.0,
        endpoints=[
            EndpointStats(
                url="http://a:8545", score=1, healthy=True, requests=200, errors=0, latency_ms=3
            ),
            EndpointStats(
                url="http://b:8545", score=0, healthy=False, requests=40, errors=3, latency_ms=9
            ),
        ],
        updated_at=now - timedelta(seconds=5),
    )
    path = tmp_path / "detection.json"
    path.write_text(stats.model_dump_json())

    class NoLedger:
        def newest_fill(self) -> None:
            return None

    probe = StatusProbe(None, NoLedger(), "q", clock=lambda: now, stats_file=path)  # type: ignore[arg-type]
    line = render(probe._chain_tail())
    assert line.startswith("✅ chain tail: head 120")
    assert "lag 1 blocks" in line and "p95 40 ms" in line and "1/2 RPC endpoints healthy" in line
    stale = StatusProbe(
        None, NoLedger(), "q", clock=lambda: now + timedelta(hours=1), stats_file=path
    )  # type: ignore[arg-type]
    assert render(stale._chain_tail()) == "❔ chain tail: no source fill detected yet"


def test_status_lines_render_the_shared_health_vocabulary() -> None:
    from bot.status import render
    from projectk.health import Check, Health

    lines = [render(Check("probe", health, "detail")) for health in Health]
    assert lines == ["✅ probe: detail", "⚠️ probe: detail", "❌ probe: detail", "❔ probe: detail"]
    failed = Check("vault", Health.FAILED, "locked", "set it")
    assert render(failed) == "❌ vault: locked; fix: set it"
