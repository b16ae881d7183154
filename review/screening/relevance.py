"""Relevance order for a reviewer's queue: the records they still have to screen, ranked by
a model (``review.screening.ranking``) trained on the decisions they may see.

``training_set`` reads, in one snapshot, every record of the stage (the model's texts: the
TF-IDF features are fitted on all of them, labels or not), the reviewer's queue and the
labels their model may learn from (``review.screening.labels.training_labels``: while the
stage is blind only their own decisions; clusters still in their queue never). ``rank``
is pure: given a ``Ranker`` built on those texts it orders the queue and gives each queued
record its predicted relevance, or, with fewer than one include and one exclude, keeps the
default order and says why. A front end that retrains as decisions arrive (the terminal
screener) keeps the ``TrainingSet`` and the ``Ranker`` and adds each new label itself with
``TrainingSet.with_label``, without reading the store again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from review.screening.events import Stage, check_name
from review.screening.labels import training_labels
from review.screening.workflow import Settings, queue_of, read_snapshot
from review.store import Store

if TYPE_CHECKING:
    from review.screening.ranking import ModelName, Ranker, Ranking


class Ranks(Protocol):
    """What ``rank`` needs of a ranker: ``review.screening.ranking.Ranker``, or the same
    model in another process (the terminal screener's)."""

    @property
    def model(self) -> str: ...

    def rank(self, labels: Mapping[int, bool]) -> Ranking: ...


@dataclass(frozen=True)
class TrainingSet:
    """What a reviewer's model reads: every cluster of the stage (its positions, in cluster
    order) with its text, the labels it may learn and the queue in the default order."""

    stage: Stage
    reviewer: str
    clusters: tuple[int, ...]
    texts: tuple[str, ...]
    labels: Mapping[int, bool]
    queue: tuple[int, ...]
    _position: Mapping[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        position = MappingProxyType({c: i for i, c in enumerate(self.clusters)})
        object.__setattr__(self, "_position", position)

    def position_labels(self) -> dict[int, bool]:
        """The labels keyed by position in ``texts`` (what ``Ranker.rank`` takes)."""
        return {self._position[c]: v for c, v in self.labels.items() if c in self._position}

    def with_label(self, cluster: int, include: bool | None) -> TrainingSet:
        """The set after the reviewer decided ``cluster`` (``include`` None: maybe, which
        is no label); the cluster leaves the queue."""
        labels = dict(self.labels)
        if include is None:
            labels.pop(cluster, None)
        else:
            labels[cluster] = include
        queue = tuple(c for c in self.queue if c != cluster)
        return TrainingSet(self.stage, self.reviewer, self.clusters, self.texts, labels, queue)

    def requeued(self, cluster: int) -> TrainingSet:
        """The set after ``cluster`` came back to the queue (an undo): no label, queued."""
        labels = {c: v for c, v in self.labels.items() if c != cluster}
        queue = self.queue if cluster in self.queue else (cluster, *self.queue)
        return TrainingSet(self.stage, self.reviewer, self.clusters, self.texts, labels, queue)


@dataclass(frozen=True)
class RelevanceQueue:
    """A reviewer's queue in relevance order with each record's predicted relevance (in
    [0, 1]); when the model cannot be trained yet, the default order, no scores and why."""

    stage: Stage
    reviewer: str
    clusters: tuple[int, ...]
    scores: Mapping[int, float]
    ranked: bool
    model: str | None
    includes: int
    excludes: int
    why_unranked: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "stage": self.stage,
            "reviewer": self.reviewer,
            "order": "relevance" if self.ranked else "default",
            "model": self.model,
            "trained_on": {"includes": self.includes, "excludes": self.excludes},
            "why_unranked": self.why_unranked,
            "clusters": [{"cluster": c, "relevance": self.scores.get(c)} for c in self.clusters],
        }


def training_set(store: Store, settings: Settings, *, stage: Stage, reviewer: str) -> TrainingSet:
    """Read the texts, the labels the reviewer's model may learn and their queue (one read)."""
    from review.screening.ranking import record_text
    from review.sources.exporting import ExportPlan, export_rows

    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    with store.read() as tx:
        view = read_snapshot(tx, settings)
        queue = queue_of(view, stage, reviewer)
        clusters = view.eligible(stage)
        states = view.visible(stage, reviewer)
        labels = training_labels(
            {c: states[c] for c in clusters},
            reviewer=reviewer,
            blind=view.blind[stage],
            queued=queue,
        )
        groups = view.membership.groups()
        primary = view.membership.primary_of
        plan = ExportPlan(
            tuple((c, (primary[c], *(r for r in groups[c] if r != primary[c]))) for c in clusters),
            include_all=False,
        )
        texts = {
            row.cluster_id: record_text(row.record)
            for row in export_rows(tx, plan, view.membership)
        }
    return TrainingSet(
        stage=stage,
        reviewer=reviewer,
        clusters=tuple(clusters),
        texts=tuple(texts[c] for c in clusters),
        labels=MappingProxyType(labels),
        queue=tuple(queue),
    )


def unranked_reason(includes: int, excludes: int) -> str:
    """Why the queue keeps its default order."""
    return (
        "relevance order needs at least one include and one exclude among the decisions "
        f"the model may learn from ({includes} includes, {excludes} excludes so far); "
        "showing the default order"
    )


def make_ranker(training: TrainingSet, *, model: ModelName | None = None, seed: int = 0) -> Ranker:
    """The ranker on the set's texts (the TF-IDF fit: the costly part, done once)."""
    from review.screening.ranking import DEFAULT, Ranker

    return Ranker(training.texts, model=model or DEFAULT, seed=seed)


def rank(training: TrainingSet, ranker: Ranks) -> RelevanceQueue:
    """The queue in relevance order with scores, or, with fewer than one include and one
    exclude to learn from, the default order and why (pure given the ranker)."""
    includes = sum(1 for v in training.labels.values() if v)
    excludes = len(training.labels) - includes
    base = RelevanceQueue(
        stage=training.stage,
        reviewer=training.reviewer,
        clusters=training.queue,
        scores=MappingProxyType({}),
        ranked=False,
        model=ranker.model,
        includes=includes,
        excludes=excludes,
    )
    if not training.queue:
        return base
    if includes < 1 or excludes < 1:
        return replace(base, why_unranked=unranked_reason(includes, excludes))
    ranking = ranker.rank(training.position_labels())
    queued = set(training.queue)
    order = [training.clusters[p] for p in ranking.order if training.clusters[p] in queued]
    position = {c: i for i, c in enumerate(training.clusters)}
    return replace(
        base,
        clusters=tuple(order),
        scores=MappingProxyType({c: ranking.scores[position[c]] for c in order}),
        ranked=True,
    )
