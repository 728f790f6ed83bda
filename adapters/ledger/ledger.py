"""Write side of the ledger: the calls activities, the CLI and the bot make.

Invariants:
- Every write is one INSERT ... ON CONFLICT on its natural key (through the SQLite or PostgreSQL
  dialect's insert), or a guarded UPDATE; never read-then-write. A retried or concurrent
  duplicate call leaves one row and returns the same result.
- A write that would change nothing changes nothing (not even `updated_at`).
- States only move forward: a terminal mirror order or claim is never rewritten, a skip never
  hides a posted order, a claim never goes back from sent to waiting.
- The first statement of each write transaction is the write itself, so SQLite takes its write
  lock up front (and waits on the busy timeout) instead of failing on a stale read snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Table,
    and_,
    case,
    func,
    not_,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from adapters.ledger.reads import LedgerReader, columns_of, pair_record
from adapters.ledger.records import (
    TERMINAL_CLAIM_STATUSES,
    TERMINAL_ORDER_STATUSES,
    ClaimRecord,
    ClaimUpdate,
    Execution,
    OrderRecord,
    OrderStatus,
    PairRecord,
    source_order_of,
)
from adapters.ledger.tables import ALERTS, CLAIMS, EXECUTIONS, MIRROR_ORDERS, PAIRS, SOURCE_FILLS
from adapters.ledger.types import as_utc, utcnow
from projectk.models import (
    AlertLevel,
    ClaimStatus,
    MirrorReport,
    OrderIntent,
    PairConfig,
    PairStatus,
    Side,
    SourceFill,
)

Insert = sqlite.Insert | postgresql.Insert
REMOVED = PairStatus.REMOVED.value


class UnknownOrderError(LookupError):
    """A state change named a mirror order that has no recorded intent."""


class Ledger(LedgerReader):
    """The ledger: idempotent writes by natural key, plus every read of `LedgerReader`."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(engine)
        self._clock = clock

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def _insert(self, table: Table) -> Insert:
        return dialect_insert(self._engine, table)

    def _write(self, stmt: Executable) -> bool:
        # One statement in its own transaction; True if it inserted or changed a row.
        with self._engine.begin() as connection:
            return _changed(connection, stmt)

    def _order(self, connection: Connection, pair_id: str, decision_id: str) -> OrderRecord:
        c = MIRROR_ORDERS.c
        query = select(MIRROR_ORDERS).where(c.pair_id == pair_id, c.decision_id == decision_id)
        row = connection.execute(query).mappings().first()
        if row is None:
            raise UnknownOrderError(
                f"no mirror order for pair {pair_id!r} and decision {decision_id!r}"
            )
        return OrderRecord.model_validate(row)

    # -- registry ---------------------------------------------------------------------------

    def upsert_pair(self, config: PairConfig, status: PairStatus) -> PairRecord:
        """Register a pair or replace its configuration and status; return the stored entry."""
        now, values = self._now(), pair_values(config)
        stmt = self._insert(PAIRS).values(
            **values,
            status=status.value,
            created_at=now,
            updated_at=now,
            removed_at=now if status is PairStatus.REMOVED else None,
        )
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[PAIRS.c.pair_id],
            set_={
                **{name: new[name] for name in values if name != "pair_id"},
                "status": new.status,
                "updated_at": new.updated_at,
                "removed_at": _removed_at(new.status, new.updated_at),
            },
            where=or_(PAIRS.c.config.is_distinct_from(new.config), PAIRS.c.status != new.status),
        )
        with self._engine.begin() as connection:
            connection.execute(stmt)
            row = connection.execute(select(PAIRS).where(PAIRS.c.pair_id == config.pair_id))
            return pair_record(row.mappings().one())

    def set_pair_status(self, pair_id: str, status: PairStatus) -> PairRecord | None:
        """Set a registered pair's status; return the entry, or None for an unknown pair."""
        now = self._now()
        stmt = (
            update(PAIRS)
            .where(PAIRS.c.pair_id == pair_id, PAIRS.c.status != status.value)
            .values(
                status=status.value,
                updated_at=now,
                removed_at=now if status is PairStatus.REMOVED else None,
            )
        )
        with self._engine.begin() as connection:
            connection.execute(stmt)
            row = connection.execute(select(PAIRS).where(PAIRS.c.pair_id == pair_id))
            found = row.mappings().first()
            return pair_record(found) if found else None

    # -- source fills -----------------------------------------------------------------------

    def record_fill(self, fill: SourceFill) -> bool:
        """Record a source fill; True if it is new, back after a reorg had retracted it, or moved
        to another block or log index."""
        values = fill.model_dump()
        values.update(
            side=fill.side.value,
            exchange=fill.exchange.value,
            detected_at=fill.detected_at or self._now(),
            order_hash=source_order_of(fill.order_hash),
        )
        stmt = self._insert(SOURCE_FILLS).values(**values)
        new, c = stmt.excluded, SOURCE_FILLS.c
        # A fill id names the tx and the maker's order, not the log: a reorg may bring the same
        # fill back in another block at another log index (retracted meanwhile or not), and it
        # is read from its new place. A retracted fill counts as detected again.
        retracted = c.retracted_at.is_not(None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.fill_id],
            set_={
                "retracted_at": null(),
                "block_number": new.block_number,
                "log_index": new.log_index,
                "block_time": new.block_time,
                "detected_at": case((retracted, new.detected_at), else_=c.detected_at),
            },
            where=or_(
                retracted,
                c.block_number != new.block_number,
                c.log_index != new.log_index,
            ),
        )
        return self._write(stmt)

    def retract_fill(self, fill_id: str) -> bool:
        """Mark a source fill as removed by a reorg; True if this call retracted it."""
        c = SOURCE_FILLS.c
        stmt = update(SOURCE_FILLS).where(c.fill_id == fill_id, c.retracted_at.is_(None))
        return self._write(stmt.values(retracted_at=self._now()))

    # -- mirror orders ----------------------------------------------------------------------

    def record_intent(self, intent: OrderIntent) -> bool:
        """Record what a mirror flow is about to send, before sending it; True if new."""
        now = self._now()
        stmt = self._insert(MIRROR_ORDERS).values(
            pair_id=intent.pair_id,
            decision_id=intent.decision_id,
            order_hash=source_order_of(intent.decision_id),
            token_id=intent.token_id,
            side=intent.side.value,
            status=OrderStatus.INTENT.value,
            order_type=intent.order_type.value,
            limit_price=intent.limit_price,
            intended_shares_micro=intent.shares_micro,
            intended_notional_micro=intent.notional_micro,
            created_at=now,
            updated_at=now,
        )
        return self._write(stmt.on_conflict_do_nothing(index_elements=ORDER_KEY))

    def record_skip(
        self,
        pair_id: str,
        fill_id: str,
        token_id: str,
        side: Side,
        reason: str,
        order_hash: str = "",
    ) -> bool:
        """Record that a pair chose not to mirror a source fill; True if written. Never hides a
        post. The skip is kept under the fill's id as its decision id."""
        now = self._now()
        stmt = self._insert(MIRROR_ORDERS).values(
            pair_id=pair_id,
            decision_id=fill_id,
            order_hash=source_order_of(order_hash),
            token_id=token_id,
            side=Side(side).value,
            status=OrderStatus.SKIPPED.value,
            reason=reason,
            created_at=now,
            updated_at=now,
        )
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=ORDER_KEY,
            set_={"status": new.status, "reason": new.reason, "updated_at": new.updated_at},
            where=MIRROR_ORDERS.c.status == OrderStatus.INTENT.value,
        )
        return self._write(stmt)

    def mark_posted(
        self, pair_id: str, decision_id: str, order_id: str, limit_price: Decimal | None = None
    ) -> bool:
        """Record that the flow's order (or a re-priced remainder) reached the CLOB; True if new."""
        c = MIRROR_ORDERS.c
        changes: dict[str, Any] = {"status": OrderStatus.POSTED.value, "order_id": order_id}
        if limit_price is not None:
            changes["limit_price"] = limit_price
        stmt = update(MIRROR_ORDERS).where(
            c.pair_id == pair_id,
            c.decision_id == decision_id,
            or_(
                c.status == OrderStatus.INTENT.value,
                and_(c.status == OrderStatus.POSTED.value, c.order_id.is_distinct_from(order_id)),
            ),
        )
        with self._engine.begin() as connection:
            if _changed(connection, stmt.values(**changes, updated_at=self._now())):
                return True
            self._order(connection, pair_id, decision_id)  # raises when no intent was recorded
            return False

    def record_outcome(self, pair_id: str, report: MirrorReport) -> bool:
        """Record a flow's terminal outcome; True if written. A terminal row keeps its first."""
        now = self._now()
        stmt = self._insert(MIRROR_ORDERS).values(
            pair_id=pair_id,
            decision_id=report.decision_id,
            order_hash=source_order_of(report.decision_id),
            token_id=report.token_id,
            side=report.side.value,
            status=OrderStatus.from_outcome(report.outcome).value,
            reason=report.reason,
            order_id=report.order_id,
            filled_shares_micro=report.filled_shares_micro,
            notional_micro=report.notional_micro,
            fee_micro=report.fee_micro,
            created_at=now,
            updated_at=now,
        )
        new, c = stmt.excluded, MIRROR_ORDERS.c
        stmt = stmt.on_conflict_do_update(
            index_elements=ORDER_KEY,
            set_={
                **{name: new[name] for name in _OUTCOME_COLUMNS},
                "order_id": func.coalesce(new.order_id, c.order_id),
            },
            where=c.status.not_in(TERMINAL_ORDER_STATUSES),
        )
        return self._write(stmt)

    def record_execution(self, execution: Execution) -> bool:
        """Record one trade of a follower's order; True if new. A later call may add its tx hash."""
        values = execution.model_dump()
        values.update(side=execution.side.value, created_at=self._now())
        stmt = self._insert(EXECUTIONS).values(**values).on_conflict_do_nothing()
        c = EXECUTIONS.c
        add_tx = (
            update(EXECUTIONS)
            .where(c.order_id == execution.order_id, c.trade_id == execution.trade_id)
            .where(c.tx_hash.is_(None))
            .values(tx_hash=execution.tx_hash)
        )
        with self._engine.begin() as connection:
            if _changed(connection, stmt):
                return True
            if execution.tx_hash is not None:
                connection.execute(add_tx)
            return False

    # -- claims -----------------------------------------------------------------------------

    def upsert_claim(self, claim: ClaimUpdate) -> ClaimRecord:
        """Record a claim's new state; terminal claims stay as they are, None keeps old values."""
        now = self._now()
        stmt = self._insert(CLAIMS).values(
            **claim.model_dump(),
            created_at=now,
            updated_at=now,
            completed_at=now if claim.status.is_terminal else None,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[CLAIMS.c.follower, CLAIMS.c.condition_id],
            set_=_claim_changes(stmt),
            where=_claim_may_change(stmt),
        )
        c = CLAIMS.c
        query = select(*columns_of(CLAIMS, ClaimRecord))
        query = query.where(c.follower == claim.follower, c.condition_id == claim.condition_id)
        with self._engine.begin() as connection:
            connection.execute(stmt)
            return ClaimRecord.model_validate(connection.execute(query).mappings().one())

    # -- alerts -----------------------------------------------------------------------------

    def record_alert(
        self,
        dedup_key: str,
        level: AlertLevel | str,
        kind: str,
        message: str,
        pair_id: str | None = None,
    ) -> bool:
        """Queue an alert for the owners; True if new (one alert per dedup_key, ever)."""
        stmt = self._insert(ALERTS).values(
            dedup_key=dedup_key,
            level=AlertLevel(level).value,
            kind=str(kind),
            message=message,
            pair_id=pair_id,
            created_at=self._now(),
        )
        return self._write(stmt.on_conflict_do_nothing())

    def mark_alert_delivered(self, alert_id: int) -> bool:
        """Mark an alert as delivered; True if this call did it."""
        stmt = update(ALERTS).where(ALERTS.c.id == alert_id, ALERTS.c.delivered_at.is_(None))
        return self._write(stmt.values(delivered_at=self._now()))


