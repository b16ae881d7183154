"""Where screening stands, read from the store: progress per stage and reviewer, the
PRISMA 2020 flow, and agreement between reviewers; each blind where the stage is blind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from review.prisma.flow import PrismaFlow, SourceKind
from review.protocol.model import Protocol
from review.screening.agreement import StageAgreement, stage_agreement
from review.screening.events import DECISIONS, Stage
from review.screening.state import StageOutcome
from review.screening.workflow import Settings, blind_error, read_snapshot, snapshot
from review.store import Store


@dataclass(frozen=True)
class StageStatus:
    """Progress at one stage: clusters to screen, per status, per reviewer."""

    stage: Stage
    blind: bool
    eligible: int
    statuses: Mapping[str, int] | None
    outcomes: Mapping[str, int] | None
    reviewers: Mapping[str, Mapping[str, int]]

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "blind": self.blind,
            "records": self.eligible,
            "statuses": dict(self.statuses) if self.statuses is not None else None,
            "outcomes": dict(self.outcomes) if self.outcomes is not None else None,
            "reviewers": {k: dict(v) for k, v in self.reviewers.items()},
        }


def status(store: Store, settings: Settings, *, viewer: str | None = None) -> list[StageStatus]:
    """Progress per stage and reviewer. Everyone's progress (records assigned and done) is
    shown; while a stage is blind, decisions (include/exclude/maybe) only the viewer's."""
    view = snapshot(store, settings)
    out = []
    for stage in settings.stages:
        states = view.states[stage]
        eligible = view.eligible(stage)
        blind = view.blind[stage]
        assigned = view.assigned[stage]
        people: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for names in (assigned.get(c, ()) for c in eligible):
            for person in names:
                people[person]["assigned"] += 1
        for cluster in eligible:
            state = states[cluster]
            for person in state.reviewers:
                people[person]["done"] += 1
                if not blind or person == viewer:
                    latest = state.latest_of(person)
                    if latest is not None:
                        people[person][latest.decision] += 1
        statuses = outcomes = None
        if not blind:
            statuses = _tally(states[c].status for c in eligible)
            outcomes = _tally(states[c].outcome(settings.advance) for c in eligible)
        reviewers = {
            p: {"assigned": v.get("assigned", 0), "done": v.get("done", 0), **v}
            for p, v in sorted(people.items())
        }
        out.append(StageStatus(stage, blind, len(eligible), statuses, outcomes, reviewers))
    return out


def _tally(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(sorted(counts.items()))


def flow(store: Store, protocol: Protocol) -> tuple[PrismaFlow, tuple[Stage, ...]]:
    """The PRISMA 2020 flow of the review as it stands, and the stages still blind: a
    blind stage's decisions are not counted (its clusters wait), so the flow reveals no
    one's decision before a lead unblinds it."""
    from review.prisma.counts import prisma_flow
    from review.store.records import record_sources

    settings = Settings.of(protocol)
    with store.read() as tx:
        view = read_snapshot(tx, settings)
        sources = record_sources(tx)
    blind = tuple(s for s in settings.stages if view.blind[s])
    clusters = list(view.membership.primary_of)
    if "ta" not in settings.stages:
        screened: dict[int, StageOutcome] = dict.fromkeys(clusters, "advanced")
    elif "ta" in blind:
        screened = dict.fromkeys(clusters, "awaiting")
    else:
        screened = {c: s.outcome(settings.advance) for c, s in view.states["ta"].items()}
    assessed: dict[int, tuple[StageOutcome, str | None]] = {}
    if "ft" not in settings.stages:
        assessed = {c: ("included", None) for c, o in screened.items() if o == "advanced"}
    elif "ft" not in blind:
        for cluster, state in view.states["ft"].items():
            if state.votes or state.resolutions:
                final = state.final
                assessed[cluster] = (state.outcome(), final.reason if final else None)
    kinds: dict[str, SourceKind] = {"pubmed": "database"}
    kinds.update({s.name: s.kind for s in protocol.search.other_sources})
    reasons = [(r.code, r.label) for r in protocol.exclusion_reasons]
    result = prisma_flow(
        sources,
        kinds,
        view.membership,
        screened,
        assessed,
        {c: r.state for c, r in view.retrieval.items()},
        view.study_of,
        reasons,
    )
    return result, blind


def agreement(store: Store, settings: Settings, *, stage: Stage) -> StageAgreement:
    """Percent agreement, Cohen's kappa, PABAK and AC1 per pair of reviewers and Fleiss'
    kappa for three or more, over each reviewer's latest decision in force per cluster at a
    stage (its categories: include, exclude, maybe; at full text two exclusions agree
    whatever their reasons; a lead's resolution is nobody's rating). Refused while the
    stage is blind, as ``conflicts`` is: agreement reveals the others' decisions."""
    settings.check_stage(stage)
    view = snapshot(store, settings)
    if view.blind[stage]:
        raise blind_error(stage, "decisions", own=False)
    states = view.visible(stage, None)
    ratings: dict[str, dict[int, str]] = defaultdict(dict)
    for cluster in view.eligible(stage):
        state = states[cluster]
        for person in state.reviewers:
            latest = state.latest_of(person)
            if latest is not None:
                ratings[person][cluster] = latest.decision
    return stage_agreement(stage, ratings, DECISIONS)
