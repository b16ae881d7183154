"""Screening in a review: the handle ``Review.screening`` (queues, decisions, blinding,
conflicts, agreement, allocation, full texts, the PRISMA flow, relevance order, the stopping
rule)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from review.prisma.flow import PrismaFlow
    from review.screening.agreement import StageAgreement
    from review.screening.events import Decision, Paper, ScreeningEvent, Stage, Via
    from review.screening.highlight import Highlighter
    from review.screening.progress import StageStatus
    from review.screening.ranking import ModelName
    from review.screening.relevance import RelevanceQueue, TrainingSet
    from review.screening.round_trip import SheetExport, SheetImport
    from review.screening.state import ClusterState, Retrieval
    from review.screening.stop_sample import StopReport
    from review.screening.workflow import Assignment, ScreenItem, Settings

if TYPE_CHECKING:
    from review.api import Review


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
        from review.screening.round_trip import export_sheet

        return export_sheet(
            self.store, self.settings, stage=stage, reviewer=reviewer, path=path, order=order
        )

    def import_sheet(self, path: Path, reviewer: str) -> SheetImport:
        """Record a reviewer's decisions from a filled sheet, all or nothing: every row is
        checked first and any problem refuses the sheet (``SheetError`` lists them all)."""
        from review.screening.round_trip import import_sheet

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
        from review.screening.fulltexts import full_text

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
        from review.screening.progress import agreement

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
        from review.screening.progress import status

        return status(self.store, self.settings, viewer=viewer)

    # --- full texts, studies, PRISMA --------------------------------------------------

    def retrieved(self, cluster_id: int, *, pdf: str | None = None) -> Paper:
        """Mark a report's full text found, with the path or URL of its PDF if given."""
        from review.screening.fulltexts import retrieve

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
        from review.screening.fulltexts import retrieve

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
        from review.screening.fulltexts import link_study

        return link_study(
            self.store, cluster_id=cluster_id, study=study, at=self._now(), by=self.review.actor
        )

    def unlink(self, cluster_id: int) -> tuple[Paper, Paper | None]:
        """Make a report its own study again."""
        from review.screening.fulltexts import link_study

        return link_study(
            self.store, cluster_id=cluster_id, study=None, at=self._now(), by=self.review.actor
        )

    def studies(self) -> dict[int, list[int]]:
        """Each study of two or more reports (named by its smallest cluster) and its reports."""
        from review.screening.fulltexts import study_groups

        return study_groups(self.store, self.settings)

    def flow(self) -> tuple[PrismaFlow, tuple[Stage, ...]]:
        """The PRISMA 2020 flow as it stands, and the stages still blind (not counted)."""
        from review.screening.progress import flow

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