ORDER_KEY = [MIRROR_ORDERS.c.pair_id, MIRROR_ORDERS.c.decision_id]  # a mirror order's natural key
_OUTCOME_COLUMNS = (
    "status",
    "reason",
    "filled_shares_micro",
    "notional_micro",
    "fee_micro",
    "updated_at",
)
_CLAIM_KEEP_OLD = ("payout_micro", "tx_hash", "gas_used")


def _changed(connection: Connection, stmt: Executable) -> bool:
    # psycopg reports an INSERT's row count only when asked to keep it (-1 otherwise).
    result = connection.execute(stmt, execution_options={"preserve_rowcount": True})
    return result.rowcount == 1


def dialect_insert(bind: Engine | Connection, table: Table) -> Insert:
    """Return an INSERT into `table` in the database's dialect (it offers ON CONFLICT)."""
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def pair_values(config: PairConfig) -> dict[str, Any]:
    """Return the registry columns that come from a pair's configuration."""
    return {
        "pair_id": config.pair_id,
        "source": config.source,
        "follower": config.follower,
        "funder": config.funder_address,
        "signature_type": int(config.signature_type),
        "key_ref": config.key_ref,
        "budget_micro": config.budget_micro,
        "config": config.model_dump(mode="json"),
    }


def _removed_at(status: ColumnElement[Any], now: ColumnElement[Any]) -> ColumnElement[Any]:
    # A removed pair keeps the time it was first removed; any other status clears it.
    return case((status == REMOVED, func.coalesce(PAIRS.c.removed_at, now)), else_=null())


def _claim_changes(stmt: Insert) -> dict[str, Any]:
    new, c = stmt.excluded, CLAIMS.c
    kept = {name: func.coalesce(new[name], c[name]) for name in _CLAIM_KEEP_OLD}
    return {
        **kept,
        "status": new.status,
        "updated_at": new.updated_at,
        "completed_at": new.completed_at,
    }


def _claim_may_change(stmt: Insert) -> ColumnElement[bool]:
    # Forward only, and only when something differs, so a repeated update is a no-op.
    new, c = stmt.excluded, CLAIMS.c
    regress = and_(c.status == ClaimStatus.SENT.value, new.status == ClaimStatus.WAITING.value)
    differs = or_(
        c.status != new.status,
        *(func.coalesce(new[n], c[n]).is_distinct_from(c[n]) for n in _CLAIM_KEEP_OLD),
    )
    return and_(c.status.not_in(TERMINAL_CLAIM_STATUSES), not_(regress), differs)
