"""Subjects and their sessions (the first schema).

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema."""
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("leg_length_m", sa.Float(), nullable=True),
        sa.Column("affected_side", sa.String(length=8), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_utc", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("code", name=op.f("uq_subjects_code")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("file_status", sa.String(length=16), nullable=False),
        sa.Column("recorded_utc", sa.DateTime(), nullable=False),
        sa.Column("recorded_from", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("analysis_version", sa.String(length=32), nullable=False),
        sa.Column("analysed_utc", sa.DateTime(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("standing_s", sa.Float(), nullable=True),
        sa.Column("sitting_s", sa.Float(), nullable=True),
        sa.Column("walking_s", sa.Float(), nullable=True),
        sa.Column("hike_left_standing_pct", sa.Float(), nullable=True),
        sa.Column("hike_right_standing_pct", sa.Float(), nullable=True),
        sa.Column("hike_left_sitting_pct", sa.Float(), nullable=True),
        sa.Column("hike_right_sitting_pct", sa.Float(), nullable=True),
        sa.Column("hike_left_walking_pct", sa.Float(), nullable=True),
        sa.Column("hike_right_walking_pct", sa.Float(), nullable=True),
        sa.Column("standing_obliquity_deg", sa.Float(), nullable=True),
        sa.Column("standing_tilt_deg", sa.Float(), nullable=True),
        sa.Column("sitting_obliquity_deg", sa.Float(), nullable=True),
        sa.Column("cadence_spm", sa.Float(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("step_asymmetry_pct", sa.Float(), nullable=True),
        sa.Column("gait_speed_mps", sa.Float(), nullable=True),
        sa.Column("obliquity_rom_deg", sa.Float(), nullable=True),
        sa.Column("hike_episodes_per_h", sa.Float(), nullable=True),
        sa.Column("drop_episodes_per_h", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('monitoring', 'test', 'exercise')", name=op.f("ck_sessions_kind")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_sessions_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("content_sha256", name=op.f("uq_sessions_content_sha256")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sessions_subject_recorded", ["subject_id", "recorded_utc"], unique=False
        )


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_subject_recorded")

    op.drop_table("sessions")
    op.drop_table("subjects")
