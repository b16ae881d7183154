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

    from extraction.appraisal import AppraisalSummary, Tool
    from extraction.derive import StudyCount
    from extraction.forms import Form
    from meta.counts import StudyCounts
    from meta.ipd import IPDFit
    from review.analysis import PlanResult
    from review.dedup.clusters import Membership
    from review.dedup.pairs import QueuedPair
    from review.extract.appraisal import Answered, AppraisalRow, ItemState
    from review.extract.events import AppraisalEvent, ExtractionEvent, FormName, Study
    from review.extract.events import Via as ExtractVia
    from review.extract.export import Table as ExportTable
    from review.extract.outcomes import PatientRows
    from review.extract.state import CellState
    from review.extract.workflow import Entered, RowInput
    from review.prisma.counts import DedupCounts
    from review.prisma.flow import PrismaFlow
    from review.pubmed.dates import DateLimits
    from review.pubmed.entrez import Retry
    from review.pubmed.log import SearchLogEntry
    from review.pubmed.search import SearchSummary
    from review.records import Record
    from review.screening.agreement import StageAgreement
    from review.screening.events import Decision, Paper, ScreeningEvent, Stage, Via
    from review.screening.highlight import Highlighter
    from review.screening.ranking import ModelName
    from review.screening.relevance import RelevanceQueue, TrainingSet
    from review.screening.state import ClusterState, Retrieval
    from review.screening.stop_sample import StopReport
    from review.screening.workflow import (
        Assignment,
        ScreenItem,
        Settings,
        SheetExport,
        SheetImport,
        StageStatus,
    )
    from review.sources.exporting import ExportSummary
    from review.sources.importing import ImportSummary
    from review.store.copy import CopyReport
    from review.store.migrate import Migration
    from review.team.accounts import Role, User
    from review.team.workflow import Session


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


