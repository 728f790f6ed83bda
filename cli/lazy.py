"""A click group whose commands are imported only when they run.

Invariants:
- Listing or summing up the commands (the group's `--help`) imports none of their modules: each
  entry carries its own one-line summary.
- A command's module is imported the first time that command is looked up to run or to show its
  own help, and then only once.
- This module imports click and the standard library only.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """A command known by name, where it is defined (`module:attribute`) and its summary."""

    name: str
    target: str
    summary: str

    def load(self) -> click.Command:
        """Import the command's module and return the command."""
        module_name, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command

    def stand_in(self) -> click.Command:
        """Return a command that only carries the summary, for listings."""
        return click.Command(self.name, help=self.summary)


class LazyGroup(click.Group):
    """A group that imports each of its `lazy` commands on first use."""

    def __init__(self, *args: Any, lazy: Iterable[LazyCommand] = (), **attrs: Any) -> None:
        super().__init__(*args, **attrs)
        self.lazy = {entry.name: entry for entry in lazy}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return every command name, loaded or not, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command, importing its module if this is its first use."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands as click does, summing up the ones not loaded from their entries."""
        listed = [(name, self._listed(ctx, name)) for name in self.list_commands(ctx)]
        shown = [(name, command) for name, command in listed if command and not command.hidden]
        if not shown:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in shown)
        with formatter.section("Commands"):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])

    def _listed(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in self.lazy:
            return super().get_command(ctx, name)
        return self.lazy[name].stand_in()
