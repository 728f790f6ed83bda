"""Mirror decisions per source order: decision ids, order hashes and longer fill ids.

A pair now makes one mirror decision per source order, not one mirror per source fill, and a
fill id names the maker's order ("<tx hash>:<order hash>", 133 characters, maybe "#n") instead of
the log index. So:

- source_fills: `fill_id` grows to 140 characters; new `order_hash` (the source order the fill
  is a piece of; '' for fills recorded before this revision).
- mirror_orders (which also holds the skips): `fill_id` becomes `decision_id` (140 characters):
  the order hash, "<hash>/n" for a top-up, or for a skipped source fill that fill's id. New
  `order_hash`. Rows written before keep their fill id as decision id and get order hash ''.
- executions: `fill_id` becomes `decision_id` (140), still a foreign key to mirror_orders, with
  its index renamed to match.

The foreign key from executions is dropped first and made again last: on SQLite each table is
rebuilt (batch mode) inside the migration's transaction, where foreign keys stay enforced and
a referenced table cannot be dropped and rebuilt. A constraint or index on a renamed column is
made in a batch of its own: in the batch that renames it, SQLite's rebuild would leave it out.
On PostgreSQL the same steps are plain ALTERs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ID, NEW_ID = 100, 140
HASH = 66


def _order_hash() -> sa.Column[str]:
    return sa.Column("order_hash", sa.String(length=HASH), nullable=False, server_default="")


def upgrade() -> None:
    with op.batch_alter_table("source_fills") as batch:
        batch.alter_column(
            "fill_id", type_=sa.String(length=NEW_ID), existing_type=sa.String(length=OLD_ID)
        )
        batch.add_column(_order_hash())

    with op.batch_alter_table("executions") as batch:
        batch.drop_constraint("fk_executions_pair_id_fill_id_mirror_orders", type_="foreignkey")
        batch.drop_index("ix_executions_pair_fill")
        batch.alter_column(
            "fill_id",
            new_column_name="decision_id",
            type_=sa.String(length=NEW_ID),
            existing_type=sa.String(length=OLD_ID),
            existing_nullable=False,
        )
    with op.batch_alter_table("mirror_orders") as batch:
        batch.drop_constraint("uq_mirror_orders_pair_id_fill_id", type_="unique")
        batch.alter_column(
            "fill_id",
            new_column_name="decision_id",
            type_=sa.String(length=NEW_ID),
            existing_type=sa.String(length=OLD_ID),
            existing_nullable=False,
        )
        batch.add_column(_order_hash())
    with op.batch_alter_table("mirror_orders") as batch:
        batch.create_unique_constraint(
            "uq_mirror_orders_pair_id_decision_id", ["pair_id", "decision_id"]
        )
    with op.batch_alter_table("executions") as batch:
        batch.create_foreign_key(
            "fk_executions_pair_id_decision_id_mirror_orders",
            "mirror_orders",
            ["pair_id", "decision_id"],
            ["pair_id", "decision_id"],
        )
        batch.create_index("ix_executions_pair_decision", ["pair_id", "decision_id"])


def downgrade() -> None:
    # Ids longer than 100 characters (every fill id written since) do not fit back: PostgreSQL
    # then refuses the downgrade instead of cutting them.
    with op.batch_alter_table("executions") as batch:
        batch.drop_constraint(
            "fk_executions_pair_id_decision_id_mirror_orders", type_="foreignkey"
        )
        batch.drop_index("ix_executions_pair_decision")
        batch.alter_column(
            "decision_id",
            new_column_name="fill_id",
            type_=sa.String(length=OLD_ID),
            existing_type=sa.String(length=NEW_ID),
            existing_nullable=False,
        )
    with op.batch_alter_table("mirror_orders") as batch:
        batch.drop_constraint("uq_mirror_orders_pair_id_decision_id", type_="unique")
        batch.drop_column("order_hash")
        batch.alter_column(
            "decision_id",
            new_column_name="fill_id",
            type_=sa.String(length=OLD_ID),
            existing_type=sa.String(length=NEW_ID),
            existing_nullable=False,
        )
    with op.batch_alter_table("mirror_orders") as batch:
        batch.create_unique_constraint("uq_mirror_orders_pair_id_fill_id", ["pair_id", "fill_id"])
    with op.batch_alter_table("executions") as batch:
        batch.create_foreign_key(
            "fk_executions_pair_id_fill_id_mirror_orders",
            "mirror_orders",
            ["pair_id", "fill_id"],
            ["pair_id", "fill_id"],
        )
        batch.create_index("ix_executions_pair_fill", ["pair_id", "fill_id"])

    with op.batch_alter_table("source_fills") as batch:
        batch.drop_column("order_hash")
        batch.alter_column(
            "fill_id", type_=sa.String(length=OLD_ID), existing_type=sa.String(length=NEW_ID)
        )
