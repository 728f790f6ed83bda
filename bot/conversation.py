"""Open conversations, one per chat, that expire after a period without an answer.

Invariants:
- A chat has at most one open conversation; opening another while one is open is refused by
  the caller (the store never replaces one silently).
- A conversation expires `timeout_s` after it was opened or last answered, measured on an
  injected monotonic clock; an expired conversation is removed and returned once by `expire`,
  so its chat is told exactly once.
- Conversations hold answers only in memory; nothing here writes anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Reply:
    """What the bot says after an answer, and whether the conversation is over."""

    text: str
    done: bool = False


class Conversation(Protocol):
    """A multi-step exchange with one chat."""

    @property
    def command(self) -> str:
        """Return the command that opened it, e.g. '/addpair'."""
        ...

    async def answer(self, text: str) -> Reply:
        """Take the chat's next answer and return the reply."""
        ...


@dataclass
class _Open:
    conversation: Conversation
    deadline: float


class Conversations:
    """The open conversation of each chat, with their expiry."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout_s = timeout_s
        self._clock = clock
        self._open: dict[int, _Open] = {}

    @property
    def timeout_s(self) -> float:
        """Return how long a conversation waits for an answer."""
        return self._timeout_s

    def get(self, chat_id: int) -> Conversation | None:
        """Return the chat's open conversation, if any."""
        entry = self._open.get(chat_id)
        return entry.conversation if entry else None

    def open(self, chat_id: int, conversation: Conversation) -> None:
        """Open a conversation for a chat that has none."""
        if chat_id in self._open:
            raise RuntimeError("this chat already has an open conversation")
        self._open[chat_id] = _Open(conversation, self._clock() + self._timeout_s)

    def touch(self, chat_id: int) -> None:
        """Restart the chat's expiry period after an answer."""
        entry = self._open.get(chat_id)
        if entry is not None:
            entry.deadline = self._clock() + self._timeout_s

    def close(self, chat_id: int) -> Conversation | None:
        """End the chat's conversation and return it."""
        entry = self._open.pop(chat_id, None)
        return entry.conversation if entry else None

    def expire(self) -> list[tuple[int, Conversation]]:
        """Remove and return every conversation whose period ran out."""
        now = self._clock()
        done = [(chat, entry) for chat, entry in self._open.items() if entry.deadline <= now]
        for chat, _ in done:
            del self._open[chat]
        return [(chat, entry.conversation) for chat, entry in done]
