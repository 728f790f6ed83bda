"""Logging for the bot process: the bot token never reaches a log line.

Invariants:
- httpx and httpcore log every request URL, and Bot API URLs contain the token: those loggers are
  held at WARNING, so their request lines are never emitted. python-telegram-bot logs whole
  updates (what users typed, possibly a pasted key) at DEBUG: its loggers are held at INFO, even
  when the process logs at DEBUG.
- After `protect_token` the token is one of the process's protected secrets
  (`projectk.logs.protect_secrets`): masked in every record when it is made (message, arguments,
  exception text and stack), whatever logger or library made it and whatever handler prints it.
- `protect_token` is idempotent.
"""

from __future__ import annotations

import logging

from projectk.logs import protect_secrets

QUIET_LOGGERS = {
    "httpx": logging.WARNING,  # request URLs, with the token, at INFO
    "httpcore": logging.WARNING,  # connection details at DEBUG
    "telegram": logging.INFO,  # update payloads (user texts) at DEBUG
}


def protect_token(token: str) -> None:
    """Keep `token` out of every log record from now on."""
    for name, level in QUIET_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level < level:  # NOTSET (0) too: root may be lowered to DEBUG later
            logger.setLevel(level)
    protect_secrets(token)
