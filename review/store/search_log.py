"""The search log and a search's resumable state.

A search run is a ``loads`` row (kind 'search') plus a ``search_runs`` row; the PMIDs it
found sit in ``search_pmids`` with their fetch state, so a killed run resumes from the
database alone (a WebEnv expires; a stored PMID list does not).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import case, func, insert, select, update

from review.pubmed.log import SearchLogEntry
from review.store.engine import Tx
from review.store.records import chunks, start_load
from review.store.schema import loads, records, search_pmids, search_runs


def create_run(
    tx: Tx,
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
    query_origin: str | None = None,
) -> int:
    """Open a search load with its ``search_runs`` row; return the load id. ``query_origin``
    is 'run' (casepool ran the query), 'stated' or 'assumed' (a loaded file's query)."""
    load_id = start_load(
        tx, kind="search", source="pubmed", at=started_at, file_name=file_name, sha256=sha256
    )
    tx.connection.execute(
        insert(search_runs).values(
            load_id=load_id,
            mode=mode,
            query=query,
            query_origin=query_origin,
            mindate=mindate,
            maxdate=maxdate,
            datetype=datetype,
            batch_size=batch_size,
        )
    )
    return load_id


def record_esearch(
    tx: Tx,
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
    connection = tx.connection
    connection.execute(
        update(search_runs)
        .where(search_runs.c.load_id == load_id)
        .values(
            count=count,
            query_translation=query_translation,
            warnings=json.dumps(list(warnings), ensure_ascii=False),
            webenv=webenv,
            query_key=query_key,
            windows=json.dumps(list(windows)),
        )
    )
    if pmids:
        connection.execute(
            insert(search_pmids),
            [{"load_id": load_id, "position": i, "pmid": p} for i, p in enumerate(pmids)],
        )
    stored = select(records.c.source_id).where(records.c.source == "pubmed")
    result = connection.execute(
        update(search_pmids)
        .where(search_pmids.c.load_id == load_id, search_pmids.c.pmid.in_(stored))
        .values(state="known")
    )
    return int(result.rowcount)


def find_resumable(
    tx: Tx,
    *,
    query: str,
    mindate: str | None,
    maxdate: str | None,
    datetype: str | None,
) -> int | None:
    """The latest unfinished run of the same search whose PMID list is stored, if any."""
    row = tx.connection.execute(
        select(search_runs.c.load_id)
        .join(loads, loads.c.id == search_runs.c.load_id)
        .where(
            search_runs.c.mode == "eutils",
            loads.c.status != "complete",
            search_runs.c.count.is_not(None),
            search_runs.c.query == query,
            search_runs.c.mindate.is_not_distinct_from(mindate),
            search_runs.c.maxdate.is_not_distinct_from(maxdate),
            search_runs.c.datetype.is_not_distinct_from(datetype),
        )
        .order_by(search_runs.c.load_id.desc())
        .limit(1)
    ).first()
    return None if row is None else int(row.load_id)


def mark_resumed(tx: Tx, load_id: int) -> None:
    """Count one more resumption and set the run running again."""
    tx.connection.execute(
        update(search_runs)
        .where(search_runs.c.load_id == load_id)
        .values(resumed=search_runs.c.resumed + 1)
    )
    tx.connection.execute(update(loads).where(loads.c.id == load_id).values(status="running"))


def pending_pmids(tx: Tx, load_id: int, limit: int) -> list[str]:
    """The next ``limit`` PMIDs still to fetch, in PubMed's order."""
    query = (
        select(search_pmids.c.pmid)
        .where(search_pmids.c.load_id == load_id, search_pmids.c.state == "pending")
        .order_by(search_pmids.c.position)
        .limit(limit)
    )
    return [str(p) for p in tx.connection.execute(query).scalars()]


def _set_state(tx: Tx, load_id: int, pmids: Sequence[str], state: str) -> None:
    for part in chunks(pmids):
        tx.connection.execute(
            update(search_pmids)
            .where(search_pmids.c.load_id == load_id, search_pmids.c.pmid.in_(part))
            .values(state=state)
        )


def record_batch(
    tx: Tx,
    load_id: int,
    *,
    fetched: Iterable[str],
    missing: Iterable[str],
    n_new: int,
) -> None:
    """Mark one EFetch batch done and add its counts to the load (inside its transaction)."""
    fetched, missing = list(fetched), list(missing)
    _set_state(tx, load_id, fetched, "fetched")
    _set_state(tx, load_id, missing, "missing")
    add_counts(tx, load_id, n_read=len(fetched), n_new=n_new)


def record_file_pmids(tx: Tx, load_id: int, pmids: Sequence[str]) -> None:
    """List the PMIDs read from a search file: 'fetched' if this load added them, else 'known'.
    A PMID the file repeats is listed once."""
    connection = tx.connection
    listed = select(func.count()).select_from(search_pmids)
    start = int(connection.execute(listed.where(search_pmids.c.load_id == load_id)).scalar_one())
    seen = set(_listed(tx, load_id, pmids))
    rows: list[dict[str, Any]] = []
    for pmid in dict.fromkeys(pmids):
        if pmid not in seen:
            rows.append({"load_id": load_id, "position": start + len(rows), "pmid": pmid})
    if rows:
        connection.execute(insert(search_pmids).values(state="known"), rows)
    added = select(records.c.source_id).where(
        records.c.source == "pubmed", records.c.load_id == load_id
    )
    connection.execute(
        update(search_pmids)
        .where(
            search_pmids.c.load_id == load_id,
            search_pmids.c.state == "known",
            search_pmids.c.pmid.in_(added),
        )
        .values(state="fetched")
    )


def _listed(tx: Tx, load_id: int, pmids: Sequence[str]) -> list[str]:
    found: list[str] = []
    for part in chunks(list(dict.fromkeys(pmids))):
        query = select(search_pmids.c.pmid).where(
            search_pmids.c.load_id == load_id, search_pmids.c.pmid.in_(part)
        )
        found.extend(tx.connection.execute(query).scalars())
    return found


def add_counts(tx: Tx, load_id: int, *, n_read: int, n_new: int) -> None:
    """Add records read, and how many were new, to a search load."""
    tx.connection.execute(
        update(loads)
        .where(loads.c.id == load_id)
        .values(n_read=loads.c.n_read + n_read, n_new=loads.c.n_new + n_new)
    )


def finish_run(
    tx: Tx,
    load_id: int,
    *,
    status: str,
    finished_at: str,
    error: str | None = None,
) -> None:
    """Close a run as 'complete' or 'failed' (with the error that stopped it)."""
    tx.connection.execute(
        update(loads).where(loads.c.id == load_id).values(status=status, finished_at=finished_at)
    )
    tx.connection.execute(
        update(search_runs).where(search_runs.c.load_id == load_id).values(error=error)
    )


def _state_count(state: str | None) -> Any:
    if state is None:
        return func.count(search_pmids.c.pmid)
    return func.coalesce(func.sum(case((search_pmids.c.state == state, 1), else_=0)), 0)


def _log_query() -> Any:
    tallies = (
        select(
            search_pmids.c.load_id,
            _state_count(None).label("identified"),
            _state_count("fetched").label("fetched"),
            _state_count("known").label("known"),
            _state_count("missing").label("missing"),
            _state_count("pending").label("pending"),
        )
        .group_by(search_pmids.c.load_id)
        .subquery()
    )
    return (
        select(
            loads.c.id.label("load_id"),
            search_runs,
            loads.c.started_at,
            loads.c.finished_at,
            loads.c.status,
            loads.c.n_read,
            loads.c.n_new,
            loads.c.file_name,
            loads.c.sha256,
            func.coalesce(tallies.c.identified, 0).label("identified"),
            func.coalesce(tallies.c.fetched, 0).label("fetched"),
            func.coalesce(tallies.c.known, 0).label("known"),
            func.coalesce(tallies.c.missing, 0).label("missing"),
            func.coalesce(tallies.c.pending, 0).label("pending"),
        )
        .select_from(loads)
        .join(search_runs, search_runs.c.load_id == loads.c.id)
        .outerjoin(tallies, tallies.c.load_id == loads.c.id)
    )


def _entry(row: Any) -> SearchLogEntry:
    return SearchLogEntry(
        load_id=int(row.load_id),
        mode=row.mode,
        database=row.database,
        query=row.query,
        query_origin=row.query_origin,
        query_translation=row.query_translation,
        count=row.count,
        warnings=tuple(json.loads(row.warnings)),
        mindate=row.mindate,
        maxdate=row.maxdate,
        datetype=row.datetype,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        identified=int(row.identified),
        fetched=int(row.fetched),
        already_in_review=int(row.known),
        missing=int(row.missing),
        pending=int(row.pending),
        records_read=int(row.n_read),
        records_new=int(row.n_new),
        windows=tuple(json.loads(row.windows)),
        file_name=row.file_name,
        sha256=row.sha256,
        webenv=row.webenv,
        query_key=row.query_key,
        batch_size=row.batch_size,
        error=row.error,
        resumed=int(row.resumed),
    )


def get_run(tx: Tx, load_id: int) -> SearchLogEntry:
    """The log entry of one search load."""
    row = tx.connection.execute(_log_query().where(loads.c.id == load_id)).first()
    if row is None:
        raise KeyError(load_id)
    return _entry(row)


def list_runs(tx: Tx) -> list[SearchLogEntry]:
    """Every search run and search-file load, oldest first."""
    return [_entry(row) for row in tx.connection.execute(_log_query().order_by(loads.c.id))]
