"""Where screening stands, replayed from its events over today's clusters (pure).

A decision is taken on a paper (``events.Paper``): the record shown and the cluster's
records at that moment. A later event by the same person supersedes an earlier one when
the earlier one's record was among the later one's records, that is when the person
decided again knowing that paper; nothing else supersedes anything. So:

- dedup merging two clusters that one reviewer decided differently leaves both decisions
  in force on the one cluster, and the cluster is in conflict until they decide again;
- dedup splitting a cluster leaves each decision with the record it was shown on; the
  split-off records are unscreened, as the papers they now are;
- a reset removes a person's decisions on every record of the cluster.

A cluster's status at a stage: ``unscreened`` (no decision), ``pending`` (fewer reviewers
than required have decided), ``agreed`` (all who decided chose the same, and not
``maybe``; at full text, exclusions must also give the same reason), ``conflict`` (any
other mix, or one person's decisions on merged papers disagree, or resolutions do) and
``resolved`` (a lead's resolution in force, covering every decision on the cluster).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from review.dedup.clusters import Membership
from review.screening.events import (
    Decision,
    LinkEvent,
    Paper,
    RetrievalEvent,
    ScreeningEvent,
    Stage,
)

Status = Literal["unscreened", "pending", "agreed", "conflict", "resolved"]
Advance = Literal["after-resolution", "either-includes"]
StageOutcome = Literal["awaiting", "excluded", "advanced", "included"]


def locate(paper: Paper, membership: Membership) -> int | None:
    """The cluster a paper is in today: the one holding its record, else (its record
    withdrawn) where its cluster went; None when nothing of it is left."""
    cluster = membership.cluster_of.get(paper.record_id)
    if cluster is not None:
        return cluster
    return membership.resolve(paper.cluster_id)


@dataclass(frozen=True, slots=True)
class Vote:
    """A decision in force: who took it, what it is, on which record, by which event."""

    person: str
    decision: Decision
    reason: str | None
    note: str | None
    at: str
    event_id: int
    record_id: int
    members: tuple[int, ...]

    @classmethod
    def of(cls, event: ScreeningEvent) -> Vote:
        assert event.decision is not None
        return cls(
            event.person,
            event.decision,
            event.reason,
            event.note,
            event.at,
            event.id,
            event.paper.record_id,
            event.paper.members,
        )

    def agrees(self, other: Vote, stage: Stage) -> bool:
        """The same decision (and, for an exclusion at full text, the same reason)."""
        if self.decision != other.decision:
            return False
        return not (stage == "ft" and self.decision == "exclude" and self.reason != other.reason)

    def as_dict(self) -> dict[str, object]:
        return {
            "person": self.person,
            "decision": self.decision,
            "reason": self.reason,
            "note": self.note,
            "at": self.at,
            "event": self.event_id,
            "record": self.record_id,
        }


@dataclass(frozen=True)
class ClusterState:
    """One cluster at one stage: the decisions in force, the resolutions in force, and
    how many reviewers must decide."""

    cluster_id: int
    stage: Stage
    votes: tuple[Vote, ...]
    resolutions: tuple[Vote, ...]
    required: int
    assigned: tuple[str, ...] = ()
    notes: tuple[ScreeningEvent, ...] = ()
    _status: tuple[Status, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_status", self._judge())

    @property
    def reviewers(self) -> tuple[str, ...]:
        """Who has a decision in force, in the order they first decided."""
        return tuple(dict.fromkeys(v.person for v in self.votes))

    def votes_of(self, person: str) -> tuple[Vote, ...]:
        return tuple(v for v in self.votes if v.person == person)

    def latest_of(self, person: str) -> Vote | None:
        """A person's most recent decision in force (None if they have none)."""
        own = self.votes_of(person)
        return max(own, key=lambda v: v.event_id) if own else None

    def split(self, person: str) -> bool:
        """True when a person's decisions on papers now merged into one disagree."""
        own = self.votes_of(person)
        return any(not own[0].agrees(v, self.stage) for v in own[1:])

    @property
    def status(self) -> Status:
        return self._status[0]

    @property
    def why(self) -> str:
        """Why the cluster is in conflict (or pending), in words; '' otherwise."""
        return self._status[1]

    @property
    def final(self) -> Vote | None:
        """The decision that stands: the resolution, or the agreed decision (the latest)."""
        if self.status == "resolved":
            return max(self.resolutions, key=lambda v: v.event_id)
        if self.status == "agreed":
            return max(self.votes, key=lambda v: v.event_id)
        return None

    def _judge(self) -> tuple[Status, str]:
        if self.resolutions:
            first = self.resolutions[0]
            if any(not first.agrees(r, self.stage) for r in self.resolutions[1:]):
                return "conflict", "resolutions of papers now merged disagree"
            covered = {m for r in self.resolutions for m in r.members}
            uncovered = [
                v
                for v in self.votes
                if v.record_id not in covered and not first.agrees(v, self.stage)
            ]
            if uncovered:
                return "conflict", (
                    f"{uncovered[0].person}'s decision on record {uncovered[0].record_id}, "
                    "merged in after the resolution, disagrees with it"
                )
            return "resolved", ""
        split = [p for p in self.reviewers if self.split(p)]
        if split:
            return "conflict", (
                f"{split[0]} decided papers now merged into one cluster differently"
            )
        latest = [v for v in (self.latest_of(p) for p in self.reviewers) if v is not None]
        if not latest:
            return "unscreened", ""
        if len(latest) < self.required:
            waiting = [p for p in self.assigned if p not in self.reviewers]
            who = f" (waiting for {', '.join(waiting)})" if waiting else ""
            return "pending", f"{len(latest)} of {self.required} reviewers decided{who}"
        first = latest[0]
        if all(first.agrees(v, self.stage) for v in latest[1:]) and first.decision != "maybe":
            return "agreed", ""
        if all(v.decision == "maybe" for v in latest):
            return "conflict", "every reviewer said maybe"
        if all(v.decision == first.decision for v in latest):
            return "conflict", "the reviewers exclude for different reasons"
        return "conflict", " / ".join(f"{v.person}: {v.decision}" for v in latest)

    def outcome(self, advance: Advance = "after-resolution") -> StageOutcome:
        """Where the cluster stands after this stage: at title/abstract ``advanced`` (to
        full text), ``excluded`` or ``awaiting``; at full text ``included``, ``excluded``
        or ``awaiting``. With the ``either-includes`` rule a title/abstract include (or
        maybe) by any reviewer is enough to go on to full text."""
        final = self.final
        if final is not None:
            if final.decision == "exclude":
                return "excluded"
            if final.decision == "include":
                return "advanced" if self.stage == "ta" else "included"
        if (
            self.stage == "ta"
            and advance == "either-includes"
            and any(v.decision in ("include", "maybe") for v in self.votes)
        ):
            return "advanced"
        return "awaiting"

    def as_dict(self) -> dict[str, object]:
        final = self.final
        return {
            "cluster": self.cluster_id,
            "stage": self.stage,
            "status": self.status,
            "why": self.why or None,
            "decision": final.decision if final else None,
            "reason": final.reason if final else None,
            "votes": [v.as_dict() for v in self.votes],
            "resolutions": [r.as_dict() for r in self.resolutions],
            "assigned": list(self.assigned),
        }


