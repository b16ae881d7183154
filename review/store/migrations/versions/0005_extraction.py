"""Extraction and appraisal: the studies to extract, and every value and every appraisal
answer entered or resolved as an event.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extraction_studies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("cluster_id", sa.Integer()),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("records.id")),
        sa.Column("added_at", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text()),
        sa.UniqueConstraint("label", name="extraction_studies_label"),
    )
    op.create_table(
        "extraction_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("extraction_studies.id"), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("value", sa.Text()),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.CheckConstraint("form IN ('study', 'case', 'aggregate')", name="extraction_events_form"),
        sa.CheckConstraint("kind IN ('enter', 'resolve')", name="extraction_events_kind"),
        sa.CheckConstraint(
            "status IN ('value', 'not_reported', 'cleared')", name="extraction_events_status"
        ),
        sa.CheckConstraint(
            "(status = 'value' AND value IS NOT NULL) OR (status <> 'value' AND value IS NULL)",
            name="extraction_events_value",
        ),
    )
    op.create_index(
        "extraction_events_cell", "extraction_events", ["study_id", "form", "row_key", "field"]
    )
    op.create_table(
        "appraisal_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("extraction_studies.id"), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.CheckConstraint("kind IN ('enter', 'resolve')", name="appraisal_events_kind"),
    )
    op.create_index("appraisal_events_study", "appraisal_events", ["study_id", "tool"])


def downgrade() -> None:
    op.drop_index("appraisal_events_study", table_name="appraisal_events")
    op.drop_table("appraisal_events")
    op.drop_index("extraction_events_cell", table_name="extraction_events")
    op.drop_table("extraction_events")
    op.drop_table("extraction_studies")
