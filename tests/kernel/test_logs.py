"""Process logging: JSON lines, the one secret redaction, rotation with private files, CLI
wiring."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.temporal.codec import new_key
from cli import main
from projectk.logs import (
    MASK,
    LogOptions,
    options_from_settings,
    protect_secrets,
    redact,
    setup_logging,
)
from tests.settings_env import PASSPHRASE, make_settings


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Give the root logger back its handlers and level after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_json_lines_with_extra_fields_and_masked_secrets(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "projectk.log"
    key = new_key()
    rpc_key = "a1b2c3d4e5f6a7b8c9d0"
    settings = make_settings(
        tmp_path,
        log_json=True,
        log_file=log_file,
        payload_key=key,
        rpc_urls=f"https://polygon.example/v2/{rpc_key}",
    )
    setup_logging(options_from_settings(settings))
    log = logging.getLogger("projectk.test")
    log.info("opened vault with %s", PASSPHRASE, extra={"pair_id": "p1"})
    log.warning("rpc https://polygon.example/v2/%s timed out", rpc_key)
    try:
        raise RuntimeError(f"bad key {key}")
    except RuntimeError:
        log.exception("failed")
    first, rpc, second = (json.loads(line) for line in _lines(log_file))
    assert first["message"] == "opened vault with ***"
    assert rpc["message"] == "rpc https://polygon.example/v2/*** timed out"
    assert first["level"] == "INFO" and first["logger"] == "projectk.test"
    assert first["pair_id"] == "p1" and first["time"].endswith("+00:00")
    assert "RuntimeError: bad key ***" in second["exc_info"]
    text = log_file.read_text()
    assert PASSPHRASE not in text and key not in text and rpc_key not in text


def test_log_file_rotates_and_every_file_is_private(tmp_path: Path) -> None:
    log_file = tmp_path / "projectk.log"
    setup_logging(LogOptions(file=log_file, max_bytes=2000, backups=2))
    for n in range(200):
        logging.getLogger("projectk.test").info("line %03d %s", n, "x" * 40)
    files = sorted(tmp_path.glob("projectk.log*"))
    assert [f.name for f in files] == ["projectk.log", "projectk.log.1", "projectk.log.2"]
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    assert all(f.stat().st_size <= 2000 for f in files)
    assert "line 199" in _lines(log_file)[-1]


def test_http_request_lines_with_a_providers_key_in_the_url_are_not_logged(
    tmp_path: Path,
) -> None:
    setup_logging(LogOptions(file=tmp_path / "a.log", level="DEBUG"))
    url = "https://polygon-mainnet.example/v2/sk-provider-key-in-the-path"
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
    logging.getLogger("httpcore.http11").debug("send_request_headers %s", url)
    logging.getLogger("projectk.test").info("kept")
    assert _lines(tmp_path / "a.log")[-1].endswith("kept")
    assert "sk-provider-key" not in (tmp_path / "a.log").read_text()


def test_setting_up_twice_keeps_one_handler(tmp_path: Path) -> None:
    setup_logging(LogOptions(file=tmp_path / "a.log"))
    setup_logging(LogOptions(file=tmp_path / "a.log"))
    logging.getLogger("projectk.test").warning("once")
    assert len(logging.getLogger().handlers) == 1
    assert len(_lines(tmp_path / "a.log")) == 1


def test_a_file_logger_shows_only_warnings_on_stderr_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "demo.log"
    options = LogOptions(file=log_file, console_level="WARNING", secrets=(PASSPHRASE,))
    setup_logging(options)
    log = logging.getLogger("tests.demo")  # a logger no other test holds at another level
    log.info("HTTP Request: POST http://127.0.0.1:8545")
    log.warning("lost the RPC while using %s", PASSPHRASE)
    shown = capsys.readouterr().err.splitlines()
    assert len(shown) == 1 and shown[0].endswith("lost the RPC while using ***")
    assert len(_lines(log_file)) == 2 and PASSPHRASE not in log_file.read_text()


def test_cli_logs_as_the_settings_say(tmp_path: Path) -> None:
    log_file = tmp_path / "cli.log"
    settings = make_settings(tmp_path, log_json=True, log_file=log_file, log_level="DEBUG")
    result = CliRunner().invoke(main, ["db", "upgrade"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in _lines(log_file)]
    assert records and {r["level"] for r in records} >= {"DEBUG"}


def test_a_secret_protected_at_run_time_is_masked_for_every_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = f"run-time-secret-{uuid.uuid4().hex}"
    protect_secrets(secret)
    factory = logging.getLogRecordFactory()
    protect_secrets(secret)  # again: nothing more is installed
    assert logging.getLogRecordFactory() is factory
    late = logging.StreamHandler()  # attached after the secret was protected
    logger = logging.getLogger("projectk.test.late")
    logger.addHandler(late)
    try:
        logger.warning("secret %s in args", secret)
        try:
            raise RuntimeError(f"failed with {secret}")
        except RuntimeError:
            logger.exception("failure")
    finally:
        logger.removeHandler(late)
    err = capsys.readouterr().err
    assert secret not in err
    assert f"secret {MASK} in args" in err and f"RuntimeError: failed with {MASK}" in err
    assert redact(f"<{secret}>") == f"<{MASK}>"


def test_settings_secrets_reach_handlers_that_setup_did_not_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_key()
    setup_logging(options_from_settings(make_settings(tmp_path, payload_key=key)))
    other = logging.StreamHandler()  # a library's own handler, say
    logger = logging.getLogger("projectk.test.other")
    logger.addHandler(other)
    try:
        logger.warning("payload key %s", key)
    finally:
        logger.removeHandler(other)
    err = capsys.readouterr().err
    assert key not in err and err.count(f"payload key {MASK}") == 2  # setup's handler and ours


def test_short_values_are_not_taken_for_secrets() -> None:
    protect_secrets("yes", "")
    assert redact("yes, the pair is active") == "yes, the pair is active"
