"""Ledger identity: one row with a random id that names this database.

Workers advertise the id in their Temporal identity, and the dashboard compares it with the
ledger it reads, so "the dashboard reads another (or a copied) database" is visible. The id is
generated here, once per database, and no later write changes it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    identity = op.create_table(
        "ledger_identity",
        sa.Column("ledger_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ledger_id", name=op.f("pk_ledger_identity")),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # the ledger stores UTC wall time on SQLite
    op.bulk_insert(identity, [{"ledger_id": str(uuid.uuid4()), "created_at": now}])


def downgrade() -> None:
    op.drop_table("ledger_identity")
