"""Read side of the ledger: what the dashboard, the bot and the CLI look up.

Invariants:
- Reads never write and never lock beyond their own short transaction.
- Every method returns frozen read models from `records` (or, for aggregates, `summaries`),
  never rows; lists are bounded by `limit` and come in a stated order.
- The aggregate reads (`order_totals`, `pair_totals`, …) are grouped SQL queries; Python only
  folds their grouped rows (one per pair and token), never loops over orders.
- `ledger_id` is the id migration 0002 wrote; `worker_identity`/`ledger_id_of` (in `summaries`)
  are the one format in which workers advertise it to Temporal and readers recognise it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import (
    Engine,
    Executable,
    RowMapping,
    Table,
    and_,
    case,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from adapters.ledger.records import (
    AlertRecord,
    ClaimRecord,
    Execution,
    FillRecord,
    OrderRecord,
    OrderStatus,
    PairRecord,
)
from adapters.ledger.summaries import (
    OutcomeCount,
    PairSummary,
    PairTotals,
    TokenMark,
    TokenTotals,
    ledger_id_of,
    worker_identity,
)
from adapters.ledger.tables import (
    ALERTS,
    CLAIMS,
    EXECUTIONS,
    LEDGER_IDENTITY,
    MIRROR_ORDERS,
    PAIRS,
    SOURCE_FILLS,
)
from adapters.ledger.types import as_utc
from projectk.models import ClaimStatus, FillCursor, PairConfig, PairStatus, SourceFill

__all__ = [
    "LedgerReader",
    "OutcomeCount",
    "PairSummary",
    "PairTotals",
    "TokenMark",
    "TokenTotals",
    "columns_of",
    "ledger_id_of",
    "pair_record",
    "worker_identity",
]

DEFAULT_LIMIT = 1000
_TAKEN = (OrderStatus.FILLED.value, OrderStatus.PARTIAL.value, OrderStatus.UNFILLED.value)
_OPEN = (OrderStatus.INTENT.value, OrderStatus.POSTED.value)


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

    def newest_fill(self) -> FillRecord | None:
        """Return the most recently detected unretracted source fill of any wallet."""
        c = SOURCE_FILLS.c
        query = select(SOURCE_FILLS).where(c.retracted_at.is_(None))
        row = self._first(query.order_by(c.detected_at.desc(), c.block_number.desc()).limit(1))
        return FillRecord.model_validate(row) if row else None

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

    def get_order(self, pair_id: str, decision_id: str) -> OrderRecord | None:
        """Return a pair's mirror order of one decision (or its skip of one source fill)."""
        c = MIRROR_ORDERS.c
        query = select(MIRROR_ORDERS).where(c.pair_id == pair_id, c.decision_id == decision_id)
        row = self._first(query)
        return OrderRecord.model_validate(row) if row else None

    def list_orders(
        self,
        pair_id: str | None = None,
        statuses: Iterable[OrderStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        order_hash: str | None = None,
    ) -> list[OrderRecord]:
        """Return mirror orders, newest first, filtered by pair, state, creation time and source
        order (its decisions and skipped fills)."""
        c = MIRROR_ORDERS.c
        query = select(MIRROR_ORDERS).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        if pair_id is not None:
            query = query.where(c.pair_id == pair_id)
        if order_hash is not None:
            query = query.where(c.order_hash == order_hash.lower())
        if statuses is not None:
            query = query.where(c.status.in_([OrderStatus(s).value for s in statuses]))
        if since is not None:
            query = query.where(c.created_at >= as_utc(since))
        if until is not None:
            query = query.where(c.created_at < as_utc(until))
        return [OrderRecord.model_validate(row) for row in self._all(query)]

    def list_executions(
        self,
        pair_id: str | None = None,
        decision_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[Execution]:
        """Return the follower's trades, oldest first, for a pair and/or one mirror decision."""
        c = EXECUTIONS.c
        query = select(*columns_of(EXECUTIONS, Execution))
        query = query.order_by(c.executed_at, c.order_id, c.trade_id).limit(limit)
        if pair_id is not None:
            query = query.where(c.pair_id == pair_id)
        if decision_id is not None:
            query = query.where(c.decision_id == decision_id)
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

    # -- aggregates (dashboard) -------------------------------------------------------------

    def ledger_id(self) -> str | None:
        """Return the id naming this ledger database (None before migration 0002)."""
        with self._engine.connect() as connection:
            if not inspect(connection).has_table(LEDGER_IDENTITY.name):
                return None
            query = select(LEDGER_IDENTITY.c.ledger_id).order_by(LEDGER_IDENTITY.c.created_at)
            found = connection.execute(query.limit(1)).scalar()
            return str(found) if found is not None else None

    def pair_summaries(self) -> list[PairSummary]:
        """Return every registered pair that is not removed, by id, from plain columns."""
        c = PAIRS.c
        query = select(c.pair_id, c.source, c.follower, c.budget_micro, c.status)
        query = query.where(c.status != PairStatus.REMOVED.value).order_by(c.pair_id)
        return [PairSummary.model_validate(_ints(row)) for row in self._all(query)]

    def pair_totals(self, since: datetime, pair_id: str | None = None) -> list[PairTotals]:
        """Return every pair's order totals by pair id; `fills_since` counts from `since`."""
        return self.order_totals(since, pair_id)[0]

    def order_totals(
        self, since: datetime, pair_id: str | None = None
    ) -> tuple[list[PairTotals], list[TokenTotals]]:
        """Return per-pair totals and per-token holdings from one grouped scan of the orders."""
        c = MIRROR_ORDERS.c
        filled, buy = c.filled_shares_micro > 0, c.side == "BUY"
        query = select(
            c.pair_id,
            c.token_id,
            func.count().label("orders"),
            _count(c.status.not_in(_OPEN)).label("finished"),
            _count(filled).label("filled_orders"),
            _sum(filled, c.notional_micro).label("volume_micro"),
            _sum(buy, c.notional_micro + c.fee_micro).label("bought_micro"),
            _sum(~buy, c.notional_micro - c.fee_micro).label("sold_micro"),
            _sum(c.status.in_(_OPEN), c.intended_notional_micro).label("open_micro"),
            _count(and_(filled, c.updated_at >= as_utc(since))).label("fills_since"),
            func.max(case((filled, c.updated_at))).label("last_fill_at"),
            func.max(c.created_at).label("last_order_at"),
            _sum(buy, c.filled_shares_micro).label("bought_shares_micro"),
            _sum(~buy, c.filled_shares_micro).label("sold_shares_micro"),
        )
        # Token first: no index leads with token_id, so SQLite scans the table once instead of
        # walking the (pair_id, created_at) index with a random table read per row (~1/3 slower).
        query = query.group_by(c.token_id, c.pair_id)
        if pair_id is not None:
            query = query.where(c.pair_id == pair_id)
        grouped = [_ints(row) for row in self._all(query)]
        rows = sorted(grouped, key=lambda row: (str(row["pair_id"]), str(row["token_id"])))
        tokens = [
            TokenTotals.model_validate({k: row[k] for k in TokenTotals.model_fields})
            for row in rows
            if row["bought_shares_micro"] or row["sold_shares_micro"]
        ]
        return _per_pair(rows, self._failure_streaks(pair_id)), tokens

    def outcome_counts(self, pair_id: str) -> list[OutcomeCount]:
        """Return how many of a pair's mirror orders are in each state, per reason, by state."""
        c = MIRROR_ORDERS.c
        query = select(c.status, c.reason, func.count().label("orders"))
        query = query.where(c.pair_id == pair_id).group_by(c.status, c.reason)
        rows = self._all(query.order_by(c.status, c.reason))
        return [OutcomeCount.model_validate(_ints(row)) for row in rows]

    def _failure_streaks(self, pair_id: str | None) -> dict[str, int]:
        # Failed rows after the pair's newest order the venue took (filled, partial, unfilled);
        # skips and cancels neither extend nor end a streak, as in the pair's books. One grouped
        # pass finds each pair's last taken id, a second counts the failures after it.
        c = MIRROR_ORDERS.c
        taken = select(
            c.pair_id.label("pair_id"),
            func.coalesce(func.max(case((c.status.in_(_TAKEN), c.id))), 0).label("last_id"),
        ).group_by(c.pair_id)
        if pair_id is not None:
            taken = taken.where(c.pair_id == pair_id)
        last = taken.subquery()
        query = (
            select(c.pair_id, func.count().label("n"))
            .join(last, last.c.pair_id == c.pair_id)
            .where(c.status == OrderStatus.FAILED.value, c.id > last.c.last_id)
            .group_by(c.pair_id)
        )
        return {row["pair_id"]: int(row["n"]) for row in self._all(query)}

    def token_totals(self, pair_id: str | None = None) -> list[TokenTotals]:
        """Return what each pair bought and sold per token (filled orders), by pair and token."""
        return self.order_totals(datetime.min, pair_id)[1]

    def token_marks(self, token_ids: Iterable[str]) -> dict[str, TokenMark]:
        """Return the newest unretracted source-fill price of each token that has one."""
        wanted = sorted(set(token_ids))
        if not wanted:
            return {}
        c = SOURCE_FILLS.c
        newest = (
            select(c.token_id, func.max(c.block_number).label("block"))
            .where(c.retracted_at.is_(None), c.token_id.in_(wanted))
            .group_by(c.token_id)
            .subquery()
        )
        query = select(c.token_id, c.price, c.block_number, c.log_index).join(
            newest, and_(c.token_id == newest.c.token_id, c.block_number == newest.c.block)
        )
        marks: dict[str, TokenMark] = {}
        for row in self._all(query.where(c.retracted_at.is_(None))):
            mark = TokenMark.model_validate(row)
            known = marks.get(mark.token_id)
            if known is None or mark.log_index > known.log_index:
                marks[mark.token_id] = mark
        return marks

    def last_fill_times(self) -> dict[str, datetime]:
        """Return each watched wallet's newest unretracted source-fill time."""
        c = SOURCE_FILLS.c
        query = select(c.wallet, func.max(c.block_time).label("at")).where(c.retracted_at.is_(None))
        return {row["wallet"]: row["at"] for row in self._all(query.group_by(c.wallet))}

    def newest_fill_block(self) -> int | None:
        """Return the highest block of any unretracted source fill (None if there is none)."""
        c = SOURCE_FILLS.c
        row = self._first(
            select(func.max(c.block_number).label("b")).where(c.retracted_at.is_(None))
        )
        return int(row["b"]) if row and row["b"] is not None else None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum(condition: ColumnElement[bool], value: ColumnElement[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _ints(row: RowMapping) -> dict[str, object]:
    # PostgreSQL sums BIGINT as NUMERIC: hand the models exact ints, not Decimals.
    return {key: int(value) if isinstance(value, Decimal) else value for key, value in row.items()}


def _per_pair(rows: list[dict[str, object]], streaks: dict[str, int]) -> list[PairTotals]:
    # Fold the (pair, token) groups, sorted by pair, into one total per pair (in that order).
    totals: dict[str, dict[str, object]] = {}
    for row in rows:
        into = totals.setdefault(str(row["pair_id"]), {"pair_id": row["pair_id"]})
        for name in PairTotals.model_fields:
            value, have = row.get(name), into.get(name)
            if name == "pair_id" or value is None:
                continue
            if isinstance(value, datetime):
                into[name] = max(have, value) if isinstance(have, datetime) else value
            elif isinstance(value, int):
                into[name] = have + value if isinstance(have, int) else value
    return [
        PairTotals.model_validate({**fields, "failure_streak": streaks.get(pair, 0)})
        for pair, fields in totals.items()
    ]
