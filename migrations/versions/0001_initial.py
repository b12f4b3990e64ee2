"""Initial schema: tenants, API keys, consultations, note versions, transcript, audio.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Runs on SQLite and Postgres alike. Written out in full (not imported from the models) so
that later model changes cannot silently rewrite history; a test compares the migrated
schema with delphos.db.models.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _big_id() -> sa.types.TypeEngine[int]:
    # BIGINT on Postgres; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("label", sa.String(255), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("revoked_at", _ts(), nullable=True),
        sa.Column("last_used_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_api_keys_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_key_hash", "api_keys", ["key_hash"], unique=True)
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])

    op.create_table(
        "consultations",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.CheckConstraint(
            "length(external_id) >= 1", name=op.f("ck_consultations_external_id_not_empty")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_consultations_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consultations"),
        sa.UniqueConstraint(
            "tenant_id", "external_id", name="uq_consultations_tenant_id_external_id"
        ),
    )

    op.create_table(
        "note_versions",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("consultation_id", _big_id(), nullable=False),
        sa.Column("subjective", sa.Text(), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("soap_hash", sa.String(64), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("is_degraded", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name="fk_note_versions_consultation_id_consultations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_note_versions"),
        sa.UniqueConstraint(
            "consultation_id",
            "soap_hash",
            "text_hash",
            "created_at",
            name="uq_note_versions_write",
        ),
    )
    op.create_index(
        "ix_note_versions_consultation_id_id", "note_versions", ["consultation_id", "id"]
    )
    op.create_index(
        "ix_note_versions_consultation_id_soap_hash",
        "note_versions",
        ["consultation_id", "soap_hash"],
    )

    op.create_table(
        "transcript_turns",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("consultation_id", _big_id(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=False),
        sa.Column("edited_text", sa.Text(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("ended_at", _ts(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name="fk_transcript_turns_consultation_id_consultations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transcript_turns"),
        sa.UniqueConstraint(
            "consultation_id", "seq", name="uq_transcript_turns_consultation_id_seq"
        ),
    )

    op.create_table(
        "session_audio",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("consultation_id", _big_id(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name="fk_session_audio_consultation_id_consultations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_session_audio"),
    )
    op.create_index("ix_session_audio_consultation_id", "session_audio", ["consultation_id"])


def downgrade() -> None:
    op.drop_index("ix_session_audio_consultation_id", table_name="session_audio")
    op.drop_table("session_audio")
    op.drop_table("transcript_turns")
    op.drop_index("ix_note_versions_consultation_id_soap_hash", table_name="note_versions")
    op.drop_index("ix_note_versions_consultation_id_id", table_name="note_versions")
    op.drop_table("note_versions")
    op.drop_table("consultations")
    op.drop_index("ix_api_keys_tenant_id", table_name="api_keys")
    op.drop_index("ix_api_keys_prefix", table_name="api_keys")
    op.drop_index("ix_api_keys_key_hash", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("tenants")
