"""Helpers every CLI command shares: settings loading and user-facing errors.

Invariant: a command that fails on bad input prints one clear message to stderr and exits
non-zero, having written nothing.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from projectk.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


class UserError(click.ClickException):
    """A problem the operator can fix; shown as 'Error: …' with exit code 1."""


def get_settings(ctx: click.Context) -> Settings:
    """Return the settings loaded once for this invocation, failing clearly on a bad variable."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "settings" not in root.obj:
        try:
            root.obj["settings"] = load_settings()
        except SettingsError as exc:
            raise UserError(str(exc)) from None
    settings: Settings = root.obj["settings"]
    return settings


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a synchronous click command."""
    # Temporal clients sit in reference cycles; if the cycle collector first frees them during
    # interpreter shutdown, the SDK's Rust threads can abort the process
    # (temporalio/sdk-python#300). Collecting right after the loop ends frees them while it is safe.
    try:
        return asyncio.run(coro)
    finally:
        gc.collect()
