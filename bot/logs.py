"""Logging for the bot process: the bot token never reaches a log line.

Invariants:
- httpx and httpcore log every request URL, and Bot API URLs contain the token: those loggers are
  held at WARNING, so their request lines are never emitted. python-telegram-bot logs whole
  updates (what users typed, possibly a pasted key) at DEBUG: its loggers are held at INFO, even
  when the process logs at DEBUG.
- Every record made in the process after `protect_token` is redacted when it is created (message,
  arguments, exception text and stack), so no handler, present or added later, can print the
  token, whatever logger or library produced the record.
- Redaction is installed once per token and is idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

QUIET_LOGGERS = {
    "httpx": logging.WARNING,  # request URLs, with the token, at INFO
    "httpcore": logging.WARNING,  # connection details at DEBUG
    "telegram": logging.INFO,  # update payloads (user texts) at DEBUG
}
REDACTED = "<bot-token>"

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """Return `text` with every protected secret replaced by a placeholder."""
    for secret in _secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def protect_token(token: str) -> None:
    """Keep `token` out of every log record from now on."""
    global _installed
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level < level:  # NOTSET (0) too: root may be lowered to DEBUG later
            logger.setLevel(level)
    with _lock:
        _secrets.add(token)
        if _installed:
            return
        logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
        _installed = True


def _redacting(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    # Redact at creation: handler filters would miss handlers attached later (and their
    # formatters render exceptions after filters have run).
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw text, redacted
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    return make
