"""SQL for records and loads: the tables every source (search, file import) writes to."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from review.records import Author, Record
from review.store import utc_now

_RECORD_COLUMNS = (
    "source",
    "source_id",
    "title",
    "abstract",
    "authors",
    "journal",
    "journal_iso",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "issn",
    "language",
    "record_type",
    "url",
    "publication_types",
    "mesh",
    "keywords",
    "extra",
    "raw",
)


def start_load(
    conn: sqlite3.Connection,
    *,
    kind: str,
    source: str,
    file_name: str | None = None,
    sha256: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Open a load (a search run or a file import) and return its id."""
    cur = conn.execute(
        "INSERT INTO loads (kind, source, file_name, sha256, started_at, status, details)"
        " VALUES (?, ?, ?, ?, ?, 'running', ?)",
        (kind, source, file_name, sha256, utc_now(), json.dumps(details or {})),
    )
    return int(cur.lastrowid or 0)


def finish_load(
    conn: sqlite3.Connection,
    load_id: int,
    *,
    status: str = "complete",
    n_read: int,
    n_new: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Close a load with its counts (and, optionally, replace its details)."""
    if details is None:
        conn.execute(
            "UPDATE loads SET finished_at = ?, status = ?, n_read = ?, n_new = ? WHERE id = ?",
            (utc_now(), status, n_read, n_new, load_id),
        )
    else:
        conn.execute(
            "UPDATE loads SET finished_at = ?, status = ?, n_read = ?, n_new = ?, details = ?"
            " WHERE id = ?",
            (utc_now(), status, n_read, n_new, json.dumps(details), load_id),
        )


def _author_to_json(author: Author) -> dict[str, Any]:
    data: dict[str, Any] = {
        k: v
        for k, v in (
            ("last_name", author.last_name),
            ("fore_name", author.fore_name),
            ("initials", author.initials),
            ("collective_name", author.collective_name),
        )
        if v is not None
    }
    if author.affiliations:
        data["affiliations"] = list(author.affiliations)
    return data


def _author_from_json(data: dict[str, Any]) -> Author:
    return Author(
        last_name=data.get("last_name"),
        fore_name=data.get("fore_name"),
        initials=data.get("initials"),
        collective_name=data.get("collective_name"),
        affiliations=tuple(data.get("affiliations", ())),
    )


def record_to_row(record: Record) -> tuple[Any, ...]:
    """The column values for ``record``, in ``_RECORD_COLUMNS`` order."""
    return (
        record.source,
        record.source_id,
        record.title,
        record.abstract,
        json.dumps([_author_to_json(a) for a in record.authors], ensure_ascii=False),
        record.journal,
        record.journal_iso,
        record.year,
        record.volume,
        record.issue,
        record.pages,
        record.doi,
        record.pmid,
        record.pmcid,
        record.issn,
        record.language,
        record.record_type,
        record.url,
        json.dumps(list(record.publication_types), ensure_ascii=False),
        json.dumps(list(record.mesh), ensure_ascii=False),
        json.dumps(list(record.keywords), ensure_ascii=False),
        json.dumps([list(pair) for pair in record.extra], ensure_ascii=False),
        record.raw,
    )


def row_to_record(row: sqlite3.Row) -> Record:
    """Rebuild the ``Record`` stored in ``row`` (a ``SELECT *`` row of ``records``)."""
    return Record(
        source=row["source"],
        source_id=row["source_id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(_author_from_json(a) for a in json.loads(row["authors"])),
        journal=row["journal"],
        journal_iso=row["journal_iso"],
        year=row["year"],
        volume=row["volume"],
        issue=row["issue"],
        pages=row["pages"],
        doi=row["doi"],
        pmid=row["pmid"],
        pmcid=row["pmcid"],
        issn=row["issn"],
        language=row["language"],
        record_type=row["record_type"],
        url=row["url"],
        publication_types=tuple(json.loads(row["publication_types"])),
        mesh=tuple(json.loads(row["mesh"])),
        keywords=tuple(json.loads(row["keywords"])),
        extra=tuple((k, v) for k, v in json.loads(row["extra"])),
        raw=row["raw"],
    )


def insert_records(conn: sqlite3.Connection, load_id: int, records: Iterable[Record]) -> int:
    """Insert records not yet in the store (same source and source_id); return how many new.

    Call inside ``Store.transaction()``.
    """
    columns = ", ".join(("load_id", *_RECORD_COLUMNS))
    marks = ", ".join("?" * (len(_RECORD_COLUMNS) + 1))
    sql = f"INSERT INTO records ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    before = conn.total_changes
    conn.executemany(sql, ((load_id, *record_to_row(r)) for r in records))
    return conn.total_changes - before


def iter_records(
    conn: sqlite3.Connection, *, include_deleted: bool = False
) -> Iterator[tuple[int, Record]]:
    """Every stored record with its row id, in insertion order."""
    where = "" if include_deleted else " WHERE deleted_at IS NULL"
    for row in conn.execute(f"SELECT * FROM records{where} ORDER BY id"):
        yield int(row["id"]), row_to_record(row)


def mark_deleted(conn: sqlite3.Connection, source: str, source_ids: Iterable[str]) -> int:
    """Mark records withdrawn by their source (PubMed DeleteCitation); return how many."""
    now = utc_now()
    before = conn.total_changes
    conn.executemany(
        "UPDATE records SET deleted_at = ? WHERE source = ? AND source_id = ?"
        " AND deleted_at IS NULL",
        ((now, source, sid) for sid in source_ids),
    )
    return conn.total_changes - before
