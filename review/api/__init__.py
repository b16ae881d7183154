"""The library API: a review handle with the use cases on it.

The command line, a notebook, the report and the web pages all call this, the way
sqlite-utils' ``Database`` serves its CLI::

    from review.api import Review

    with Review.open("my-review") as review:          # a folder, or a database URL
        review.import_file("embase.ris", source="embase")
        counts = review.dedup()
        review.export("records.ris")

Library errors are ``review.errors.ReviewError`` (and ``meta``'s and ``extraction``'s own);
each message is one line that says what is wrong, where, and what to do.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from meta.progress import Progress
from review.api.appraisal import Appraising
from review.api.extraction import Extraction
from review.api.screening import Screening
from review.api.team import Team
from review.clock import Clock, utc_now
from review.errors import ProtocolError, WorkspaceError
from review.protocol.loading import parse_protocol
from review.protocol.model import Protocol
from review.protocol.versions import ProtocolVersion
from review.store import Store, open_store
from review.workspace import (
    PROTOCOL_FILE,
    InitResult,
    init_review,
    load_folder_protocol,
    open_folder,
    record_protocol,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from meta.counts import StudyCounts
    from review.analysis import PlanResult
    from review.dedup.clusters import Membership
    from review.dedup.pairs import QueuedPair
    from review.prisma.counts import DedupCounts
    from review.pubmed.dates import DateLimits
    from review.pubmed.entrez import Retry
    from review.pubmed.log import SearchLogEntry
    from review.pubmed.search import SearchSummary
    from review.records import Record
    from review.sources.exporting import ExportSummary
    from review.sources.importing import ImportSummary
    from review.store.copy import CopyReport
    from review.store.migrate import Migration


def current_user() -> str | None:
    """The person at the keyboard, as the operating system names them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


