"""The ledger: ProjectK's durable record of pairs, source fills, mirror orders, executions, claims
and alerts, on a SQLite file or PostgreSQL.

Invariants:
- Rows are written idempotently by natural key, so a retried activity never writes twice.
- Callers get frozen read models (`records`), never SQLModel rows.
- The schema changes only through the Alembic migrations in `migrations/`; `open_ledger` brings a
  fresh or older database to the newest revision before handing out a `Ledger`.
- Callers never import the database libraries: a failing database reaches them as
  `LedgerDatabaseError`, backups take and restore whole-ledger snapshots (`snapshot`), and
  benchmarks and backfills write many typed records at once (`load_history`).
"""

from adapters.ledger.bulk import load_history
from adapters.ledger.engine import (
    MIGRATIONS_DIR,
    LedgerDatabaseError,
    LedgerError,
    create_ledger_engine,
    current_revision,
    head_revision,
    known_revision,
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
    OrderEntry,
    OrderRecord,
    OrderStatus,
    PairRecord,
)
from adapters.ledger.snapshot import (
    LedgerSnapshot,
    ledger_backend,
    ledger_in_place,
    restore_snapshot,
    snapshot_ledger,
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
    "LedgerSnapshot",
    "OrderEntry",
    "OrderRecord",
    "OrderStatus",
    "OutcomeCount",
    "PairRecord",
    "PairSummary",
    "PairTotals",
    "TokenMark",
    "TokenTotals",
    "UnknownOrderError",
    "create_ledger_engine",
    "current_revision",
    "head_revision",
    "known_revision",
    "ledger_backend",
    "ledger_id_of",
    "ledger_in_place",
    "load_history",
    "normalize_url",
    "open_ledger",
    "redact",
    "restore_snapshot",
    "snapshot_ledger",
    "upgrade",
    "utcnow",
    "worker_identity",
]
