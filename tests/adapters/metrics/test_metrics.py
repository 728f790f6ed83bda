"""Metrics: ProjectK's registry and exposition, its endpoint, and the worker serving both its
own and the Temporal SDK's metrics."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.metrics import (
    CONTENT_TYPE,
    SDK_CORE_LOGGER,
    Registry,
    serve_metrics,
    split_bind,
    temporal_telemetry,
)
from projectk.settings import ExecutorMode
from sandbox.runtime import free_port
from tests.settings_env import make_settings
from tests.temporal_env import env_address


def _free_bind() -> str:
    return f"127.0.0.1:{free_port()}"


def test_the_temporal_sdk_core_logs_through_python_logging_with_or_without_metrics() -> None:
    # Through Python logging its lines get the process's format, secret masking and log file,
    # and never land on stdout (where `--json` commands print their answer).
    for bind in (None, _free_bind()):
        telemetry = temporal_telemetry(bind)
        assert telemetry.logging is not None and telemetry.logging.forwarding is not None
        assert telemetry.logging.forwarding.logger.name == SDK_CORE_LOGGER
        assert (telemetry.metrics is None) == (bind is None)


def test_counters_and_histograms_render_the_text_format() -> None:
    registry = Registry()
    posted = registry.counter("t_orders_total", "Orders.", ["reason"])
    lag = registry.histogram("t_lag_seconds", "Lag.", buckets=[1.0, 5.0])
    posted.inc(reason='tick "size"\n')
    posted.inc(2, reason="balance")
    lag.observe(0.5)
    lag.observe(3)
    text = registry.render()
    assert "# TYPE t_orders_total counter" in text
    assert 't_orders_total{reason="balance"} 2' in text
    assert 't_orders_total{reason="tick \\"size\\"\\n"} 1' in text
    assert 't_lag_seconds_bucket{le="1"} 1' in text
    assert 't_lag_seconds_bucket{le="5"} 2' in text
    assert 't_lag_seconds_bucket{le="+Inf"} 2' in text
    assert "t_lag_seconds_sum 3.5" in text and "t_lag_seconds_count 2" in text
    assert posted.value(reason="balance") == 2 and lag.count() == 2


def test_wrong_labels_negative_increments_and_duplicates_are_refused() -> None:
    registry = Registry()
    counter = registry.counter("t_total", "T.", ["method"])
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(metod="eth_call")
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1, method="eth_call")
    with pytest.raises(ValueError, match="twice"):
        registry.counter("t_total", "T.")
    with pytest.raises(ValueError, match="HOST:PORT"):
        split_bind("9100")


async def test_endpoint_serves_metrics_and_404_elsewhere() -> None:
    registry = Registry()
    registry.counter("t_claims_total", "Claims.").inc()
    bind = _free_bind()
    server = await serve_metrics(bind, registry)
    try:
        async with httpx.AsyncClient(base_url=f"http://{bind}", trust_env=False) as http:
            scraped = await http.get("/metrics")
            missing = await http.get("/")
    finally:
        server.close()
        await server.wait_closed()
    assert scraped.status_code == 200 and scraped.headers["content-type"] == CONTENT_TYPE
    assert "t_claims_total 1" in scraped.text
    assert missing.status_code == 404


async def _scrape(url: str, needle: str) -> str:
    async with httpx.AsyncClient(trust_env=False, timeout=2) as http:
        for _ in range(100):
            try:
                response = await http.get(url)
                if needle in response.text:
                    return response.text
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} never showed at {url}")


@pytest.mark.devserver
async def test_worker_serves_projectk_and_temporal_sdk_metrics(
    dev_env: WorkflowEnvironment, tmp_path: Path, task_queue: str
) -> None:
    from workers.main import run_worker

    own, sdk = _free_bind(), _free_bind()
    settings = make_settings(
        tmp_path,
        executor_mode=ExecutorMode.PAPER,
        temporal_address=env_address(dev_env),
        temporal_task_queue=task_queue,
        metrics_bind=own,
        temporal_metrics_bind=sdk,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(settings, stop))
    try:
        text = await _scrape(f"http://{own}/metrics", "projectk_orders_posted_total")
        assert "# TYPE projectk_detection_lag_seconds histogram" in text
        assert "temporal_" in await _scrape(f"http://{sdk}/metrics", "temporal_")
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
