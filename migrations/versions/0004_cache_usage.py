"""Prompt-cache token counts of each note version.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

The parts of ``input_tokens`` the LLM provider wrote to and read from its prompt cache
(Anthropic reports both; OpenAI-compatible servers may report the read part). NULL when
the provider reported none, and for every version written before this migration.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite cannot alter tables in place beyond ADD COLUMN; Postgres ignores it.
    with op.batch_alter_table("note_versions") as batch:
        batch.add_column(sa.Column("cache_creation_input_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cache_read_input_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("note_versions") as batch:
        batch.drop_column("cache_read_input_tokens")
        batch.drop_column("cache_creation_input_tokens")
