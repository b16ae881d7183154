"""Run a PubMed search into the review store: complete, resumable and logged (PRISMA-S).

A run has two phases. ESearch finds every PMID (split into entry-date windows past the
10,000 cap); the PMID list is stored in one transaction. EFetch then downloads the PMIDs
still pending in batches, each batch stored with its state change in one transaction, so
a run killed at any point resumes where it stopped (same query and limits) and ends with
every record exactly once. PMIDs already in the review are not fetched again: a living
review's re-run adds only the new ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from meta.progress import Progress
from review.clock import Clock
from review.errors import ParseError, SearchError
from review.pubmed.dates import DateLimits
from review.pubmed.entrez import EntrezClient, EntrezConfig, Retry
from review.pubmed.log import SearchLogEntry
from review.records import DeleteCitation, Record, normalise_pmid
from review.store import Store, Tx, search_log
from review.store.records import insert_records, mark_deleted
from review.wording import count

MAX_BATCH = 10_000


@dataclass(frozen=True)
class SearchSummary:
    """What a search run (or a search-file load) did, with its log entry."""

    log: SearchLogEntry
    resumed: bool = False
    requests: int = 0
    retries: int = 0
    deleted: int = 0

    @property
    def identified(self) -> int:
        """Unique PMIDs the search found (or records the file held)."""
        return self.log.identified

    @property
    def new(self) -> int:
        """Records this run added to the review."""
        return self.log.records_new

    def notes(self) -> list[str]:
        """Things the user should know beyond the counts (split, warnings, resume, gaps)."""
        notes = []
        if self.resumed:
            notes.append(
                f"resumed an interrupted run (search {self.log.load_id}, started "
                f"{self.log.started_at}); run the search again for records added since"
            )
        if self.log.windows:
            notes.append(
                f"the query matched {count(self.log.count or 0, 'record')}, more than ESearch "
                f"returns at once: split into {count(len(self.log.windows), 'entry-date window')}, "
                "PMIDs merged and deduplicated"
            )
        if self.log.windows and self.log.count is not None:
            listed = sum(int(w["count"]) for w in self.log.windows)
            if listed != self.log.count:
                notes.append(
                    f"ESearch counted {count(self.log.count, 'record')} but its entry-date windows "
                    f"listed {listed:,} (records entered, removed or re-dated while the search "
                    "ran); the log keeps both, run the search again to catch up"
                )
        notes.extend(f"PubMed: {w}" for w in self.log.warnings)
        if self.log.missing:
            notes.append(
                f"{count(self.log.missing, 'PMID')} listed by ESearch, not returned by EFetch"
            )
        if self.deleted:
            notes.append(f"{count(self.deleted, 'record')} withdrawn by DeleteCitation")
        return notes

    def line(self) -> str:
        """The one-line summary printed at the end of ``casepool search``."""
        day = self.log.started_at[:10]
        if self.log.mode == "file":
            return (
                f"{count(self.log.records_read, 'record')} loaded from {self.log.file_name} "
                f"(sha256 {(self.log.sha256 or '')[:12]}), {self.new:,} new to the review "
                f"(loaded {day}); log: casepool search log"
            )
        return (
            f"{count(self.identified, 'record')} retrieved, {self.new:,} new to the review "
            f"(query run {day}); log: casepool search log"
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            **self.log.as_dict(),
            "resumed": self.resumed,
            "requests": self.requests,
            "retries": self.retries,
            "deleted": self.deleted,
            "notes": self.notes(),
        }


def run_search(
    store: Store,
    query: str,
    *,
    clock: Clock,
    limits: DateLimits = DateLimits(),
    batch_size: int = 500,
    config: EntrezConfig | None = None,
    client: EntrezClient | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    on_retry: Callable[[Retry], None] | None = None,
) -> SearchSummary:
    """Search PubMed for ``query`` and store every record it matches; resume if interrupted.

    ``today`` bounds the entry-date windows of a large result (default: the clock's day);
    ``on_retry`` hears of every attempt that failed and will be tried again.
    """
    if not query.strip():
        raise SearchError(
            "the PubMed query is empty; pass --query or set query under [search.pubmed]"
        )
    if not 1 <= batch_size <= MAX_BATCH:
        raise SearchError(f"--batch-size {batch_size} is out of range; use 1 to {MAX_BATCH:,}")
    if client is None:
        if config is None:
            raise SearchError("no E-utilities settings: give an EntrezConfig or a client")
        client = EntrezClient(config, on_retry=on_retry)
    with store.read() as tx:
        load_id = search_log.find_resumable(
            tx,
            query=query,
            mindate=limits.mindate,
            maxdate=limits.maxdate,
            datetype=limits.datetype,
        )
    resumed = load_id is not None
    if load_id is not None:
        with store.transaction() as tx:
            search_log.mark_resumed(tx, load_id)
    else:
        day = today or date.fromisoformat(clock()[:10])
        load_id = _esearch_phase(store, client, query, batch_size, limits, day, clock)

    try:
        _efetch_phase(store, client, load_id, batch_size, progress, clock)
    except SearchError as exc:
        entry = _fail(store, load_id, str(exc), clock)
        done = entry.fetched + entry.already_in_review
        raise SearchError(
            f"{exc}; the review holds {done:,} of the {count(entry.identified, 'record')} found, "
            "run the same search again to fetch the rest"
        ) from None
    except KeyboardInterrupt:
        _fail(store, load_id, "interrupted", clock)
        raise
    with store.transaction() as tx:
        search_log.finish_run(tx, load_id, status="complete", finished_at=clock())
        entry = search_log.get_run(tx, load_id)
    return SearchSummary(
        log=entry,
        resumed=resumed,
        requests=client.requests_sent,
        retries=client.retries,
    )


def _esearch_phase(
    store: Store,
    client: EntrezClient,
    query: str,
    batch_size: int,
    limits: DateLimits,
    today: date,
    clock: Clock,
) -> int:
    started = clock()
    found = client.search_ids(query, limits=limits, today=today)
    windows = [
        {"mindate": f"{w.mindate:%Y/%m/%d}", "maxdate": f"{w.maxdate:%Y/%m/%d}", "count": w.count}
        for w in found.windows
    ]
    with store.transaction() as tx:
        load_id = search_log.create_run(
            tx,
            mode="eutils",
            query=query,
            query_origin="run",
            started_at=started,
            batch_size=batch_size,
            mindate=limits.mindate,
            maxdate=limits.maxdate,
            datetype=limits.datetype,
        )
        search_log.record_esearch(
            tx,
            load_id,
            count=found.count,
            query_translation=found.query_translation,
            warnings=found.warnings,
            webenv=found.webenv,
            query_key=found.query_key,
            windows=windows,
            pmids=found.pmids,
        )
    return load_id


def _efetch_phase(
    store: Store,
    client: EntrezClient,
    load_id: int,
    batch_size: int,
    progress: Progress | None,
    clock: Clock,
) -> None:
    """Fetch the pending PMIDs batch by batch, each stored in one transaction.

    The next batch is fetched (and parsed) in a worker thread while this one is stored,
    so parsing and writing do not hold up the rate-limited requests. The client is only
    ever used by that one worker thread.
    """
    with store.read() as tx:
        entry = search_log.get_run(tx, load_id)
        pending = search_log.pending_pmids(tx, load_id, entry.pending)
    total = entry.fetched + entry.missing + entry.pending
    done = entry.fetched + entry.missing
    if progress:
        progress("PubMed", done, total)
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="efetch")
    client.uncancel()
    try:
        upcoming = pool.submit(client.efetch, ids=batches[0]) if batches else None
        for number, batch in enumerate(batches):
            assert upcoming is not None
            items = upcoming.result()
            if number + 1 < len(batches):
                upcoming = pool.submit(client.efetch, ids=batches[number + 1])
            _store_batch(store, load_id, batch, items, clock)
            done += len(batch)
            if progress:
                progress("PubMed", done, total)
    except BaseException:
        client.cancel()  # a prefetch in flight gives up instead of retrying on
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _store_batch(
    store: Store,
    load_id: int,
    batch: list[str],
    items: list[Record | DeleteCitation],
    clock: Clock,
) -> None:
    records = [r for r in items if isinstance(r, Record)]
    returned = {_pmid_of(r) for r in records}
    with store.transaction() as tx:
        n_new = insert_records(tx, load_id, records)
        _apply_deletes(tx, [d for d in items if isinstance(d, DeleteCitation)], clock())
        search_log.record_batch(
            tx,
            load_id,
            fetched=[p for p in batch if p in returned],
            missing=[p for p in batch if p not in returned],
            n_new=n_new,
        )


def _pmid_of(record: Record) -> str | None:
    return record.pmid or normalise_pmid(record.source_id)


def _apply_deletes(tx: Tx, deletes: Iterable[DeleteCitation], at: str) -> int:
    return sum(mark_deleted(tx, "pubmed", d.pmids, at=at) for d in deletes)


def _fail(store: Store, load_id: int, error: str, clock: Clock) -> SearchLogEntry:
    with store.transaction() as tx:
        search_log.finish_run(tx, load_id, status="failed", finished_at=clock(), error=error)
        return search_log.get_run(tx, load_id)


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes as stored (compressed if it is .gz)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_search_file(
    store: Store,
    path: Path,
    *,
    clock: Clock,
    query: str | None = None,
    query_origin: str | None = None,
    progress: Progress | None = None,
    batch_size: int = 1000,
) -> SearchSummary:
    """Load a saved EFetch result (PubMed XML, .gz allowed) as the search result, all or nothing.

    Logged as a search load with the file's name and SHA-256, and ``query``, the query it
    stands for, with where that came from (``query_origin``: 'stated' by the person loading
    it, or 'assumed' to be the protocol's): casepool did not run it.
    """
    from review.pubmed.pubmed_xml import iter_pubmed, pubmed_stream
    from review.sources.formats import bytes_progress

    path = Path(path)
    if path.is_dir():
        raise SearchError(f"{path}: is a folder; give the path of a saved PubMed XML file in it")
    if not path.is_file():
        raise SearchError(f"{path}: no such file; give the path of a saved PubMed XML file")
    sha256 = file_sha256(path)
    deleted = 0
    n_read = 0
    with store.transaction() as tx:
        load_id = search_log.create_run(
            tx,
            mode="file",
            query=query,
            query_origin=query_origin,
            mindate=None,
            maxdate=None,
            datetype=None,
            started_at=clock(),
            file_name=path.name,
            sha256=sha256,
        )
        batch: list[Record] = []
        size = max(path.stat().st_size, 1)
        reached = bytes_progress(progress, f"reading {path.name}", size) if progress else None
        with _open(path) as stored, pubmed_stream(stored) as handle:
            for item in iter_pubmed(handle, str(path)):
                if reached:
                    reached(stored.tell() / size)
                if isinstance(item, DeleteCitation):
                    _flush_file_batch(tx, load_id, batch)
                    batch = []
                    deleted += _apply_deletes(tx, [item], clock())
                    continue
                batch.append(item)
                n_read += 1
                if len(batch) >= batch_size:
                    _flush_file_batch(tx, load_id, batch)
                    batch = []
        _flush_file_batch(tx, load_id, batch)
        if reached:
            reached(1.0)
        search_log.finish_run(tx, load_id, status="complete", finished_at=clock())
        entry = search_log.get_run(tx, load_id)
    return SearchSummary(log=entry, deleted=deleted)


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise ParseError(f"{path}: cannot open: {exc.strerror or exc}") from None


def _flush_file_batch(tx: Tx, load_id: int, batch: list[Record]) -> None:
    if not batch:
        return
    n_new = insert_records(tx, load_id, batch)
    pmids = [p for p in (_pmid_of(r) for r in batch) if p]
    search_log.record_file_pmids(tx, load_id, pmids)
    search_log.add_counts(tx, load_id, n_read=len(batch), n_new=n_new)
