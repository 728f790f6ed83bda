"""The processes a demo starts beside the sandbox: the Temporal dev server, a worker and the
dashboard, each a context manager that stops what it started when the demo ends.

Invariants:
- The worker and the dashboard run `python -m cli` with this interpreter in a session of their
  own, with only the demo's PROJECTK_ settings (none of the operator's), and write their output
  to `<name>.log` in the demo's data directory.
- A process is stopped as a whole process group: SIGTERM, then SIGKILL after a bound; anything it
  started goes with it.
- Only the worker gets the vault passphrase (it signs); the passphrase protects nothing but
  anvil's public test keys.
- A dev server that was already running (not started by this demo) is left running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator

from cli.tools import devserver
from projectk.settings import Settings

DEMO_PASSPHRASE = "projectk-demo-passphrase"  # protects only public anvil test keys
STOP_TIMEOUT_S = 25.0  # a worker lets running activities finish for 20 s

Echo = Callable[[str], None]


def worker_env(settings: Settings) -> dict[str, str]:
    """Return the environment a worker process needs to run with these settings."""
    env = {
        "PROJECTK_DATA_DIR": str(settings.data_dir),
        "PROJECTK_VAULT_PATH": str(settings.resolved_vault_path),
        "PROJECTK_EXECUTOR_MODE": settings.executor_mode.value,
        "PROJECTK_VAULT_PASSPHRASE": DEMO_PASSPHRASE,
        "PROJECTK_TEMPORAL_ADDRESS": settings.temporal_address,
        "PROJECTK_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "PROJECTK_TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "PROJECTK_RPC_URLS": ",".join(settings.rpc_urls),
        "PROJECTK_DATA_API_URL": settings.data_api_url,
        "PROJECTK_POLYMARKET_CHAIN_ID": str(settings.polymarket_chain_id),
        "PROJECTK_DASHBOARD_URL": settings.dashboard_url,
    }
    if settings.sandbox_clob_url:
        env["PROJECTK_SANDBOX_CLOB_URL"] = settings.sandbox_clob_url
    return env


@contextlib.asynccontextmanager
async def dev_server(settings: Settings, echo: Echo) -> AsyncIterator[str]:
    """Run the demo's Temporal dev server; yield its UI's URL."""
    config = devserver.DevServerConfig.from_settings(settings)
    started = await devserver.start(config)
    echo(f"Temporal dev server at {config.address} — UI: {config.ui_url}")
    try:
        yield config.ui_url
    finally:
        if not started.already_running:
            devserver.stop(config)
            echo("Temporal dev server stopped")


@contextlib.contextmanager
def cli_process(
    name: str, args: list[str], settings: Settings, echo: Echo, *, signs: bool = False
) -> Iterator[int]:
    """Run `projectk ARGS` as process `name`; yield its pid."""
    log_path = settings.data_dir / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTK_")}
    env.update(worker_env(settings))
    if not signs:  # only the worker opens the vault
        env.pop("PROJECTK_VAULT_PASSPHRASE")
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped whole
        )
    echo(f"{name} started (pid {proc.pid}, log {log_path})")
    try:
        yield proc.pid
    finally:
        stop_group(proc)
        echo(f"{name} stopped")


def stop_group(proc: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Stop a process that leads its own group, and everything in that group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout_s)
    # Whatever is left of the group (the leader past its bound, or a child that outlived it)
    # is killed; the group id stays reserved while any member lives, so this hits no stranger.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
