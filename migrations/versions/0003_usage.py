"""Token usage of each note version: what the provider reported it cost.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-01

Both columns are NULL for notes made without an LLM (the local engine, blank text) and for
every version written before this migration.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite cannot alter tables in place beyond ADD COLUMN; Postgres ignores it.
    with op.batch_alter_table("note_versions") as batch:
        batch.add_column(sa.Column("input_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("output_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("note_versions") as batch:
        batch.drop_column("output_tokens")
        batch.drop_column("input_tokens")
