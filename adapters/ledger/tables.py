"""The ledger's tables, as SQLModel classes on their own metadata.

Invariants:
- Each table has a natural key the writes conflict on: pairs.pair_id, source_fills.fill_id,
  mirror_orders (pair_id, decision_id), executions (order_id, trade_id), claims (follower,
  condition_id), alerts.dedup_key. A retried write lands on the same row.
- A mirror_orders row is one mirror decision of a pair (decision id: the source order hash,
  "<hash>/n" for its n-th top-up) or one source fill the pair skipped (decision id: that fill's
  id). `order_hash` names the source order in both cases; it is a 0x hash or '' (rows and fills
  recorded before migration 0003, fills without one).
- Money and share columns are BIGINT micro-units; prices are exact decimal text; timestamps are
  aware UTC (`UtcDateTime`). State columns hold the string values of the enums in `records`.
- Constraint names follow `NAMING_CONVENTION`, so later migrations can name what they alter.
- These classes stay inside the ledger package: `Ledger` returns the read models of `records`.
- Foreign keys only where one flow writes both rows in order (an execution follows its order's
  intent). Mirror orders do not reference the registry: a pair's workflow may record a skip
  before the CLI's registry write commits, and a flow's ledger write must never fail on that.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from adapters.ledger.types import DecimalText, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
LEDGER_METADATA = MetaData(naming_convention=NAMING_CONVENTION)

ADDRESS = 42  # 0x + 40 hex digits
HASH = 66  # 0x + 64 hex digits
FILL_ID = 140  # "<tx hash>:<order hash>" is 133, plus a "#n" for a later fill of one order in a tx
TOKEN = 80  # a uint256 in decimal has at most 78 digits
STATE = 16
CONFIG_JSON = JSON().with_variant(JSONB(), "postgresql")


def _micro(*, nullable: bool = False) -> Any:
    # A money or share amount in micro-units; SQLite's INTEGER is 64-bit already.
    return Field(default=0, sa_type=BigInteger, nullable=nullable)


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


def _text(length: int, *, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=String(length), nullable=nullable, index=index)


def _order_hash() -> Any:
    # The source order a fill or decision belongs to; '' when unknown (see the invariants).
    return Field(
        default="", sa_type=String(HASH), nullable=False, sa_column_kwargs={"server_default": ""}
    )


class LedgerModel(SQLModel, registry=registry(metadata=LEDGER_METADATA)):
    """Base of the ledger tables: its own metadata, so nothing else lands in the migrations."""


class PairRow(LedgerModel, table=True):
    """The registry: one row per pair ever registered (removed pairs keep their row)."""

    __tablename__ = "pairs"

    pair_id: str = Field(sa_type=String(64), primary_key=True)
    source: str = _text(ADDRESS, index=True)
    follower: str = _text(ADDRESS, index=True)
    funder: str = _text(ADDRESS)  # the address holding the funds (the follower when unset)
    signature_type: int = Field(default=0, sa_type=Integer, nullable=False)
    key_ref: str = _text(80)
    budget_micro: int = _micro()
    config: dict[str, Any] = Field(sa_type=CONFIG_JSON, nullable=False)  # PairConfig, JSON mode
    status: str = _text(STATE, index=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()
    removed_at: datetime | None = _time(nullable=True)


class SourceFillRow(LedgerModel, table=True):
    """Fills of watched wallets, one per maker OrderFilled log, shared by all pairs that follow."""

    __tablename__ = "source_fills"
    __table_args__ = (Index("ix_source_fills_wallet_block", "wallet", "block_number", "log_index"),)

    fill_id: str = Field(sa_type=String(FILL_ID), primary_key=True)  # "<tx hash>:<order hash>"
    order_hash: str = _order_hash()
    wallet: str = _text(ADDRESS)
    side: str = _text(4)
    token_id: str = _text(TOKEN, index=True)
    shares_micro: int = _micro()
    notional_micro: int = _micro()
    price: Decimal = Field(sa_type=DecimalText, nullable=False)
    fee_micro: int = _micro()
    exchange: str = _text(STATE)
    tx_hash: str = _text(HASH)
    block_number: int = Field(sa_type=BigInteger, nullable=False)
    log_index: int = Field(sa_type=Integer, nullable=False)
    block_time: datetime = _time(index=True)
    detected_at: datetime = _time()
    retracted_at: datetime | None = _time(nullable=True)


class MirrorOrderRow(LedgerModel, table=True):
    """One mirror decision per (pair, decision id), or one skipped source fill: its intent, state
    and totals."""

    __tablename__ = "mirror_orders"
    __table_args__ = (
        UniqueConstraint("pair_id", "decision_id"),
        UniqueConstraint("order_id"),
        Index("ix_mirror_orders_pair_created", "pair_id", "created_at"),
        Index("ix_mirror_orders_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, sa_type=Integer, primary_key=True)
    pair_id: str = _text(64)
    decision_id: str = _text(FILL_ID)  # a skipped fill's id is as long as a fill id
    order_hash: str = _order_hash()
    token_id: str = _text(TOKEN)
    side: str = _text(4)
    status: str = _text(STATE)  # an OrderStatus value
    reason: str = Field(default="", sa_type=Text, nullable=False)
    order_id: str | None = _text(HASH, nullable=True)  # latest posted order hash
    order_type: str | None = _text(8, nullable=True)
    limit_price: Decimal | None = Field(default=None, sa_type=DecimalText, nullable=True)
    intended_shares_micro: int = _micro()
    intended_notional_micro: int = _micro()
    filled_shares_micro: int = _micro()
    notional_micro: int = _micro()
    fee_micro: int = _micro()
    created_at: datetime = _time(index=True)
    updated_at: datetime = _time()


class ExecutionRow(LedgerModel, table=True):
    """Trades of the follower's orders; several per mirror flow when it re-prices a remainder."""

    __tablename__ = "executions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["pair_id", "decision_id"], ["mirror_orders.pair_id", "mirror_orders.decision_id"]
        ),
        Index("ix_executions_pair_decision", "pair_id", "decision_id"),
    )

    order_id: str = Field(sa_type=String(HASH), primary_key=True)
    trade_id: str = Field(sa_type=String(100), primary_key=True)
    pair_id: str = _text(64)
    decision_id: str = _text(FILL_ID)
    side: str = _text(4)
    shares_micro: int = _micro()
    price: Decimal = Field(sa_type=DecimalText, nullable=False)
    notional_micro: int = _micro()
    fee_micro: int = _micro()
    tx_hash: str | None = _text(HASH, nullable=True)
    executed_at: datetime = _time(index=True)
    created_at: datetime = _time()