class Screening:
    """The screening use cases of one review (``review.screening``).

    Stages are ``"ta"`` (title/abstract) and ``"ft"`` (full text). Every method that shows
    decisions takes the person looking (``viewer``/``reviewer``): while a stage is blind
    they see only their own, and without a viewer a blind stage is refused (BlindError).
    """

    def __init__(self, review: Review) -> None:
        from review.screening.workflow import Settings

        self.review = review
        self.store = review.store
        self.settings: Settings = Settings.of(review.protocol)

    def _now(self) -> str:
        return self.review.clock()

    # --- a reviewer's work -----------------------------------------------------------

    def queue(
        self, stage: Stage, reviewer: str, order: Literal["default", "relevance"] = "default"
    ) -> list[int]:
        """The clusters a reviewer still has to screen at ``stage``, in order: cluster
        order, or with ``order="relevance"`` most relevant first (see ``relevance``; the
        default order while the model cannot be trained yet)."""
        from review.screening.workflow import queue

        if order == "relevance":
            return list(self.relevance(stage, reviewer).clusters)
        if order != "default":
            from review.errors import ScreeningError

            raise ScreeningError(f"unknown queue order {order!r}; use default or relevance")
        return queue(self.store, self.settings, stage=stage, reviewer=reviewer)

    def training_set(self, stage: Stage, reviewer: str) -> TrainingSet:
        """What a reviewer's relevance model reads: every record's text at ``stage``, the
        labels it may learn (while blind only the reviewer's own decisions; never a record
        still in their queue) and their queue (``review.screening.relevance``)."""
        from review.screening.relevance import training_set

        return training_set(self.store, self.settings, stage=stage, reviewer=reviewer)

    def relevance(
        self, stage: Stage, reviewer: str, *, model: ModelName | None = None, seed: int = 0
    ) -> RelevanceQueue:
        """A reviewer's queue ranked by a model trained on the decisions they may see, with
        each queued record's predicted relevance; with fewer than one include and one
        exclude the default order and why (not an error)."""
        from review.screening.relevance import make_ranker, rank

        training = self.training_set(stage, reviewer)
        return rank(training, make_ranker(training, model=model, seed=seed))

    def item(self, cluster_id: int) -> ScreenItem:
        """A cluster to screen, as one record (reads only that cluster)."""
        from review.screening.workflow import item

        return item(self.store, cluster_id)

    def highlighter(self) -> Highlighter:
        """The protocol's include and exclude terms, to mark in a title or abstract."""
        from review.screening.highlight import Highlighter

        terms = self.review.protocol.screening.highlight
        return Highlighter(terms.include, terms.exclude)

    def decide(
        self,
        cluster_id: int,
        *,
        stage: Stage,
        reviewer: str,
        decision: Decision,
        reason: str | None = None,
        note: str | None = None,
        via: Via = "api",
        source: str | None = None,
        first: bool = False,
    ) -> ScreeningEvent:
        """Record a decision, committed at once; it supersedes the reviewer's earlier one.
        An exclusion at full text needs one of the protocol's reasons. With ``first`` the
        paper must still be in the reviewer's queue (checked in the same transaction), else
        AlreadyDecided: a key press sent twice is recorded once."""
        from review.screening.workflow import decide

        return decide(
            self.store,
            self.settings,
            stage=stage,
            cluster_id=cluster_id,
            reviewer=reviewer,
            decision=decision,
            reason=reason,
            note=note,
            at=self._now(),
            via=via,
            recorded_by=self.review.actor if self.review.actor != reviewer else None,
            source=source,
            first=first,
        )

    def note(
        self, cluster_id: int, *, stage: Stage, reviewer: str, text: str, via: Via = "api"
    ) -> ScreeningEvent:
        """Attach a note to a cluster (it decides nothing)."""
        from review.screening.workflow import add_note

        return add_note(
            self.store,
            self.settings,
            stage=stage,
            cluster_id=cluster_id,
            reviewer=reviewer,
            note=text,
            at=self._now(),
            via=via,
        )

    def reset(
        self, cluster_id: int, *, stage: Stage, reviewer: str, via: Via = "api"
    ) -> ScreeningEvent:
        """Return a cluster to unscreened for a reviewer (the trail keeps what was decided)."""
        from review.screening.workflow import reset

        return reset(
            self.store,
            self.settings,
            stage=stage,
            cluster_id=cluster_id,
            reviewer=reviewer,
            at=self._now(),
            via=via,
            recorded_by=self.review.actor if self.review.actor != reviewer else None,
        )

    def undo(self, *, stage: Stage, reviewer: str, via: Via = "api") -> ScreeningEvent | None:
        """Take back the reviewer's latest decision in force (None if there is none)."""
        from review.screening.workflow import undo_last

        return undo_last(
            self.store, self.settings, stage=stage, reviewer=reviewer, at=self._now(), via=via
        )

    def state(self, cluster_id: int, *, stage: Stage, viewer: str | None = None) -> ClusterState:
        """Where one cluster stands at a stage, as ``viewer`` may see it."""
        from review.screening.workflow import snapshot

        self.settings.check_stage(stage)
        view = snapshot(self.store, self.settings)
        cluster = view.membership.resolve(cluster_id)
        states = view.visible(stage, viewer)
        if cluster is None or cluster not in states:
            from review.errors import ScreeningError

            raise ScreeningError(f"there is no cluster {cluster_id} in this review")
        return states[cluster]

    def history(
        self, cluster_id: int, *, viewer: str | None = None
    ) -> tuple[Paper, list[ScreeningEvent]]:
        """The cluster as it is now, and every screening event on its papers."""
        from review.screening.workflow import history

        return history(self.store, self.settings, cluster_id, viewer=viewer)

    def export_sheet(
        self,
        stage: Stage,
        reviewer: str,
        path: Path,
        order: Literal["default", "relevance"] = "default",
    ) -> SheetExport:
        """Write a reviewer's records at ``stage`` to an XLSX or CSV sheet to screen in a
        spreadsheet, their decisions in force pre-filled (``review.screening.sheet``); with
        ``order="relevance"`` the records to screen first, most relevant first, with a
        relevance column."""
        from review.screening.workflow import export_sheet

        return export_sheet(
            self.store, self.settings, stage=stage, reviewer=reviewer, path=path, order=order
        )

    def import_sheet(self, path: Path, reviewer: str) -> SheetImport:
        """Record a reviewer's decisions from a filled sheet, all or nothing: every row is
        checked first and any problem refuses the sheet (``SheetError`` lists them all)."""
        from review.screening.workflow import import_sheet

        return import_sheet(
            self.store,
            self.settings,
            path=path,
            reviewer=reviewer,
            at=self._now(),
            recorded_by=self.review.actor if self.review.actor != reviewer else None,
        )

    def to_screen(self, cluster_id: int, *, stage: Stage, reviewer: str) -> bool:
        """Whether a cluster is still in a reviewer's queue, reading only that cluster."""
        from review.screening.workflow import to_screen

        return to_screen(
            self.store, self.settings, stage=stage, cluster_id=cluster_id, reviewer=reviewer
        )

    def full_text(self, cluster_id: int) -> Retrieval | None:
        """A cluster's full-text retrieval: found or not, and where its PDF is."""
        from review.screening.workflow import full_text

        return full_text(self.store, cluster_id)

    # --- the lead's work -------------------------------------------------------------

    def unblind(self, stage: Stage, *, by: str) -> bool:
        """Show everyone's decisions at ``stage`` (False if it was already unblinded)."""
        from review.screening.workflow import set_blind

        return set_blind(self.store, self.settings, stage=stage, blind=False, by=by, at=self._now())

    def blind(self, stage: Stage, *, by: str) -> bool:
        """Hide others' decisions at ``stage`` again (False if it already was blind)."""
        from review.screening.workflow import set_blind

        return set_blind(self.store, self.settings, stage=stage, blind=True, by=by, at=self._now())

    def conflicts(self, stage: Stage) -> list[ClusterState]:
        """Clusters in conflict at ``stage`` (refused while it is blind)."""
        from review.screening.workflow import conflicts

        return conflicts(self.store, self.settings, stage=stage)

    def agreement(self, stage: Stage) -> StageAgreement:
        """Agreement between the reviewers at ``stage``: percent agreement, Cohen's kappa
        with its 95% CI, PABAK and Gwet's AC1 per pair, Fleiss' kappa for three or more
        (refused while the stage is blind)."""
        from review.screening.workflow import agreement

        return agreement(self.store, self.settings, stage=stage)

    def resolve(
        self,
        cluster_id: int,
        *,
        stage: Stage,
        decision: Decision,
        by: str,
        reason: str | None = None,
        why: str | None = None,
        via: Via = "api",
    ) -> tuple[ScreeningEvent, ClusterState]:
        """Record the final decision on a cluster; returns it and the state the cluster was in
        before (a cluster need not be in conflict to be resolved)."""
        from review.screening.workflow import resolve

        return resolve(
            self.store,
            self.settings,
            stage=stage,
            cluster_id=cluster_id,
            decision=decision,
            by=by,
            reason=reason,
            why=why,
            at=self._now(),
            via=via,
        )

    def assign(
        self, stage: Stage, reviewers: Sequence[str], *, per_record: int, seed: int = 1
    ) -> Assignment:
        """Share the stage's unassigned clusters fairly and reproducibly among reviewers."""
        from review.screening.workflow import assign

        return assign(
            self.store,
            self.settings,
            stage=stage,
            reviewers=reviewers,
            per_record=per_record,
            seed=seed,
            at=self._now(),
            by=self.review.actor,
        )

    def status(self, *, viewer: str | None = None) -> list[StageStatus]:
        """Progress per stage and reviewer (decision counts blind where the stage is)."""
        from review.screening.workflow import status

        return status(self.store, self.settings, viewer=viewer)

    # --- full texts, studies, PRISMA --------------------------------------------------

    def retrieved(self, cluster_id: int, *, pdf: str | None = None) -> Paper:
        """Mark a report's full text found, with the path or URL of its PDF if given."""
        from review.screening.workflow import retrieve

        return retrieve(
            self.store,
            self.settings,
            cluster_id=cluster_id,
            found=True,
            location=pdf,
            at=self._now(),
            by=self.review.actor,
        )

    def not_retrieved(self, cluster_id: int, *, why: str) -> Paper:
        """Mark a report's full text as not found, and why."""
        from review.screening.workflow import retrieve

        return retrieve(
            self.store,
            self.settings,
            cluster_id=cluster_id,
            found=False,
            reason=why,
            at=self._now(),
            by=self.review.actor,
        )

    def link(self, cluster_id: int, *, study: int) -> tuple[Paper, Paper | None]:
        """Record that a report describes the same study (patients) as another report."""
        from review.screening.workflow import link_study

        return link_study(
            self.store, cluster_id=cluster_id, study=study, at=self._now(), by=self.review.actor
        )

    def unlink(self, cluster_id: int) -> tuple[Paper, Paper | None]:
        """Make a report its own study again."""
        from review.screening.workflow import link_study

        return link_study(
            self.store, cluster_id=cluster_id, study=None, at=self._now(), by=self.review.actor
        )

    def studies(self) -> dict[int, list[int]]:
        """Each study of two or more reports (named by its smallest cluster) and its reports."""
        from review.screening.workflow import study_groups

        return study_groups(self.store, self.settings)

    def flow(self) -> tuple[PrismaFlow, tuple[Stage, ...]]:
        """The PRISMA 2020 flow as it stands, and the stages still blind (not counted)."""
        from review.screening.workflow import flow

        return flow(self.store, self.review.protocol)

    # --- when to stop -----------------------------------------------------------------

    def recorded_stopping(self, stage: Stage) -> StopReport | None:
        """The stopping rule on the review's recorded random sample at ``stage`` (recall
        95%, confidence 95%), read only; None without a sample or while the stage is blind."""
        from review.screening.stop_sample import recorded_stopping

        return recorded_stopping(self.store, self.settings, stage=stage)

    def stop_check(
        self,
        stage: Stage,
        *,
        reviewer: str | None = None,
        recall: float = 0.95,
        confidence: float = 0.95,
        sample: int | None = None,
        seed: int | None = None,
        new_sample: bool = False,
        run_length: int = 50,
    ) -> StopReport:
        """The statistical stopping rule (Callaghan and Müller-Hansen 2020) at ``stage``
        for ``reviewer`` (None: the review as a whole, refused while blind), with the
        heuristics beside it. Draws and records the random records the test needs
        (``review.screening.stop_sample``); ``sample`` asks for that many more."""
        from review.screening.stop_sample import check_stopping

        return check_stopping(
            self.store,
            self.settings,
            stage=stage,
            reviewer=reviewer,
            recall=recall,
            confidence=confidence,
            sample=sample,
            seed=seed,
            new_sample=new_sample,
            run_length_n=run_length,
            at=self._now(),
            by=self.review.actor,
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


class Extraction:
    """The extraction use cases of one review (``review.extraction``): the studies to
    extract, rows entered all or nothing, every value an event, dual extraction compared
    and resolved, and each study's count for an outcome."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.store = review.store
        self.protocol = review.protocol

    def add_study(self, label: str, *, cluster: int | None = None) -> Study:
        """Register a study to extract (the local series, or a report from screening)."""
        from review.extract.workflow import add_study

        return add_study(
            self.store, label, cluster_id=cluster, at=self.review.clock(), by=self.review.actor
        )

    def add_included(self) -> list[Study]:
        """Register every study that screening included at full text and that is not
        registered yet (reports of one study are one study)."""
        from review.extract.workflow import add_included

        return add_included(self.store, self.protocol, at=self.review.clock(), by=self.review.actor)

    def studies(self) -> list[Study]:
        from review.extract.workflow import studies

        return studies(self.store)

    def enter(
        self,
        rows: Sequence[RowInput],
        *,
        extractor: str,
        via: ExtractVia = "api",
        source: str | None = None,
        add_studies: bool = False,
    ) -> Entered:
        """Check every row and write every changed value in one transaction (nothing when
        any row has a problem: ExtractImportError lists them all, with their places)."""
        from review.extract.workflow import enter

        return enter(
            self.store,
            self.protocol,
            rows,
            person=extractor,
            at=self.review.clock(),
            via=via,
            source=source,
            add_studies=add_studies,
        )

    def import_file(
        self,
        path: Path | str,
        *,
        extractor: str,
        form: FormName | None = None,
        add_studies: bool = False,
        partial: bool = False,
        rejects: Path | str | None = None,
        fmt: Literal["auto", "redcap"] = "auto",
    ) -> tuple[str, Entered]:
        """Import an extraction CSV (study, case or aggregate rows; see
        ``review.extract.files``) or workbook (a sheet per form; ``review.extract.sheets``):
        all or nothing; the same file again writes nothing. With ``partial`` the valid rows
        are imported and the others written to ``rejects`` (default ``NAME.rejects.csv``
        beside the file) with their problems. Returns the form read (a workbook's sheets,
        joined with ', ') and what was entered. ``fmt="redcap"`` reads a REDCap records
        export (raw or labelled) made with ``casepool extract dictionary``."""
        from review.extract.files import read_rows
        from review.extract.sheets import entered_rows, read_workbook, rejects_path, write_rejects
        from review.extract.workflow import enter, enter_valid, forms_of

        source = Path(path)
        forms = forms_of(self.protocol)
        chosen: str
        if fmt == "redcap":
            from review.extract.redcap_rows import redcap_rows

            rows = redcap_rows(source, self.protocol.extraction.forms)
            chosen = "redcap"
        elif source.suffix.lower() == ".xlsx":
            sheets, rows = read_workbook(source, forms, form=form)
            chosen = ", ".join(sheets)
        else:
            chosen, rows = read_rows(source, forms, form=form)
        rows = entered_rows(rows)
        if not partial:
            done = enter(
                self.store,
                self.protocol,
                rows,
                person=extractor,
                at=self.review.clock(),
                via="spreadsheet",
                add_studies=add_studies,
            )
            return chosen, done
        done, rejected = enter_valid(
            self.store,
            self.protocol,
            rows,
            person=extractor,
            at=self.review.clock(),
            via="spreadsheet",
            add_studies=add_studies,
        )
        if rejected:
            write_rejects(rejects_path(source, rejects), rejected, forms)
        return chosen, done

    def write_dictionary(self, path: Path | str) -> Path:
        """The study and case forms as a REDCap data dictionary (CSV)."""
        from extraction.redcap import write_data_dictionary

        target = Path(path)
        write_data_dictionary(self.protocol.extraction.forms, target)
        return target

    def find_study(self, key: str) -> Study:
        """A study by id or label."""
        from review.extract.workflow import find_study

        return find_study(self.store, key)

    def form(self, name: FormName) -> Form:
        """The study, case or aggregate form."""
        from review.extract.workflow import forms_of

        return forms_of(self.protocol)[name]

    def row_values(
        self, study: Study, *, form: FormName, row: str, extractor: str
    ) -> dict[str, ExtractionEvent]:
        """An extractor's entries in force in one row (field -> event)."""
        from review.extract.workflow import row_values

        return row_values(
            self.store, self.protocol, study=study, form=form, row=row, person=extractor
        )

    def applies(
        self, study: Study, *, form: FormName, row: str, field: str, extractor: str
    ) -> bool | None:
        """Whether a field's ``when`` holds for what the extractor entered in the row."""
        from review.extract.workflow import field_applies

        entered = self.row_values(study, form=form, row=row, extractor=extractor)
        return field_applies(self.form(form), field, entered)

    def enter_value(
        self,
        study: Study,
        *,
        form: FormName,
        row: str,
        field: str,
        value: str,
        extractor: str,
        via: ExtractVia = "api",
    ) -> ExtractionEvent | None:
        """Check one value and commit it at once (None: unchanged or left empty)."""
        from review.extract.workflow import enter_value

        return enter_value(
            self.store,
            self.protocol,
            study=study,
            form=form,
            row=row,
            field_name=field,
            raw=value,
            person=extractor,
            at=self.review.clock(),
            via=via,
        )

    def template(
        self, out: Path | str, *, studies: Literal["all", "included"] = "all"
    ) -> list[Path]:
        """Write the extraction template (``review.extract.sheets``): an XLSX workbook, or
        a CSV per form for a ``.csv`` name, with the studies to extract filled in (every
        registered study, or only those whose report was included at full text)."""
        from review.extract.sheets import write_template
        from review.extract.workflow import forms_of, studies_included
        from review.extract.workflow import studies as registered

        chosen = (
            studies_included(self.store, self.protocol)
            if studies == "included"
            else registered(self.store)
        )
        return write_template(
            Path(out),
            forms_of(self.protocol),
            [s.label for s in chosen],
            title=self.protocol.review.title,
        )

    def tables(self) -> list[ExportTable]:
        """The extraction and appraisal as tidy tables as they stand (what ``export``
        writes), for the report."""
        from review.extract.export import review_tables

        return review_tables(self.store, self.protocol)

    def export(self, out: Path | str, *, fmt: Literal["csv", "xlsx"] | None = None) -> list[Path]:
        """Write the extraction and appraisal as tidy tables (``review.extract.export``:
        studies, cases, aggregates, outcomes, patient_outcomes, appraisal, appraisal_scores)
        to a workbook or a CSV per table; the files written."""
        from review.extract.export import check_format, review_tables, write_tables

        target = Path(out)
        chosen = check_format(target, fmt)
        return write_tables(target, review_tables(self.store, self.protocol), chosen)

    def cells(self) -> list[CellState]:
        """Every cell entered, with its status (entered, pending, agreed, conflict, resolved)."""
        from review.extract.workflow import cell_states

        return list(cell_states(self.store, self.protocol).values())

    def compare(self) -> list[CellState]:
        """The cells where two extractors differ."""
        from review.extract.workflow import compare

        return compare(self.store, self.protocol)

    def resolve(
        self,
        study: str,
        *,
        field: str,
        value: str,
        by: str,
        form: FormName = "study",
        row: str = "",
        why: str | None = None,
        via: ExtractVia = "api",
    ) -> ExtractionEvent:
        """Record the adjudicated value of one cell."""
        from review.extract.workflow import resolve

        return resolve(
            self.store,
            self.protocol,
            study=study,
            form=form,
            row=row,
            field_name=field,
            value=value,
            by=by,
            at=self.review.clock(),
            why=why,
            via=via,
        )

    def history(
        self, study: str, *, field: str | None = None
    ) -> tuple[Study, list[ExtractionEvent]]:
        """The trail of a study: every value entered or resolved, oldest first."""
        from review.extract.workflow import history

        return history(self.store, study, field_name=field)

    def counts(self, outcome: str) -> list[StudyCount]:
        """Each study's count for an outcome, from its case rows or its aggregate row."""
        from review.extract.outcomes import counts

        return counts(self.store, self.protocol, outcome)

    def patient_rows(self, outcome: str, covariates: Sequence[str] = ()) -> PatientRows:
        """The case rows usable for the one-stage (IPD) model of an outcome."""
        from review.extract.outcomes import patient_rows

        return patient_rows(self.store, self.protocol, outcome, covariates)

    def fit_ipd(self, outcome: str, covariates: Sequence[str] = ()) -> tuple[IPDFit, PatientRows]:
        """``meta``'s one-stage random-intercept logistic model on the patient rows."""
        from meta.ipd import fit_ipd

        rows = self.patient_rows(outcome, covariates)
        fit = fit_ipd(rows.outcome, rows.study, dict(rows.covariates) or None)
        return fit, rows

    def study_counts(self, outcome: str) -> StudyCounts:
        """The same counts as ``meta``'s input type, ready to pool (studies with nobody
        assessed are left out, as they hold no information on a proportion)."""
        from meta.counts import make_counts

        found = [c for c in self.counts(outcome) if c.assessed > 0]
        return make_counts(
            [c.events for c in found], [c.assessed for c in found], [c.study for c in found]
        )


class Appraising:
    """The appraisal use cases of one review (``review.appraisal``): each study appraised
    with the tool its design calls for (or one named), every answer an event, two
    appraisers settled by consensus where the protocol asks for two."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.store = review.store
        self.protocol = review.protocol

    def tools(self) -> dict[str, Tool]:
        """The built-in tools (Murad 2018, JBI case report, JBI case series) and the
        protocol's own."""
        from review.extract.appraisal import tools

        return tools(self.protocol)

    def tool_for(self, study: str) -> Tool:
        """The tool a study's design calls for."""
        from review.extract.appraisal import tool_for_study
        from review.extract.workflow import find_study

        return tool_for_study(self.store, self.protocol, find_study(self.store, study))

    def enter(
        self, rows: Sequence[AppraisalRow], *, appraiser: str, via: ExtractVia = "api"
    ) -> Answered:
        """Check every answer and write the changed ones in one transaction."""
        from review.extract.appraisal import enter

        return enter(
            self.store, self.protocol, rows, person=appraiser, at=self.review.clock(), via=via
        )

    def import_file(self, path: Path | str, *, appraiser: str) -> Answered:
        """Import an appraisal CSV (``study``, ``tool`` and one column per item id)."""
        from review.extract.appraisal_files import read_appraisal_rows

        return self.enter(read_appraisal_rows(Path(path)), appraiser=appraiser, via="spreadsheet")

    def template(self, path: Path | str) -> int:
        """Write a CSV to fill in: a row per study with the tool its design calls for (empty
        when its design is not known yet), a column per item. Returns the rows."""
        from review.errors import ExtractError
        from review.extract.appraisal import write_appraisal_template
        from review.extract.workflow import studies

        rows: list[tuple[str, Tool | None]] = []
        for study in studies(self.store):
            try:
                rows.append((study.label, self.tool_for(study.label)))
            except ExtractError:
                rows.append((study.label, None))
        return write_appraisal_template(Path(path), rows)

    def items(self) -> list[ItemState]:
        from review.extract.appraisal import item_states

        return item_states(self.store, self.protocol)

    def differences(self) -> list[ItemState]:
        """The items two appraisers answered differently, not yet settled."""
        from review.extract.appraisal import differences

        return differences(self.store, self.protocol)

    def resolve(
        self, study: str, *, tool: str, item: str, answer: str, by: str, why: str | None = None
    ) -> AppraisalEvent:
        """Record the consensus answer of one item."""
        from review.extract.appraisal import resolve

        return resolve(
            self.store,
            self.protocol,
            study=study,
            tool=tool,
            item=item,
            answer=answer,
            by=by,
            at=self.review.clock(),
            why=why,
            via="cli",
        )

    def summary(self) -> tuple[tuple[AppraisalSummary, ...], list[str]]:
        """A summary table per tool of the finished appraisals, and the unfinished studies."""
        from review.extract.appraisal import summary

        return summary(self.store, self.protocol)

    def study_sizes(self) -> dict[str, float]:
        from review.extract.appraisal import study_sizes

        return study_sizes(self.store, self.protocol)


class Team:
    """Team mode's accounts and sessions (``review.team``): who may use the screening web
    pages (``casepool serve``) and as which role; passwords hashed with argon2."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.store = review.store

    def add_user(self, name: str, *, password: str, role: Role = "reviewer") -> User:
        """Create an account; its name is the person's screening reviewer name."""
        from review.team.workflow import add_user

        return add_user(
            self.store,
            name,
            role=role,
            password=password,
            at=self.review.clock(),
            by=self.review.actor,
        )

    def set_password(self, name: str, *, password: str) -> None:
        """Give an account a new password (its open sessions end)."""
        from review.team.workflow import set_password

        set_password(self.store, name, password=password)

    def users(self) -> list[User]:
        from review.team.workflow import users

        return users(self.store)

    def is_lead(self, user: User) -> bool:
        """A lead has role lead or is one of the protocol's ``[screening] leads``."""
        return user.is_lead(self.review.protocol.screening.leads)

    def login(self, name: str, password: str, *, address: str) -> Session:
        """Check a password and open a new session (LoginError; LoginRateLimited after too
        many failures for the name or from the address)."""
        from review.team.workflow import login

        return login(self.store, name, password, address=address, at=self.review.clock())

    def session(self, token: str) -> Session | None:
        """The open session of a cookie's token, or None."""
        from review.team.workflow import session

        return session(self.store, token, at=self.review.clock())

    def logout(self, token: str) -> None:
        from review.team.workflow import logout

        logout(self.store, token)
