"""Process logging: plain or JSON lines, to stderr (the journal under systemd) or a rotating file.

(Named `logs`, not `logging`, so it never shadows the standard library module.)

Invariants:
- `setup_logging` replaces the root logger's handlers, so calling it twice does not duplicate lines.
- A process that logs to a file may also show its records from `console_level` up on stderr
  (a command that talks to a person in the terminal keeps its warnings in sight); without a file
  there is one stream, stderr, and `console_level` is ignored.
- A log file rotates at PROJECTK_LOG_MAX_BYTES keeping PROJECTK_LOG_BACKUPS old files; it and its
  rotated copies are created mode 0600 (a log line may name wallets and pairs).
- One redaction for the whole process: every protected secret (each `SecretStr` setting, each
  retired payload key, long tokens in RPC URLs such as provider API keys, the bot's token) is
  masked in every record made after it was protected, when the record is made (message,
  arguments, exception text and stack), so no handler, present or added later, and no logger,
  ours or a library's, can print it. Protecting is idempotent and never forgotten: a later
  `setup_logging` adds secrets, it does not drop any.
- Loggers in `QUIET_LOGGERS` are held at WARNING at every level: the CLI imports a command's
  libraries after logging is set up, and a library's announcements of its own import (Alembic
  lists its plugins at INFO, pyrlp suggests a faster backend at DEBUG) are not the command's
  output. httpx and httpcore are among them: they log every request's full URL at INFO, and an
  RPC provider's URL often carries its API key (a worker would also write one line per chain
  read); failures reach the caller as exceptions, which the code logs redacted.
- JSON lines have stable keys: time (UTC ISO 8601), level, logger, message, and exc_info when an
  exception is attached; extra fields passed with `extra=` are added as they are.
"""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from projectk.settings import Settings

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter "secrets" would mask ordinary words
MIN_URL_TOKEN_LENGTH = 16  # API keys in RPC URLs are long; path words are not
_RecordFactory = Callable[..., logging.LogRecord]
QUIET_LOGGERS = ("alembic.runtime.plugins", "rlp.codec", "httpx", "httpcore")
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


@dataclass(frozen=True)
class LogOptions:
    """How a process logs."""

    level: str = "INFO"
    json: bool = False
    file: Path | None = None
    max_bytes: int = 10 * 1024 * 1024
    backups: int = 5
    secrets: tuple[str, ...] = ()
    console_level: str | None = None  # with a file: records from this level also go to stderr


def options_from_settings(settings: Settings, *, verbose: bool = False) -> LogOptions:
    """Return the logging options of `settings` (`verbose` forces DEBUG)."""
    return LogOptions(
        level="DEBUG" if verbose else settings.log_level,
        json=settings.log_json,
        file=settings.log_file,
        max_bytes=settings.log_max_bytes,
        backups=settings.log_backups,
        secrets=secrets_of(settings),
    )


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Return the secret values of `settings` that must never show in a log line."""
    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values += [value.get_secret_value(), *_parts(value.get_secret_value())]
    for url in [*settings.rpc_urls, settings.ws_url or ""]:
        values += _parts(urlsplit(url).path + "?" + urlsplit(url).query)  # provider API keys
    return tuple(v for v in (v.strip() for v in values) if len(v) >= MIN_SECRET_LENGTH)


def _parts(text: str) -> list[str]:
    # Pieces of a secret that may be logged alone: each retired key of "ID:KEY,ID:KEY", a
    # long token in an RPC URL's path or query.
    pieces = re.split(r"[,/?&=:]", text)
    return [piece for piece in pieces if len(piece) >= MIN_URL_TOKEN_LENGTH]


class _Redaction:
    """The process's protected secrets, and the record factory that masks them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()  # longest first: a secret inside another goes whole
        self._installed = False

    def protect(self, secrets: Iterable[str]) -> None:
        """Add secrets, installing the record factory on the first call."""
        with self._lock:  # values under MIN_SECRET_LENGTH are left out: they are ordinary words
            found = {*self._secrets, *(s for s in secrets if len(s) >= MIN_SECRET_LENGTH)}
            self._secrets = tuple(sorted(found, key=len, reverse=True))
            if self._secrets and not self._installed:
                logging.setLogRecordFactory(self._masking(logging.getLogRecordFactory()))
                self._installed = True

    def mask(self, text: str) -> str:
        """Return `text` with every protected secret replaced by `MASK`."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def _masking(self, factory: _RecordFactory) -> _RecordFactory:
        # Mask at creation: a handler's filter would miss handlers attached later, and a
        # formatter renders the exception after the filters have run.
        def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: keep the raw text, masked
                message = str(record.msg)
            record.msg, record.args = self.mask(message), None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.mask(record.exc_text)
            if record.stack_info:
                record.stack_info = self.mask(record.stack_info)
            return record

        return make


_REDACTION = _Redaction()


def protect_secrets(*secrets: str) -> None:
    """Mask `secrets` in every log record this process makes from now on."""
    _REDACTION.protect(secrets)


def redact(text: str) -> str:
    """Return `text` with every protected secret masked, for text that is not a log record."""
    return _REDACTION.mask(text)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exc_info"] = record.exc_text
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in doc:
                doc[key] = value
        return json.dumps(doc, default=str, ensure_ascii=False)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose every file (first and after rotation) is mode 0600."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def _file_handler(options: LogOptions, path: Path) -> logging.Handler:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return PrivateRotatingFileHandler(
        path, maxBytes=options.max_bytes, backupCount=options.backups, encoding="utf-8"
    )


def setup_logging(options: LogOptions) -> logging.Handler:
    """Configure the root logger as `options` say; return the handler that gets every record."""
    handler = _file_handler(options, options.file) if options.file else logging.StreamHandler()
    protect_secrets(*options.secrets)
    handlers = [handler]
    if options.file and options.console_level:
        console = logging.StreamHandler()
        console.setLevel(options.console_level)
        handlers.append(console)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for each in handlers:
        each.setFormatter(JsonFormatter() if options.json else logging.Formatter(PLAIN_FORMAT))
        root.addHandler(each)
    root.setLevel(options.level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
