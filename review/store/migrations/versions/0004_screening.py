"""Screening: decisions, resets, notes and resolutions as events; a stage's blinding;
work allocation; full-text retrieval; reports linked to the study they describe.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _paper(prefix: str = "") -> list[sa.Column[object]]:
    return [
        sa.Column(f"{prefix}cluster_id", sa.Integer(), nullable=bool(prefix)),
        sa.Column(
            f"{prefix}record_id",
            sa.Integer(),
            sa.ForeignKey("records.id"),
            nullable=bool(prefix),
        ),
        sa.Column(f"{prefix}members", sa.Text(), nullable=False, server_default="[]"),
    ]


def upgrade() -> None:
    op.create_table(
        "screening_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        *_paper(),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("note", sa.Text()),
        sa.Column("decided_at", sa.Text(), nullable=False),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text()),
        sa.Column("source", sa.Text()),
        sa.CheckConstraint("stage IN ('ta', 'ft')", name="screening_events_stage"),
        sa.CheckConstraint(
            "kind IN ('decide', 'reset', 'note', 'resolve', 'unresolve')",
            name="screening_events_kind",
        ),
        sa.CheckConstraint(
            "decision IN ('include', 'exclude', 'maybe')", name="screening_events_decision"
        ),
        sa.CheckConstraint(
            "(kind IN ('decide', 'resolve') AND decision IS NOT NULL)"
            " OR (kind NOT IN ('decide', 'resolve') AND decision IS NULL)",
            name="screening_events_decided",
        ),
    )
    op.create_index("screening_events_person", "screening_events", ["stage", "person"])
    op.create_index("screening_events_record", "screening_events", ["record_id"])
    op.create_table(
        "screening_blinding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.CheckConstraint("stage IN ('ta', 'ft')", name="screening_blinding_stage"),
        sa.CheckConstraint("kind IN ('unblind', 'blind')", name="screening_blinding_kind"),
    )
    op.create_table(
        "screening_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("reviewer", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.Text(), nullable=False),
        sa.Column("assigned_by", sa.Text()),
        sa.CheckConstraint("stage IN ('ta', 'ft')", name="screening_assignments_stage"),
    )
    op.create_index(
        "screening_assignments_reviewer", "screening_assignments", ["stage", "reviewer"]
    )
    op.create_table(
        "fulltext_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        *_paper(),
        sa.Column("location", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("by", sa.Text()),
        sa.CheckConstraint(
            "kind IN ('retrieved', 'not_retrieved', 'reset')", name="fulltext_events_kind"
        ),
    )
    op.create_table(
        "study_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        *_paper(),
        *_paper("study_"),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("by", sa.Text()),
        sa.CheckConstraint("kind IN ('link', 'unlink')", name="study_links_kind"),
        sa.CheckConstraint(
            "(kind = 'link' AND study_record_id IS NOT NULL)"
            " OR (kind = 'unlink' AND study_record_id IS NULL)",
            name="study_links_study",
        ),
    )


def downgrade() -> None:
    for table in (
        "study_links",
        "fulltext_events",
        "screening_assignments",
        "screening_blinding",
        "screening_events",
    ):
        op.drop_table(table)
