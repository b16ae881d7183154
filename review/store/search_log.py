"""SQL for the search log and a search's resumable state (tables of migration 0002).

A search run is a ``loads`` row (kind 'search') plus a ``search_runs`` row; the PMIDs it
found sit in ``search_pmids`` with their fetch state, so a killed run resumes from the
database alone (a WebEnv expires; a stored PMID list does not).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from review.store.records import start_load


@dataclass(frozen=True)
class SearchLogEntry:
    """One search run or search-file load as the log reports it (PRISMA-S items)."""

    load_id: int
    mode: str
    database: str
    query: str | None
    query_translation: str | None
    count: int | None
    warnings: tuple[str, ...]
    mindate: str | None
    maxdate: str | None
    datetype: str | None
    started_at: str
    finished_at: str | None
    status: str
    identified: int
    fetched: int
    already_in_review: int
    missing: int
    pending: int
    records_read: int
    records_new: int
    windows: tuple[dict[str, Any], ...]
    file_name: str | None
    sha256: str | None
    webenv: str | None
    query_key: str | None
    batch_size: int | None
    error: str | None
    resumed: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def create_run(
    conn: sqlite3.Connection,
    *,
    mode: str,
    query: str | None,
    mindate: str | None,
    maxdate: str | None,
    datetype: str | None,
    started_at: str,
    batch_size: int | None = None,
    file_name: str | None = None,
    sha256: str | None = None,
) -> int:
    """Open a search load with its ``search_runs`` row; return the load id."""
    load_id = start_load(conn, kind="search", source="pubmed", file_name=file_name, sha256=sha256)
    conn.execute("UPDATE loads SET started_at = ? WHERE id = ?", (started_at, load_id))
    conn.execute(
        "INSERT INTO search_runs (load_id, mode, query, mindate, maxdate, datetype, batch_size)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (load_id, mode, query, mindate, maxdate, datetype, batch_size),
    )
    return load_id


def record_esearch(
    conn: sqlite3.Connection,
    load_id: int,
    *,
    count: int,
    query_translation: str | None,
    warnings: Sequence[str],
    webenv: str | None,
    query_key: str | None,
    windows: Sequence[dict[str, Any]],
    pmids: Sequence[str],
) -> int:
    """Store what ESearch said and the PMIDs it found; return how many the review already has."""
    conn.execute(
        "UPDATE search_runs SET count = ?, query_translation = ?, warnings = ?, webenv = ?,"
        " query_key = ?, windows = ? WHERE load_id = ?",
        (
            count,
            query_translation,
            json.dumps(list(warnings), ensure_ascii=False),
            webenv,
            query_key,
            json.dumps(list(windows)),
            load_id,
        ),
    )
    conn.executemany(
        "INSERT INTO search_pmids (load_id, position, pmid) VALUES (?, ?, ?)",
        ((load_id, i, pmid) for i, pmid in enumerate(pmids)),
    )
    cur = conn.execute(
        "UPDATE search_pmids SET state = 'known' WHERE load_id = ? AND pmid IN"
        " (SELECT source_id FROM records WHERE source = 'pubmed')",
        (load_id,),
    )
    return cur.rowcount


def find_resumable(
    conn: sqlite3.Connection,
    *,
    query: str,
    mindate: str | None,
    maxdate: str | None,
    datetype: str | None,
) -> int | None:
    """The latest unfinished run of the same search whose PMID list is stored, if any."""
    row = conn.execute(
        "SELECT s.load_id FROM search_runs s JOIN loads l ON l.id = s.load_id"
        " WHERE s.mode = 'eutils' AND l.status != 'complete' AND s.count IS NOT NULL"
        " AND s.query = ? AND s.mindate IS ? AND s.maxdate IS ? AND s.datetype IS ?"
        " ORDER BY s.load_id DESC LIMIT 1",
        (query, mindate, maxdate, datetype),
    ).fetchone()
    return None if row is None else int(row[0])


def mark_resumed(conn: sqlite3.Connection, load_id: int) -> None:
    """Count one more resumption and set the run running again."""
    conn.execute("UPDATE search_runs SET resumed = resumed + 1 WHERE load_id = ?", (load_id,))
    conn.execute("UPDATE loads SET status = 'running' WHERE id = ?", (load_id,))


def pending_pmids(conn: sqlite3.Connection, load_id: int, limit: int) -> list[str]:
    """The next ``limit`` PMIDs still to fetch, in PubMed's order."""
    rows = conn.execute(
        "SELECT pmid FROM search_pmids WHERE load_id = ? AND state = 'pending'"
        " ORDER BY position LIMIT ?",
        (load_id, limit),
    )
    return [str(r[0]) for r in rows]