def replay(
    events: Iterable[ScreeningEvent],
    membership: Membership,
    stage: Stage,
    *,
    required: int,
    assigned: Mapping[int, tuple[str, ...]] | None = None,
) -> dict[int, ClusterState]:
    """Every current cluster's state at ``stage`` (clusters without events are unscreened).

    ``required`` is the number of reviewers who must decide each record (the protocol's
    ``reviewers_per_record``); a cluster assigned to reviewers needs each of them (at least
    ``required``)."""
    assigned = assigned or {}
    live: dict[tuple[int, str, str], list[ScreeningEvent]] = defaultdict(list)
    notes: dict[int, list[ScreeningEvent]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.id):
        if event.stage != stage:
            continue
        cluster = locate(event.paper, membership)
        if cluster is None:
            continue
        if event.kind == "note":
            notes[cluster].append(event)
            continue
        lead = event.kind in ("resolve", "unresolve")
        key = (cluster, "lead" if lead else "reviewer", "" if lead else event.person)
        covered = {event.paper.record_id, *event.paper.members}
        kept = [e for e in live[key] if e.paper.record_id not in covered]
        if event.kind in ("decide", "resolve"):
            kept.append(event)
        live[key] = kept
    votes: dict[int, list[Vote]] = defaultdict(list)
    resolutions: dict[int, list[Vote]] = defaultdict(list)
    for (cluster, role, _), kept in live.items():
        target = resolutions if role == "lead" else votes
        target[cluster].extend(Vote.of(e) for e in kept)
    states: dict[int, ClusterState] = {}
    for cluster in membership.primary_of:
        people = assigned.get(cluster, ())
        states[cluster] = ClusterState(
            cluster_id=cluster,
            stage=stage,
            votes=tuple(sorted(votes.get(cluster, ()), key=lambda v: v.event_id)),
            resolutions=tuple(sorted(resolutions.get(cluster, ()), key=lambda v: v.event_id)),
            required=max(required, len(people)),
            assigned=people,
            notes=tuple(notes.get(cluster, ())),
        )
    return states


