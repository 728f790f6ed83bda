"""A real PostgreSQL for tests: a fresh database per session, a fresh schema per test.

Rule: the server is at `PROJECTK_TEST_POSTGRES_URL` (default
`postgresql+psycopg://postgres@127.0.0.1:5432/test`). When `CI=true` or
`PROJECTK_REQUIRE_POSTGRES=1`, an unreachable server FAILS the tests that need it; otherwise
they are skipped, and `report_skips` (called from a `pytest_terminal_summary` hook) prints why,
so a skipped backend never goes unnoticed.

Use `postgres_database()` once per session (a session-scoped fixture) and `postgres_schema(url)`
per test; both clean up after themselves.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from adapters.ledger import normalize_url

URL_ENV = "PROJECTK_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5

_skip_reasons: list[str] = []  # reported once at the end of the session


def postgres_required() -> bool:
    """Tell whether this run must have PostgreSQL (CI, or PROJECTK_REQUIRE_POSTGRES=1)."""
    return os.environ.get("CI") == "true" or os.environ.get("PROJECTK_REQUIRE_POSTGRES") == "1"


def server_url() -> URL:
    """Return the configured test server URL (mapped to the psycopg driver)."""
    return normalize_url(os.environ.get(URL_ENV) or DEFAULT_URL)


def _unavailable(reason: str) -> NoReturn:
    if postgres_required():
        pytest.fail(f"PostgreSQL is required here (CI or PROJECTK_REQUIRE_POSTGRES=1): {reason}")
    if reason not in _skip_reasons:
        _skip_reasons.append(reason)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def report_skips(terminalreporter: pytest.TerminalReporter) -> None:
    """Print, once, why PostgreSQL tests were skipped in this session."""
    for reason in _skip_reasons:
        terminalreporter.write_line(f"NOTICE: PostgreSQL tests skipped: {reason}", yellow=True)
    _skip_reasons.clear()


@contextmanager
def postgres_database() -> Iterator[str]:
    """Yield the URL of a new, empty database on the test server; drop it afterwards."""
    base = server_url()
    admin = create_engine(
        base,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )
    name = f"projectk_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        shown = base.render_as_string(hide_password=True)
        _unavailable(f"cannot create a database at {shown}: {str(exc).splitlines()[0]}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_schema(database_url: str) -> Iterator[str]:
    """Yield a URL whose connections work in a new, empty schema of `database_url`."""
    base = normalize_url(database_url)
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
