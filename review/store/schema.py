"""The store's schema, declared once, for SQLite and PostgreSQL alike.

The columns of ``records`` are derived from the one ``Record`` definition: a text or number
field of the dataclass is a column of that type, a tuple field a JSON array in a text column.
The Alembic migrations in ``migrations/versions`` are the history that builds this schema;
``tests/review/store/test_schema.py`` holds the two equal on both databases.

Times are ISO 8601 UTC text (``2026-12-01T22:06:36Z``): sortable, and the same on both
databases. JSON lives in text columns for the same reason.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Float as _Float

from review.records import Record

metadata = MetaData()


def record_field_kinds() -> dict[str, str]:
    """Each ``Record`` field (but ``source``) and how it is stored: 'text', 'integer' or 'json'."""
    hints = typing.get_type_hints(Record)
    kinds: dict[str, str] = {}
    for field in dataclasses.fields(Record):
        hint = hints[field.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = args[0] if isinstance(hint, types.UnionType) and args else hint
        if typing.get_origin(base) is tuple:
            kinds[field.name] = "json"
        elif base is int:
            kinds[field.name] = "integer"
        elif base is str:
            kinds[field.name] = "text"
        else:  # pragma: no cover - a new kind of field must be given a column type here
            raise TypeError(f"Record.{field.name}: no column type for {hint!r}")
    return kinds


def _record_columns() -> list[Column[Any]]:
    columns: list[Column[Any]] = []
    for name, kind in record_field_kinds().items():
        if kind == "json":
            columns.append(Column(name, Text, nullable=False, server_default="[]"))
        elif kind == "integer":
            columns.append(Column(name, Integer))
        else:
            columns.append(Column(name, Text, nullable=name != "source"))
    return columns


protocol_versions = Table(
    "protocol_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("recorded_by", Text),
    CheckConstraint("kind IN ('original', 'amendment')"),
)

loads = Table(
    "loads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("file_name", Text),
    Column("sha256", Text),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text),
    Column("status", Text, nullable=False),
    Column("n_read", Integer, nullable=False, server_default="0"),
    Column("n_new", Integer, nullable=False, server_default="0"),
    Column("details", Text, nullable=False, server_default="{}"),
    CheckConstraint("kind IN ('search', 'file')"),
    CheckConstraint("status IN ('running', 'complete', 'failed')"),
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("load_id", Integer, ForeignKey("loads.id"), nullable=False),
    *_record_columns(),
    Column("deleted_at", Text),
    UniqueConstraint("source", "source_id"),
    Index("records_pmid", "pmid"),
    Index("records_doi", "doi"),
    Index("records_load", "load_id"),
)
RECORD_FIELDS: tuple[str, ...] = tuple(record_field_kinds())
"""The ``Record`` fields stored in ``records``, in the dataclass's order."""

search_runs = Table(
    "search_runs",
    metadata,
    Column("load_id", Integer, ForeignKey("loads.id"), primary_key=True, autoincrement=False),
    Column("mode", Text, nullable=False),
    Column("database", Text, nullable=False, server_default="pubmed"),
    Column("query", Text),
    Column("query_origin", Text),
    Column("query_translation", Text),
    Column("count", Integer),
    Column("warnings", Text, nullable=False, server_default="[]"),
    Column("mindate", Text),
    Column("maxdate", Text),
    Column("datetype", Text),
    Column("webenv", Text),
    Column("query_key", Text),
    Column("windows", Text, nullable=False, server_default="[]"),
    Column("batch_size", Integer),
    Column("error", Text),
    Column("resumed", Integer, nullable=False, server_default="0"),
    CheckConstraint("mode IN ('eutils', 'file')"),
    CheckConstraint("datetype IN ('pdat', 'edat', 'mdat')"),
)