@dataclass(frozen=True, slots=True)
class Retrieval:
    """A report's full text: ``retrieved`` (with where its PDF is, if said), ``not_retrieved``
    (with why) or ``sought`` (nothing recorded yet)."""

    state: Literal["sought", "retrieved", "not_retrieved"]
    location: str | None = None
    reason: str | None = None
    at: str | None = None
    by: str | None = None


def retrievals(events: Iterable[RetrievalEvent], membership: Membership) -> dict[int, Retrieval]:
    """Each cluster's retrieval state (clusters with none recorded are left out). Facts, not
    judgements: when papers merge, a full text found for any of them is the cluster's."""
    live: dict[int, list[RetrievalEvent]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.id):
        cluster = locate(event.paper, membership)
        if cluster is None:
            continue
        covered = {event.paper.record_id, *event.paper.members}
        kept = [e for e in live[cluster] if e.paper.record_id not in covered]
        if event.kind != "reset":
            kept.append(event)
        live[cluster] = kept
    found: dict[int, Retrieval] = {}
    for cluster, kept in live.items():
        if not kept:
            continue
        got = [e for e in kept if e.kind == "retrieved"]
        event = got[-1] if got else kept[-1]
        found[cluster] = Retrieval(
            "retrieved" if event.kind == "retrieved" else "not_retrieved",
            event.location,
            event.reason,
            event.at,
            event.by,
        )
    return found


def studies(events: Iterable[LinkEvent], membership: Membership) -> dict[int, int]:
    """Each cluster's study: the smallest cluster id among the reports linked to it (a
    report never linked is its own study). Links follow papers through dedup like
    decisions; the latest link of a report supersedes its earlier ones."""
    parent = {cluster: cluster for cluster in membership.primary_of}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    live: dict[int, list[LinkEvent]] = defaultdict(list)
    for event in sorted(events, key=lambda e: e.id):
        cluster = locate(event.paper, membership)
        if cluster is None:
            continue
        covered = {event.paper.record_id, *event.paper.members}
        kept = [e for e in live[cluster] if e.paper.record_id not in covered]
        if event.kind == "link":
            kept.append(event)
        live[cluster] = kept
    for cluster, kept in live.items():
        for event in kept:
            assert event.study is not None
            other = locate(event.study, membership)
            if other is None or other not in parent:
                continue
            a, b = find(cluster), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {cluster: find(cluster) for cluster in parent}
