"""Read side of the ledger: what the dashboard, the bot and the CLI look up.

Invariants:
- Reads never write and never lock beyond their own short transaction.
- Every method returns frozen read models from `records`, never rows; lists are bounded by
  `limit` and come in a stated order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine, Executable, RowMapping, Table, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from projectk.ledger.records import (
    AlertRecord,
    ClaimRecord,
    ClaimStatus,
    Execution,
    FillRecord,
    OrderRecord,
    OrderStatus,
    PairRecord,
)
from projectk.ledger.tables import ALERTS, CLAIMS, EXECUTIONS, MIRROR_ORDERS, PAIRS, SOURCE_FILLS
from projectk.ledger.types import as_utc
from projectk.models import FillCursor, PairConfig, PairStatus, SourceFill

DEFAULT_LIMIT = 1000


def columns_of(table: Table, model: type[BaseModel]) -> list[ColumnElement[object]]:
    """Return the columns of `table` that fill the fields of `model`, in field order."""
    return [table.c[name] for name in model.model_fields]


def pair_record(row: RowMapping) -> PairRecord:
    """Build the read model of a registry row."""
    return PairRecord(
        config=PairConfig.model_validate(row["config"]),
        status=PairStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        removed_at=row["removed_at"],
    )


class LedgerReader:
    """Read-only access to the ledger through an injected engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """Return the engine this ledger uses."""
        return self._engine

    def _all(self, query: Executable) -> Sequence[RowMapping]:
        with self._engine.connect() as connection:
            return connection.execute(query).mappings().all()

    def _first(self, query: Executable) -> RowMapping | None:
        with self._engine.connect() as connection:
            return connection.execute(query).mappings().first()

    def get_pair(self, pair_id: str) -> PairRecord | None:
        """Return the registry entry of a pair, removed or not."""
        row = self._first(select(PAIRS).where(PAIRS.c.pair_id == pair_id))
        return pair_record(row) if row else None

    def list_pairs(self, include_removed: bool = False) -> list[PairRecord]:
        """Return the registered pairs by id, without removed ones unless asked."""
        query = select(PAIRS).order_by(PAIRS.c.pair_id)
        if not include_removed:
            query = query.where(PAIRS.c.status != PairStatus.REMOVED.value)
        return [pair_record(row) for row in self._all(query)]

    def get_fill(self, fill_id: str) -> FillRecord | None:
        """Return a recorded source fill."""
        row = self._first(select(SOURCE_FILLS).where(SOURCE_FILLS.c.fill_id == fill_id))
        return FillRecord.model_validate(row) if row else None

    def list_fills(
        self,
        wallet: str | None = None,
        since: datetime | None = None,
        include_retracted: bool = False,
        limit: int = DEFAULT_LIMIT,
    ) -> list[FillRecord]:
        """Return source fills in chain order (block, log index), oldest first."""
        c = SOURCE_FILLS.c
        query = select(SOURCE_FILLS).order_by(c.block_number, c.log_index).limit(limit)
        if wallet is not None:
            query = query.where(c.wallet == wallet)
        if since is not None:
            query = query.where(c.block_time >= as_utc(since))
        if not include_retracted:
            query = query.where(c.retracted_at.is_(None))
        return [FillRecord.model_validate(row) for row in self._all(query)]

    def fills_after(
        self, wallet: str, cursor: FillCursor, limit: int = DEFAULT_LIMIT
    ) -> list[SourceFill]:
        """Return a wallet's unretracted fills strictly after `cursor`, in chain order."""
        c = SOURCE_FILLS.c
        after = or_(
            c.block_number > cursor.block,
            and_(c.block_number == cursor.block, c.log_index > cursor.log_index),
        )
        query = select(*columns_of(SOURCE_FILLS, SourceFill))
        query = query.where(c.wallet == wallet, c.retracted_at.is_(None), after)
        query = query.order_by(c.block_number, c.log_index).limit(limit)
        return [SourceFill.model_validate(row) for row in self._all(query)]

    def latest_fill_cursor(self, wallet: str) -> FillCursor | None:
        """Return the cursor of a wallet's newest unretracted fill (None if it has none)."""
        c = SOURCE_FILLS.c
        query = select(c.block_number, c.log_index).where(
            c.wallet == wallet, c.retracted_at.is_(None)
        )
        row = self._first(query.order_by(c.block_number.desc(), c.log_index.desc()).limit(1))
        return FillCursor(block=row["block_number"], log_index=row["log_index"]) if row else None

    def get_order(self, pair_id: str, fill_id: str) -> OrderRecord | None:
        """Return the mirror order of one pair for one source fill."""
        c = MIRROR_ORDERS.c
        query = select(MIRROR_ORDERS).where(c.pair_id == pair_id, c.fill_id == fill_id)
        row = self._first(query)
        return OrderRecord.model_validate(row) if row else None

    def list_orders(
        self,
        pair_id: str | None = None,
        statuses: Iterable[OrderStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[OrderRecord]:
        """Return mirror orders, newest first, filtered by pair, state and creation time."""
        c = MIRROR_ORDERS.c
        query = select(MIRROR_ORDERS).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        if pair_id is not None:
            query = query.where(c.pair_id == pair_id)
        if statuses is not None:
            query = query.where(c.status.in_([OrderStatus(s).value for s in statuses]))
        if since is not None:
            query = query.where(c.created_at >= as_utc(since))
        if until is not None:
            query = query.where(c.created_at < as_utc(until))
        return [OrderRecord.model_validate(row) for row in self._all(query)]

    def list_executions(
        self, pair_id: str | None = None, fill_id: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[Execution]:
        """Return the follower's trades, oldest first, for a pair and/or one source fill."""
        c = EXECUTIONS.c
        query = select(*columns_of(EXECUTIONS, Execution))
        query = query.order_by(c.executed_at, c.order_id, c.trade_id).limit(limit)
        if pair_id is not None:
            query = query.where(c.pair_id == pair_id)
        if fill_id is not None:
            query = query.where(c.fill_id == fill_id)
        return [Execution.model_validate(row) for row in self._all(query)]

    def get_claim(self, follower: str, condition_id: str) -> ClaimRecord | None:
        """Return the claim of one follower wallet in one market."""
        c = CLAIMS.c
        query = select(*columns_of(CLAIMS, ClaimRecord))
        row = self._first(query.where(c.follower == follower, c.condition_id == condition_id))
        return ClaimRecord.model_validate(row) if row else None

    def list_claims(
        self,
        statuses: Iterable[ClaimStatus] | None = None,
        follower: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[ClaimRecord]:
        """Return claims, most recently changed first."""
        c = CLAIMS.c
        query = select(*columns_of(CLAIMS, ClaimRecord)).order_by(c.updated_at.desc(), c.id.desc())
        if statuses is not None:
            query = query.where(c.status.in_([ClaimStatus(s).value for s in statuses]))
        if follower is not None:
            query = query.where(c.follower == follower)
        return [ClaimRecord.model_validate(row) for row in self._all(query.limit(limit))]

    def pending_alerts(self, limit: int = 100) -> list[AlertRecord]:
        """Return alerts not yet delivered, oldest first."""
        query = select(ALERTS).where(ALERTS.c.delivered_at.is_(None))
        query = query.order_by(ALERTS.c.id).limit(limit)
        return [AlertRecord.model_validate(row) for row in self._all(query)]

    def list_alerts(self, since: datetime | None = None, limit: int = 100) -> list[AlertRecord]:
        """Return alerts, newest first, delivered or not."""
        query = select(ALERTS).order_by(ALERTS.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(ALERTS.c.created_at >= as_utc(since))
        return [AlertRecord.model_validate(row) for row in self._all(query)]