class Review:
    """An open review: its store, the protocol in force and, for a folder, where it lives.

    ``clock`` gives the time of every event recorded and ``actor`` the person recorded as
    taking the decisions (default: the operating system's user name).
    """

    def __init__(
        self,
        store: Store,
        protocol: Protocol,
        protocol_version: ProtocolVersion,
        *,
        folder: Path | None = None,
        amended: ProtocolVersion | None = None,
        clock: Clock = utc_now,
        actor: str | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.protocol = protocol
        self.protocol_version = protocol_version
        self.folder = folder
        self.amended = amended
        self.clock = clock
        self.actor = actor if actor is not None else current_user()
        self.warnings = warnings

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        folder: Path | str,
        protocol_file: Path | str,
        *,
        db: str | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
        actor: str | None = None,
        force: bool = False,
    ) -> InitResult:
        """Create a review folder from a protocol file (or record a changed protocol as an
        amendment); with ``db`` the store is that database instead of ``review.db``. Over
        a review whose protocol file differs, ``force`` replaces it (else it is refused)."""
        return init_review(
            Path(folder),
            Path(protocol_file),
            db=db,
            env=env,
            clock=clock,
            actor=actor if actor is not None else current_user(),
            force=force,
        )

    @classmethod
    def open(
        cls,
        folder_or_url: Path | str | None = None,
        *,
        db: str | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
        actor: str | None = None,
        uses: Collection[str] | None = None,
    ) -> Review:
        """Open a review by its folder (default: ``$CASEPOOL_REVIEW``, then the current
        folder) or by its database URL. Opening a folder records an edited
        ``protocol.toml`` as a dated amendment (``amended`` then names it).

        ``uses`` names the protocol's sections the caller needs (``{"search"}``; empty for
        none). An edited ``protocol.toml`` whose problems all lie in other sections is then
        not refused: it is not recorded, the review runs with the protocol in force, and
        ``warnings`` says which sections to fix. Without ``uses`` any problem is refused.
        """
        environ = os.environ if env is None else env
        actor = actor if actor is not None else current_user()
        if isinstance(folder_or_url, str) and "://" in folder_or_url:
            return cls._open_url(folder_or_url, clock=clock, actor=actor)
        explicit = Path(folder_or_url) if folder_or_url is not None else None
        folder, url = open_folder(explicit, db=db, env=environ)
        store = open_store(url)
        try:
            try:
                protocol, text = load_folder_protocol(folder)
            except ProtocolError as problem:
                return cls._open_despite(problem, store, folder, uses, clock, actor)
            version, recorded = record_protocol(
                store, text, PROTOCOL_FILE, clock=clock, actor=actor
            )
        except BaseException:
            store.close()
            raise
        amended = version if recorded and version.kind == "amendment" else None
        return cls(
            store, protocol, version, folder=folder, amended=amended, clock=clock, actor=actor
        )

    @classmethod
    def _open_despite(
        cls,
        problem: ProtocolError,
        store: Store,
        folder: Path,
        uses: Collection[str] | None,
        clock: Clock,
        actor: str | None,
    ) -> Review:
        """Open with the protocol in force when the edited file's problems lie only in
        sections the caller does not use; else raise the problem."""
        from review.store.protocol_versions import latest_version

        sections = {p.section for p in problem.problems}
        if uses is None or (None in sections and uses) or sections & set(uses):
            raise problem
        with store.read() as tx:
            version = latest_version(tx)
        if version is None:
            raise problem
        protocol = parse_protocol(version.text, name=f"protocol version {version.number}")
        named = ", ".join(f"[{s}]" for s in sorted(s for s in sections if s)) or "the file"
        first = problem.problems[0] if problem.problems else problem
        count = len(problem.problems)
        warning = (
            f"{folder / PROTOCOL_FILE} has {count} problem{'s' if count != 1 else ''} in "
            f"{named} (first: {first}); this command does not use "
            f"{'it' if named == 'the file' else 'them'}, so it runs with protocol version "
            f"{version.number} as recorded at {version.recorded_at}; fix the file before a "
            "command that needs those sections"
        )
        return cls(
            store,
            protocol,
            version,
            folder=folder,
            clock=clock,
            actor=actor,
            warnings=(warning,),
        )

    @classmethod
    def _open_url(cls, url: str, *, clock: Clock, actor: str | None) -> Review:
        from review.store.protocol_versions import latest_version

        store = open_store(url)
        try:
            with store.read() as tx:
                version = latest_version(tx)
            if version is None:
                raise WorkspaceError(
                    f"{store.display_url}: no review here yet; create one with "
                    "'casepool init DIR --protocol FILE --db URL'"
                )
            protocol = parse_protocol(version.text, name=f"protocol version {version.number}")
        except BaseException:
            store.close()
            raise
        return cls(store, protocol, version, clock=clock, actor=actor)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def screening(self) -> Screening:
        """Screening: decisions, conflicts, allocation, agreement, full texts, PRISMA."""
        return Screening(self)

    @property
    def extraction(self) -> Extraction:
        """Extraction: studies, values entered as events, dual extraction, counts."""
        return Extraction(self)

    @property
    def appraisal(self) -> Appraising:
        """Appraisal: answers per study and item, dual appraisal, the summary and plots."""
        return Appraising(self)

    @property
    def team(self) -> Team:
        """Team mode: the accounts and login sessions of the screening web pages."""
        return Team(self)

    def acting_as(self, person: str) -> Review:
        """The same open review (same store) with ``person`` recorded as the one acting: a
        web page's request, on behalf of the logged-in reviewer."""
        return Review(
            self.store,
            self.protocol,
            self.protocol_version,
            folder=self.folder,
            clock=self.clock,
            actor=person,
        )

    @property
    def protocol_path(self) -> Path | None:
        """The folder's protocol file (None for a review opened by URL)."""
        return self.folder / PROTOCOL_FILE if self.folder is not None else None

    # --- protocol ------------------------------------------------------------------------

    def protocol_history(self) -> list[ProtocolVersion]:
        """Every recorded version of the protocol: the original, then each amendment."""
        from review.store.protocol_versions import all_versions

        with self.store.read() as tx:
            return all_versions(tx)

    def recorded_protocol(self, number: int) -> ProtocolVersion:
        """One recorded version of the protocol, by its number."""
        from review.protocol.versions import pick

        return pick(self.protocol_history(), number)

    def protocol_diff(self, first: int, second: int | None = None) -> str:
        """A unified diff from version ``first`` to ``second`` (default: the one in force)."""
        from review.protocol.versions import diff, pick

        history = self.protocol_history()
        later = history[-1] if second is None else pick(history, second)
        return diff(pick(history, first), later)

    # --- search --------------------------------------------------------------------------

    def search(
        self,
        *,
        query: str | None = None,
        email: str | None = None,
        limits: DateLimits | None = None,
        batch_size: int = 500,
        env: Mapping[str, str] | None = None,
        progress: Progress | None = None,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> SearchSummary:
        """Run the PubMed search and store every record, exactly once: the protocol's query
        and date limits unless given; the e-mail from ``email``, else ``NCBI_EMAIL``, else
        the protocol. An interrupted run resumes; a re-run adds only new PMIDs.
        ``on_retry`` hears of each failed request that will be tried again."""
        from review.errors import SearchError
        from review.pubmed.dates import DateLimits
        from review.pubmed.entrez import EntrezConfig
        from review.pubmed.search import run_search

        environ = os.environ if env is None else env
        pubmed = self.protocol.search.pubmed
        if query is None:
            if pubmed is None:
                raise SearchError(
                    "the protocol has no PubMed search; add [search.pubmed] with a query, "
                    "or pass --query"
                )
            query = str(pubmed.query)
        if limits is None and pubmed is not None:
            limits = pubmed.limits()
        email = email or environ.get("NCBI_EMAIL") or (pubmed.email if pubmed else None)
        return run_search(
            self.store,
            query,
            clock=self.clock,
            limits=limits or DateLimits(),
            config=EntrezConfig.from_env(email, environ),
            batch_size=batch_size,
            progress=progress,
            on_retry=on_retry,
        )

    def load_search_file(
        self,
        path: Path | str,
        *,
        query: str | None = None,
        progress: Progress | None = None,
    ) -> SearchSummary:
        """Load a saved PubMed XML result as the search, logged with the query it stands for:
        ``query`` as stated, else the protocol's, logged as assumed (casepool ran neither)."""
        from review.pubmed.search import load_search_file

        pubmed = self.protocol.search.pubmed
        origin = "stated" if query is not None else None
        if query is None and pubmed is not None:
            query, origin = str(pubmed.query), "assumed"
        return load_search_file(
            self.store,
            Path(path),
            clock=self.clock,
            query=query,
            query_origin=origin,
            progress=progress,
        )

    def search_log(self) -> list[SearchLogEntry]:
        """Every search run and search-file load (PRISMA-S items), oldest first."""
        from review.store.search_log import list_runs

        with self.store.read() as tx:
            return list_runs(tx)

    # --- import and export ---------------------------------------------------------------

    def import_file(
        self,
        path: Path | str,
        *,
        source: str,
        fmt: str = "auto",
        sheet: str | int | None = None,
        skip_invalid: bool = False,
        rejects_path: Path | None = None,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import a record file as records of ``source``: all or nothing (or, with
        ``skip_invalid``, the valid records and a rejects file); the same file again is a
        no-op. ``sheet`` chooses an XLSX workbook's worksheet, by name or number from 1."""
        from review.sources.importing import import_file

        return import_file(
            self.store,
            Path(path),
            source=source,
            clock=self.clock,
            fmt=fmt,
            sheet=sheet,
            skip_invalid=skip_invalid,
            rejects_path=rejects_path,
            progress=progress,
        )

    def export(
        self,
        path: Path | str,
        *,
        fmt: str | None = None,
        include_all: bool = False,
        labels: Mapping[int, bool] | None = None,
        progress: Progress | None = None,
    ) -> ExportSummary:
        """Write each cluster's merged primary record (or, ``include_all``, every record)
        to RIS, CSV or XLSX, with its source and cluster; ``progress`` counts records
        written."""
        from review.sources.exporting import export_records

        return export_records(
            self.store,
            Path(path),
            fmt=fmt,
            include_all=include_all,
            labels=labels,
            progress=progress,
        )

    # --- deduplication -------------------------------------------------------------------

    def dedup(self, *, progress: Progress | None = None) -> DedupCounts:
        """Cluster duplicates across every source (links, never deletes), honouring every
        decision a person took; cluster ids survive. Returns the PRISMA counts."""
        from review.dedup.workflow import run_dedup

        return run_dedup(self.store, clock=self.clock, progress=progress)

    def dedup_counts(self) -> DedupCounts:
        """The PRISMA identification counts as the store holds them, without re-running."""
        from review.dedup.workflow import counts

        return counts(self.store)

    def dedup_queue(self) -> list[QueuedPair]:
        """The uncertain pairs waiting for a person, most similar first."""
        from review.dedup.workflow import pending_pairs

        return pending_pairs(self.store)

    def is_pending(self, a: int, b: int) -> bool:
        """True while the pair waits and its records are in different clusters."""
        from review.dedup.workflow import is_pending

        return is_pending(self.store, a, b)

    def decide_pair(self, a: int, b: int, decision: Literal["merge", "keep_apart"]) -> int:
        """Merge a pair of records or keep them apart for good; returns ``a``'s cluster."""
        from review.dedup.workflow import decide

        return decide(self.store, a, b, decision, at=self.clock(), by=self.actor)

    def undo_cluster(self, cluster_id: int) -> tuple[int, ...]:
        """Split a cluster into single records; later runs keep them apart."""
        from review.dedup.workflow import undo_cluster

        return undo_cluster(self.store, cluster_id, at=self.clock(), by=self.actor)

    def clusters(self) -> Membership:
        """Which cluster every live record is in, and each cluster's primary."""
        from review.dedup.workflow import membership

        return membership(self.store)

    def cluster(self, cluster_id: int) -> Record:
        """A cluster as one record: its primary, with missing fields from the others."""
        from review.dedup.workflow import cluster_view

        return cluster_view(self.store, cluster_id)

    def export_membership(self, path: Path | str) -> int:
        """Write every live record's source, source id, cluster and primary flag to a CSV."""
        from review.dedup.workflow import export_membership

        return export_membership(self.store, Path(path))

    # --- analysis ------------------------------------------------------------------------

    def pool_plan(
        self,
        counts: StudyCounts,
        *,
        outcome: str | None = None,
        study_fields: Mapping[str, Sequence[str | None]] | None = None,
        progress: Progress | None = None,
    ) -> PlanResult:
        """Pool one outcome's per-study counts as the protocol's analysis plan says: the
        primary model, the subgroup comparisons (``study_fields`` holds each study-form
        field's values, in the order of ``counts.studies``) and the sensitivity analyses."""
        from review.analysis import pool_plan

        if outcome is not None:
            self.protocol.outcome(outcome)  # an unknown outcome is an error naming the known
        return pool_plan(
            self.protocol.analysis,
            counts,
            outcome=outcome,
            study_fields=study_fields,
            progress=progress,
        )


def _locate_store(where: Path | str | None, *, db: str | None, env: Mapping[str, str]) -> str:
    """A store URL from a URL, a SQLite file, or a review folder (its store)."""
    from review.store import sqlite_url, store_url

    if isinstance(where, str) and "://" in where:
        return store_url(where)
    if where is not None and Path(where).suffix == ".db" and not Path(where).is_dir():
        return sqlite_url(Path(where))
    _, url = open_folder(Path(where) if where is not None else None, db=db, env=env)
    return url


def migrate_store(
    where: Path | str | None = None,
    *,
    db: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Migration:
    """Bring a review's store (a folder's, or a database URL) to this casepool's schema;
    say which revisions were applied. A shared PostgreSQL store is only ever migrated here."""
    from review.store.migrate import HEAD, Migration

    url = _locate_store(where, db=db, env=os.environ if env is None else env)
    with open_store(url, migrate=True) as store:
        return Migration(store.display_url, HEAD, tuple(store.applied))


def copy_store(
    source: Path | str,
    target: str,
    *,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy a whole review store (a folder's, a SQLite file or a URL) into an empty database
    (a URL or a new SQLite file), checked row for row, all or nothing."""
    from review.store import sqlite_url
    from review.store.copy import copy_store as copy

    environ = os.environ if env is None else env
    from_url = _locate_store(source, db=None, env=environ)
    to_url = target if "://" in target else sqlite_url(Path(target))
    return copy(from_url, to_url, progress=progress)