class ClaimRow(LedgerModel, table=True):
    """Redemption of one follower wallet's position in one market, whatever pairs hold it."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("follower", "condition_id"),)

    id: int | None = Field(default=None, sa_type=Integer, primary_key=True)
    follower: str = _text(ADDRESS)
    condition_id: str = _text(HASH)
    status: str = _text(STATE, index=True)  # a ClaimStatus value
    payout_micro: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    tx_hash: str | None = _text(HASH, nullable=True)
    gas_used: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()
    completed_at: datetime | None = _time(nullable=True)


class AlertRow(LedgerModel, table=True):
    """Alerts for the owners; `delivered_at` is set once the bot has sent one."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("dedup_key"),
        Index("ix_alerts_pending", "delivered_at", "id"),
    )

    id: int | None = Field(default=None, sa_type=Integer, primary_key=True)
    dedup_key: str = _text(200)
    level: str = _text(8)  # an AlertLevel value
    kind: str = _text(32)
    pair_id: str | None = _text(64, nullable=True, index=True)
    message: str = Field(sa_type=Text, nullable=False)
    created_at: datetime = _time(index=True)
    delivered_at: datetime | None = _time(nullable=True)


class LedgerIdentityRow(LedgerModel, table=True):
    """The ledger's name: one row with a random id, written by migration 0002 and never changed.

    Workers advertise this id (see `summaries.worker_identity`), so a reader can tell whether it
    reads the same database the workers write.
    """

    __tablename__ = "ledger_identity"

    ledger_id: str = Field(sa_type=String(36), primary_key=True)
    created_at: datetime = _time()


def _table(name: str) -> Table:
    return LEDGER_METADATA.tables[name]


PAIRS = _table("pairs")
SOURCE_FILLS = _table("source_fills")
MIRROR_ORDERS = _table("mirror_orders")
EXECUTIONS = _table("executions")
CLAIMS = _table("claims")
ALERTS = _table("alerts")
LEDGER_IDENTITY = _table("ledger_identity")
