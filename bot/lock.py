"""One poller per bot token: an exclusive lock file in the data directory.

Invariants:
- The lock file is named by a hash of the token (never the token), so two bots with different
  tokens do not block each other and the file name reveals nothing.
- The lock is an `flock` held for the life of the process (released by the kernel when the
  process dies, so a crash never leaves a stale lock); the file records host, pid and start time
  of the holder, which a refused instance reports.
- Scope: processes sharing the data directory on one host. Two hosts polling one token are
  still told apart by Telegram itself (getUpdates answers 409 Conflict), which the bot logs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType


class BotAlreadyRunningError(RuntimeError):
    """Another bot instance holds the lock for this token; the message says which."""


def lock_path(data_dir: Path, token: str) -> Path:
    """Return the lock file of the bot polling `token`."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]
    return data_dir / f"bot-{digest}.lock"


class InstanceLock:
    """Hold the per-token poller lock, or raise BotAlreadyRunningError naming the holder."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """Return the lock file path."""
        return self._path

    def acquire(self) -> None:
        """Take the lock and record this process as its holder."""
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BotAlreadyRunningError(
                f"another bot instance already polls this token ({self._holder()}); "
                f"stop it first (lock file {self._path})"
            ) from None
        holder = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (closing the descriptor releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _holder(self) -> str:
        try:
            holder = json.loads(self._path.read_text(encoding="utf-8"))
            return f"pid {holder['pid']} on host {holder['host']}, since {holder['started_at']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown: it is still starting"

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
