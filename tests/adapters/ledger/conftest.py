"""Ledger fixtures: every test runs on a SQLite file and on a real PostgreSQL.

The PostgreSQL variant gets a fresh database per session and a fresh schema per test (see
`tests/pg.py` for when an unreachable server skips and when it fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.ledger import Ledger, create_ledger_engine, upgrade
from projectk.models import (
    MICRO,
    Exchange,
    OrderIntent,
    OrderType,
    PairConfig,
    Side,
    SourceFill,
)
from tests.pg import postgres_database, postgres_schema

SOURCE = "0x1111111111111111111111111111111111111111"
FOLLOWER = "0x2222222222222222222222222222222222222222"
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


class Clock:
    """A settable clock for the ledger, so timestamps in tests are exact."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime:
        """Move the clock forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """Yield a fresh PostgreSQL database for this session (skip or fail when unreachable)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty ledger database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_database_url")) as url:
        yield url


@pytest.fixture
def ledger_engine(ledger_url: str) -> Iterator[Engine]:
    """Yield an engine on a freshly migrated ledger."""
    engine = create_ledger_engine(ledger_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """Return the clock the `ledger` fixture uses."""
    return Clock()


@pytest.fixture
def ledger(ledger_engine: Engine, clock: Clock) -> Ledger:
    """Return a ledger on a freshly migrated database, on each backend."""
    return Ledger(ledger_engine, clock=clock)


def make_config(pair_id: str = "p1", **changes: object) -> PairConfig:
    """Return a valid pair configuration."""
    values: dict[str, object] = {
        "pair_id": pair_id,
        "source": SOURCE,
        "follower": FOLLOWER,
        "key_ref": "vault://follower",
        "budget_micro": 100 * MICRO,
    }
    values.update(changes)
    return PairConfig.model_validate(values)


def order_hash(block: int, log_index: int = 0) -> str:
    """Return the hash of the source order filled at (block, log index) by `make_fill`."""
    return f"0x{block:056x}{log_index:08x}"


def make_fill(log_index: int = 0, block: int = 100, **changes: object) -> SourceFill:
    """Return a source fill of SOURCE at (block, log index), of an order of its own."""
    order = str(changes.pop("order_hash", order_hash(block, log_index)))
    values: dict[str, object] = {
        "fill_id": f"0x{block:064x}:{order}",
        "order_hash": order,
        "wallet": SOURCE,
        "side": Side.BUY,
        "token_id": TOKEN,
        "shares_micro": 10 * MICRO,
        "notional_micro": 5 * MICRO,
        "price": Decimal("0.5"),
        "exchange": Exchange.NEG_RISK,
        "tx_hash": f"0x{block:064x}",
        "block_number": block,
        "log_index": log_index,
        "block_time": T0,
    }
    values.update(changes)
    return SourceFill.model_validate(values)


def make_intent(fill: SourceFill, pair_id: str = "p1", top_up: int = 1) -> OrderIntent:
    """Return the intent of the `top_up`-th mirror decision of `fill`'s source order (1: the
    first), at a 1-cent worse limit."""
    return OrderIntent(
        pair_id=pair_id,
        decision_id=fill.order_key if top_up == 1 else f"{fill.order_key}/{top_up}",
        token_id=fill.token_id,
        side=fill.side,
        shares_micro=fill.shares_micro,
        limit_price=fill.price + Decimal("0.01"),
        notional_micro=fill.shares_micro * 51 // 100,
        order_type=OrderType.FAK,
    )