search_pmids = Table(
    "search_pmids",
    metadata,
    Column("load_id", Integer, ForeignKey("loads.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("pmid", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="pending"),
    PrimaryKeyConstraint("load_id", "pmid"),
    CheckConstraint(
        "state IN ('pending', 'fetched', 'known', 'missing')", name="search_pmids_state"
    ),
    Index("search_pmids_pending", "load_id", "state", "position"),
)

dedup_runs = Table(
    "dedup_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", Text, nullable=False),
    Column("finished_at", Text, nullable=False),
    Column("n_records", Integer, nullable=False),
    Column("n_clusters", Integer, nullable=False),
    Column("n_duplicates", Integer, nullable=False),
    Column("n_queued", Integer, nullable=False),
    Column("settings", Text, nullable=False, server_default="{}"),
)

# A record with no row here is a cluster of its own, named by its own id. A cluster's id is
# the id of its anchor record and survives re-runs (review.dedup.clusters.name_clusters).
dedup_members = Table(
    "dedup_members",
    metadata,
    Column("record_id", Integer, ForeignKey("records.id"), primary_key=True, autoincrement=False),
    Column("cluster_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("is_primary", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    CheckConstraint("is_primary IN (0, 1)"),
    Index("dedup_members_cluster", "cluster_id"),
)

dedup_queue = Table(
    "dedup_queue",
    metadata,
    Column("record_a", Integer, ForeignKey("records.id"), nullable=False),
    Column("record_b", Integer, ForeignKey("records.id"), nullable=False),
    Column("score", _Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("run_id", Integer, ForeignKey("dedup_runs.id")),
    PrimaryKeyConstraint("record_a", "record_b"),
    CheckConstraint("record_a < record_b"),
)

# Human decisions, append-only: never updated or deleted, replayed in id order on every run.
dedup_decisions = Table(
    "dedup_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("record_a", Integer, ForeignKey("records.id")),
    Column("record_b", Integer, ForeignKey("records.id")),
    Column("cluster_id", Integer),
    Column("members", Text, nullable=False, server_default="[]"),
    Column("decided_at", Text, nullable=False),
    Column("decided_by", Text),
    CheckConstraint("kind IN ('merge', 'keep_apart', 'undo')"),
    CheckConstraint(
        "kind = 'undo' OR (record_a IS NOT NULL AND record_b IS NOT NULL AND record_a < record_b)",
        name="dedup_decisions_pair",
    ),
)

# Screening: every row is an event, appended and never changed (review.screening.state
# replays them). Each names the paper it was taken on: the cluster's id then, the record
# shown (its primary then) and the cluster's records then (``members``, a JSON array).
screening_events = Table(
    "screening_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("cluster_id", Integer, nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("members", Text, nullable=False, server_default="[]"),
    Column("person", Text, nullable=False),
    Column("decision", Text),
    Column("reason", Text),
    Column("note", Text),
    Column("decided_at", Text, nullable=False),
    Column("via", Text, nullable=False),
    Column("recorded_by", Text),
    Column("source", Text),
    CheckConstraint("stage IN ('ta', 'ft')", name="screening_events_stage"),
    CheckConstraint(
        "kind IN ('decide', 'reset', 'note', 'resolve', 'unresolve')",
        name="screening_events_kind",
    ),
    CheckConstraint(
        "decision IN ('include', 'exclude', 'maybe')", name="screening_events_decision"
    ),
    CheckConstraint(
        "(kind IN ('decide', 'resolve') AND decision IS NOT NULL)"
        " OR (kind NOT IN ('decide', 'resolve') AND decision IS NULL)",
        name="screening_events_decided",
    ),
    Index("screening_events_person", "stage", "person"),
    Index("screening_events_record", "record_id"),
)

screening_blinding = Table(
    "screening_blinding",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("by", Text, nullable=False),
    CheckConstraint("stage IN ('ta', 'ft')", name="screening_blinding_stage"),
    CheckConstraint("kind IN ('unblind', 'blind')", name="screening_blinding_kind"),
)

screening_assignments = Table(
    "screening_assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", Text, nullable=False),
    Column("batch", Integer, nullable=False),
    Column("cluster_id", Integer, nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("assigned_at", Text, nullable=False),
    Column("assigned_by", Text),
    CheckConstraint("stage IN ('ta', 'ft')", name="screening_assignments_stage"),
    Index("screening_assignments_reviewer", "stage", "reviewer"),
)

fulltext_events = Table(
    "fulltext_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("cluster_id", Integer, nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("members", Text, nullable=False, server_default="[]"),
    Column("location", Text),
    Column("reason", Text),
    Column("at", Text, nullable=False),
    Column("by", Text),
    CheckConstraint("kind IN ('retrieved', 'not_retrieved', 'reset')", name="fulltext_events_kind"),
)

study_links = Table(
    "study_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("cluster_id", Integer, nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("members", Text, nullable=False, server_default="[]"),
    Column("study_cluster_id", Integer),
    Column("study_record_id", Integer, ForeignKey("records.id")),
    Column("study_members", Text, nullable=False, server_default="[]"),
    Column("at", Text, nullable=False),
    Column("by", Text),
    CheckConstraint("kind IN ('link', 'unlink')", name="study_links_kind"),
    CheckConstraint(
        "(kind = 'link' AND study_record_id IS NOT NULL)"
        " OR (kind = 'unlink' AND study_record_id IS NULL)",
        name="study_links_study",
    ),
)

extraction_studies = Table(
    "extraction_studies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", Text, nullable=False),
    Column("cluster_id", Integer),
    Column("record_id", Integer, ForeignKey("records.id")),
    Column("added_at", Text, nullable=False),
    Column("added_by", Text),
    UniqueConstraint("label", name="extraction_studies_label"),
)

extraction_events = Table(
    "extraction_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", Integer, ForeignKey("extraction_studies.id"), nullable=False),
    Column("form", Text, nullable=False),
    Column("row_key", Text, nullable=False),
    Column("field", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("value", Text),
    Column("person", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("via", Text, nullable=False),
    Column("source", Text),
    CheckConstraint("form IN ('study', 'case', 'aggregate')", name="extraction_events_form"),
    CheckConstraint("kind IN ('enter', 'resolve')", name="extraction_events_kind"),
    CheckConstraint(
        "status IN ('value', 'not_reported', 'cleared')", name="extraction_events_status"
    ),
    CheckConstraint(
        "(status = 'value' AND value IS NOT NULL) OR (status <> 'value' AND value IS NULL)",
        name="extraction_events_value",
    ),
    Index("extraction_events_cell", "study_id", "form", "row_key", "field"),
)

appraisal_events = Table(
    "appraisal_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", Integer, ForeignKey("extraction_studies.id"), nullable=False),
    Column("tool", Text, nullable=False),
    Column("item", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("note", Text),
    Column("person", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("via", Text, nullable=False),
    Column("source", Text),
    CheckConstraint("kind IN ('enter', 'resolve')", name="appraisal_events_kind"),
    Index("appraisal_events_study", "study_id", "tool"),
)

stopping_samples = Table(
    "stopping_samples",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("stage", Text, nullable=False),
    Column("reviewer", Text),
    Column("seed", Integer, nullable=False),
    Column("pool", Integer, nullable=False),
    Column("ranked", Integer, nullable=False),
    Column("ranked_relevant", Integer, nullable=False),
    Column("drawn", Integer, nullable=False),
    Column("extends", Integer, ForeignKey("stopping_samples.id")),
    Column("drawn_at", Text, nullable=False),
    Column("drawn_by", Text),
    CheckConstraint("stage IN ('ta', 'ft')", name="stopping_samples_stage"),
)
"""One draw of the stopping rule's random sample: the first (``extends`` NULL) records the
pool, what was screened before it and the urn's order; a later one (``extends`` the first)
releases more of that order (``drawn`` is the count released so far)."""

stopping_urn = Table(
    "stopping_urn",
    metadata,
    Column("sample_id", Integer, ForeignKey("stopping_samples.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("cluster_id", Integer, nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    PrimaryKeyConstraint("sample_id", "position"),
)
"""The records unscreened when a sample was first drawn, in its seeded random order."""


# Team mode (review/web/): reviewer accounts, login sessions and failed logins. A session
# is stored by the SHA-256 of its cookie's token, never the token itself.
web_users = Table(
    "web_users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("added_at", Text, nullable=False),
    Column("added_by", Text),
    CheckConstraint("role IN ('lead', 'reviewer')", name="web_users_role"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_name", Text, ForeignKey("web_users.name"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=False),
    Index("web_sessions_user", "user_name"),
)

web_login_failures = Table(
    "web_login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("at", Text, nullable=False),
    Index("web_login_failures_user", "user_name", "at"),
    Index("web_login_failures_address", "address", "at"),
)

TABLES_IN_ORDER: tuple[Table, ...] = tuple(metadata.sorted_tables)
"""Every table, parents before children (the order a copy writes them in)."""
