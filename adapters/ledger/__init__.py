"""The ledger: ProjectK's durable record of pairs, source fills, mirror orders, executions, claims
and alerts, on a SQLite file or PostgreSQL.

Invariants:
- Rows are written idempotently by natural key, so a retried activity never writes twice.
- Callers get frozen read models (`records`), never SQLModel rows.
- The schema changes only through the Alembic migrations in `migrations/`; `open_ledger` brings a
  fresh or older database to the newest revision before handing out a `Ledger`.
"""

from adapters.ledger.engine import (
    MIGRATIONS_DIR,
    LedgerDatabaseError,
    LedgerError,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    open_ledger,
    redact,
    upgrade,
)
from adapters.ledger.feed import LedgerFillFeed
from adapters.ledger.ledger import Ledger, UnknownOrderError
from adapters.ledger.reads import LedgerReader
from adapters.ledger.records import (
    AlertRecord,
    ClaimRecord,
    ClaimUpdate,
    Execution,
    FillRecord,
    OrderRecord,
    OrderStatus,
    PairRecord,
)
from adapters.ledger.summaries import (
    PairSummary,
    PairTotals,
    TokenMark,
    TokenTotals,
    ledger_id_of,
    worker_identity,
)
from adapters.ledger.types import utcnow
from projectk.models import AlertKind, AlertLevel, ClaimStatus

__all__ = [
    "MIGRATIONS_DIR",
    "AlertKind",
    "AlertLevel",
    "AlertRecord",
    "ClaimRecord",
    "ClaimStatus",
    "ClaimUpdate",
    "Execution",
    "FillRecord",
    "Ledger",
    "LedgerDatabaseError",
    "LedgerError",
    "LedgerFillFeed",
    "LedgerReader",
    "OrderRecord",
    "OrderStatus",
    "PairRecord",
    "PairSummary",
    "PairTotals",
    "TokenMark",
    "TokenTotals",
    "UnknownOrderError",
    "create_ledger_engine",
    "current_revision",
    "head_revision",
    "ledger_id_of",
    "normalize_url",
    "open_ledger",
    "redact",
    "upgrade",
    "utcnow",
    "worker_identity",
]
