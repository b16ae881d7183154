"""The schema of casepool's first release: protocol versions, loads, records, the search log
and deduplication (its numbered SQL migrations 0001 to 0003, written for Alembic).

A store made by that release is stamped with this revision instead of running it
(``review.store.migrate``), so both paths lead to the same tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text())


def _json(name: str, empty: str = "[]") -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=False, server_default=empty)


def upgrade() -> None:
    op.create_table(
        "protocol_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('original', 'amendment')"),
    )
    op.create_table(
        "loads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        _text("file_name"),
        _text("sha256"),
        sa.Column("started_at", sa.Text(), nullable=False),
        _text("finished_at"),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("n_read", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("n_new", sa.Integer(), nullable=False, server_default="0"),
        _json("details", "{}"),
        sa.CheckConstraint("kind IN ('search', 'file')"),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed')"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("load_id", sa.Integer(), sa.ForeignKey("loads.id"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        _text("source_id"),
        _text("title"),
        _text("abstract"),
        _json("authors"),
        _text("journal"),
        _text("journal_iso"),
        sa.Column("year", sa.Integer()),
        _text("volume"),
        _text("issue"),
        _text("pages"),
        _text("doi"),
        _text("pmid"),
        _text("pmcid"),
        _text("issn"),
        _text("language"),
        _text("record_type"),
        _text("url"),
        _json("publication_types"),
        _json("mesh"),
        _json("keywords"),
        _json("extra"),
        _text("raw"),
        _text("deleted_at"),
        sa.UniqueConstraint("source", "source_id"),
    )
    op.create_index("records_pmid", "records", ["pmid"])
    op.create_index("records_doi", "records", ["doi"])
    op.create_index("records_load", "records", ["load_id"])

    op.create_table(
        "search_runs",
        sa.Column(
            "load_id",
            sa.Integer(),
            sa.ForeignKey("loads.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("database", sa.Text(), nullable=False, server_default="pubmed"),
        _text("query"),
        _text("query_translation"),
        sa.Column("count", sa.Integer()),
        _json("warnings"),
        _text("mindate"),
        _text("maxdate"),
        _text("datetype"),
        _text("webenv"),
        _text("query_key"),
        _json("windows"),
        sa.Column("batch_size", sa.Integer()),
        _text("error"),
        sa.Column("resumed", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("mode IN ('eutils', 'file')"),
        sa.CheckConstraint("datetype IN ('pdat', 'edat', 'mdat')"),
    )
    op.create_table(
        "search_pmids",
        sa.Column("load_id", sa.Integer(), sa.ForeignKey("loads.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pmid", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False, server_default="pending"),
        sa.PrimaryKeyConstraint("load_id", "pmid"),
        sa.CheckConstraint("state IN ('pending', 'fetched', 'known', 'missing')"),
    )
    op.create_index("search_pmids_pending", "search_pmids", ["load_id", "state", "position"])

    op.create_table(
        "dedup_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_clusters", sa.Integer(), nullable=False),
        sa.Column("n_duplicates", sa.Integer(), nullable=False),
        sa.Column("n_queued", sa.Integer(), nullable=False),
        _json("settings", "{}"),
    )
    op.create_table(
        "dedup_members",
        sa.Column(
            "record_id",
            sa.Integer(),
            sa.ForeignKey("records.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("cluster_id", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("is_primary", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("is_primary IN (0, 1)"),
    )
    op.create_index("dedup_members_cluster", "dedup_members", ["cluster_id"])
    op.create_table(
        "dedup_queue",
        sa.Column("record_a", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("record_b", sa.Integer(), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("dedup_runs.id")),
        sa.PrimaryKeyConstraint("record_a", "record_b"),
        sa.CheckConstraint("record_a < record_b"),
    )
    op.create_table(
        "dedup_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("record_a", sa.Integer(), sa.ForeignKey("records.id")),
        sa.Column("record_b", sa.Integer(), sa.ForeignKey("records.id")),
        sa.Column("cluster_id", sa.Integer()),
        _json("members"),
        sa.Column("decided_at", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('merge', 'keep_apart', 'undo')"),
        sa.CheckConstraint(
            "kind = 'undo' OR (record_a IS NOT NULL AND record_b IS NOT NULL "
            "AND record_a < record_b)"
        ),
    )


def downgrade() -> None:
    for table in (
        "dedup_decisions",
        "dedup_queue",
        "dedup_members",
        "dedup_runs",
        "search_pmids",
        "search_runs",
        "records",
        "loads",
        "protocol_versions",
    ):
        op.drop_table(table)
