"""The stopping rule's random samples: each draw, and the urn's seeded order, recorded so
a claim that the recall target is met can be audited.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stopping_samples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.Text()),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("pool", sa.Integer(), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("ranked_relevant", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.Column("extends", sa.Integer(), sa.ForeignKey("stopping_samples.id")),
        sa.Column("drawn_at", sa.Text(), nullable=False),
        sa.Column("drawn_by", sa.Text()),
        sa.CheckConstraint("stage IN ('ta', 'ft')", name="stopping_samples_stage"),
    )
    op.create_table(
        "stopping_urn",
        sa.Column("sample_id", sa.Integer(), sa.ForeignKey("stopping_samples.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.PrimaryKeyConstraint("sample_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("stopping_urn")
    op.drop_table("stopping_samples")