def record_batch(
    conn: sqlite3.Connection,
    load_id: int,
    *,
    fetched: Iterable[str],
    missing: Iterable[str],
    n_new: int,
) -> None:
    """Mark one EFetch batch done and add its counts to the load (inside its transaction)."""
    fetched, missing = list(fetched), list(missing)
    conn.executemany(
        "UPDATE search_pmids SET state = 'fetched' WHERE load_id = ? AND pmid = ?",
        ((load_id, p) for p in fetched),
    )
    conn.executemany(
        "UPDATE search_pmids SET state = 'missing' WHERE load_id = ? AND pmid = ?",
        ((load_id, p) for p in missing),
    )
    conn.execute(
        "UPDATE loads SET n_read = n_read + ?, n_new = n_new + ? WHERE id = ?",
        (len(fetched), n_new, load_id),
    )


def record_file_pmids(conn: sqlite3.Connection, load_id: int, pmids: Sequence[str]) -> None:
    """List the PMIDs read from a search file: 'fetched' if this load added them, else 'known'."""
    (start,) = conn.execute(
        "SELECT COUNT(*) FROM search_pmids WHERE load_id = ?", (load_id,)
    ).fetchone()
    conn.executemany(
        "INSERT OR IGNORE INTO search_pmids (load_id, position, pmid, state)"
        " VALUES (?, ?, ?, 'known')",
        ((load_id, start + i, pmid) for i, pmid in enumerate(pmids)),
    )
    conn.execute(
        "UPDATE search_pmids SET state = 'fetched' WHERE load_id = ? AND state = 'known'"
        " AND pmid IN (SELECT source_id FROM records WHERE source = 'pubmed' AND load_id = ?)",
        (load_id, load_id),
    )


def add_file_counts(conn: sqlite3.Connection, load_id: int, *, n_read: int, n_new: int) -> None:
    """Add records read from a search file, and how many were new, to its load."""
    conn.execute(
        "UPDATE loads SET n_read = n_read + ?, n_new = n_new + ? WHERE id = ?",
        (n_read, n_new, load_id),
    )


def finish_run(
    conn: sqlite3.Connection,
    load_id: int,
    *,
    status: str,
    finished_at: str,
    error: str | None = None,
) -> None:
    """Close a run as 'complete' or 'failed' (with the error that stopped it)."""
    conn.execute(
        "UPDATE loads SET status = ?, finished_at = ? WHERE id = ?",
        (status, finished_at, load_id),
    )
    conn.execute("UPDATE search_runs SET error = ? WHERE load_id = ?", (error, load_id))


_SELECT = """
SELECT l.id AS load_id, s.mode, s.database, s.query, s.query_translation, s.count,
       s.warnings, s.mindate, s.maxdate, s.datetype, l.started_at, l.finished_at, l.status,
       l.n_read, l.n_new, s.windows, l.file_name, l.sha256, s.webenv, s.query_key,
       s.batch_size, s.error, s.resumed,
       (SELECT COUNT(*) FROM search_pmids p WHERE p.load_id = l.id) AS identified,
       (SELECT COUNT(*) FROM search_pmids p WHERE p.load_id = l.id AND p.state = 'fetched')
           AS fetched,
       (SELECT COUNT(*) FROM search_pmids p WHERE p.load_id = l.id AND p.state = 'known')
           AS known,
       (SELECT COUNT(*) FROM search_pmids p WHERE p.load_id = l.id AND p.state = 'missing')
           AS missing,
       (SELECT COUNT(*) FROM search_pmids p WHERE p.load_id = l.id AND p.state = 'pending')
           AS pending
FROM loads l JOIN search_runs s ON s.load_id = l.id
"""


def _entry(row: sqlite3.Row) -> SearchLogEntry:
    return SearchLogEntry(
        load_id=int(row["load_id"]),
        mode=row["mode"],
        database=row["database"],
        query=row["query"],
        query_translation=row["query_translation"],
        count=row["count"],
        warnings=tuple(json.loads(row["warnings"])),
        mindate=row["mindate"],
        maxdate=row["maxdate"],
        datetype=row["datetype"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        identified=int(row["identified"]),
        fetched=int(row["fetched"]),
        already_in_review=int(row["known"]),
        missing=int(row["missing"]),
        pending=int(row["pending"]),
        records_read=int(row["n_read"]),
        records_new=int(row["n_new"]),
        windows=tuple(json.loads(row["windows"])),
        file_name=row["file_name"],
        sha256=row["sha256"],
        webenv=row["webenv"],
        query_key=row["query_key"],
        batch_size=row["batch_size"],
        error=row["error"],
        resumed=int(row["resumed"]),
    )


def get_run(conn: sqlite3.Connection, load_id: int) -> SearchLogEntry:
    """The log entry of one search load."""
    row = conn.execute(_SELECT + " WHERE l.id = ?", (load_id,)).fetchone()
    if row is None:
        raise KeyError(load_id)
    return _entry(row)


def list_runs(conn: sqlite3.Connection) -> list[SearchLogEntry]:
    """Every search run and search-file load, oldest first."""
    return [_entry(row) for row in conn.execute(_SELECT + " ORDER BY l.id")]
