"""What reviewers and the lead do at screening, on the store: decide, reset, note, undo,
resolve, unblind, allocate, and read a reviewer's queue and history, blind where the stage
is. Beside it: the spreadsheet round trip (``round_trip``), full texts and studies
(``fulltexts``), progress, PRISMA flow and agreement (``progress``).

Composes the pure core (``events``, ``state``, ``allocation``) with the store. Every change
is one transaction that first checks everything it needs, so a refused command leaves the
store as it was; the time and the person acting are the caller's arguments. Deciding one
record reads only that record's cluster, so a screener stays quick on a large review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from review.dedup.clusters import Membership, merged_view
from review.errors import AlreadyDecided, BlindError, ScreeningError
from review.protocol.model import ExclusionReason, Protocol
from review.records import Record
from review.screening.allocation import Allocation, allocate
from review.screening.events import (
    PROTOCOL_STAGES,
    STAGE_NAMES,
    Decision,
    Paper,
    ScreeningEvent,
    Stage,
    Via,
    check_name,
)
from review.screening.state import (
    Advance,
    ClusterState,
    Retrieval,
    locate,
    replay,
    retrievals,
    studies,
)
from review.store import Store, Tx
from review.store import dedup as dedup_sql
from review.store import screening as sql
from review.store.records import records_by_id

NOTE_LIMIT = 2000


@dataclass(frozen=True)
class Settings:
    """What the protocol says about screening."""

    stages: tuple[Stage, ...]
    required: int
    blind: bool
    leads: tuple[str, ...]
    advance: Advance
    reasons: Mapping[Stage, tuple[ExclusionReason, ...]]

    @classmethod
    def of(cls, protocol: Protocol) -> Settings:
        screening = protocol.screening
        stages = tuple(s for s, long in PROTOCOL_STAGES.items() if long in screening.stages)
        return cls(
            stages=stages,
            required=screening.reviewers_per_record,
            blind=screening.blind,
            leads=screening.leads,
            advance=screening.advance,
            reasons={s: protocol.reasons_for(PROTOCOL_STAGES[s]) for s in stages},  # type: ignore[arg-type]
        )

    def check_stage(self, stage: Stage) -> None:
        if stage not in self.stages:
            raise ScreeningError(
                f"the protocol has no {STAGE_NAMES[stage]} stage ([screening] stages = "
                f"{[PROTOCOL_STAGES[s] for s in self.stages]})"
            )

    def check_lead(self, person: str, doing: str) -> str:
        name = check_name(person, "lead")
        if self.leads and name not in self.leads:
            raise ScreeningError(
                f"{name} is not a lead of this review, so cannot {doing}; the protocol's "
                f"[screening] leads are {', '.join(self.leads)}"
            )
        return name

    def reason(self, stage: Stage, code: str | None, decision: Decision) -> str | None:
        """The reason checked against the protocol's list for the stage."""
        if decision != "exclude":
            if code:
                raise ScreeningError(
                    f"a reason goes with an exclusion only; {decision} takes no reason"
                )
            return None
        if not code:
            if stage == "ft":
                codes = ", ".join(r.code for r in self.reasons[stage])
                raise ScreeningError(
                    f"an exclusion at full text needs a reason; give one of: {codes}"
                )
            return None
        known = self.reasons[stage]
        if code not in {r.code for r in known}:
            raise ScreeningError(
                f"{code!r} is not an exclusion reason at {STAGE_NAMES[stage]}; the "
                f"protocol's are: {', '.join(r.code for r in known)}"
            )
        return code


@dataclass(frozen=True, slots=True)
class ScreenItem:
    """A record to screen: its cluster, the record shown (its primary), every record of the
    cluster, and the cluster seen as one record (missing fields filled from the others)."""

    cluster_id: int
    record_id: int
    members: tuple[int, ...]
    record: Record

    @property
    def paper(self) -> Paper:
        return Paper(self.cluster_id, self.record_id, self.members)


@dataclass(frozen=True)
class Snapshot:
    """Screening as it stands. ``states`` holds everyone's decisions, for what reveals
    none of them (which clusters go on, counts); what a person is shown goes through
    ``visible``, blind where the stage is."""

    membership: Membership
    states: Mapping[Stage, Mapping[int, ClusterState]]
    blind: Mapping[Stage, bool]
    assigned: Mapping[Stage, Mapping[int, tuple[str, ...]]]
    retrieval: Mapping[int, Retrieval]
    study_of: Mapping[int, int]
    settings: Settings

    def eligible(self, stage: Stage) -> list[int]:
        """The clusters screened at ``stage``: every cluster at title/abstract; at full
        text those that went on from title/abstract (every cluster, with no such stage)."""
        if stage == "ta" or "ta" not in self.settings.stages:
            return sorted(self.membership.primary_of)
        ta = self.states["ta"]
        advance = self.settings.advance
        return sorted(c for c, s in ta.items() if s.outcome(advance) == "advanced")

    def visible(self, stage: Stage, viewer: str | None) -> Mapping[int, ClusterState]:
        """The states ``viewer`` may see at ``stage``: all of them once it is unblinded;
        while it is blind only the viewer's own decisions (refused without a viewer)."""
        states = self.states[stage]
        if not self.blind[stage]:
            return states
        if viewer is None:
            raise blind_error(stage, "decisions")
        return {c: _see(s, viewer) for c, s in states.items()}


def _blind_now(tx: Tx, settings: Settings) -> dict[Stage, bool]:
    state = dict.fromkeys(settings.stages, settings.blind)
    if settings.blind:
        for event in sql.blinding(tx):
            if event.stage in state:
                state[event.stage] = event.kind == "blind"
    return state


def _assigned(
    rows: Iterable[tuple[int, int, str]], membership: Membership
) -> dict[int, tuple[str, ...]]:
    people: dict[int, dict[str, None]] = defaultdict(dict)
    for cluster_then, record_id, person in rows:
        cluster = locate(Paper(cluster_then, record_id, ()), membership)
        if cluster is not None:
            people[cluster][person] = None
    return {c: tuple(p) for c, p in people.items()}


def _see(state: ClusterState, viewer: str) -> ClusterState:
    """The state a blind reviewer may see: their own decisions and notes, nothing else."""
    return replace(
        state,
        votes=state.votes_of(viewer),
        resolutions=(),
        notes=tuple(n for n in state.notes if n.person == viewer),
    )


def snapshot(store: Store, settings: Settings) -> Snapshot:
    """Everything screening knows, in one read."""
    with store.read() as tx:
        return read_snapshot(tx, settings)


def read_snapshot(tx: Tx, settings: Settings) -> Snapshot:
    """The whole of screening as it stands, read inside ``tx`` (``snapshot`` opens its own read)."""
    membership = dedup_sql.membership(tx)
    assigned = {s: _assigned(sql.assignments(tx, s), membership) for s in settings.stages}
    every = sql.events(tx)
    states = {
        stage: replay(
            (e for e in every if e.stage == stage),
            membership,
            stage,
            required=settings.required,
            assigned=assigned[stage],
        )
        for stage in settings.stages
    }
    return Snapshot(
        membership=membership,
        states=states,
        blind=_blind_now(tx, settings),
        assigned=assigned,
        retrieval=retrievals(sql.retrieval_events(tx), membership),
        study_of=studies(sql.link_events(tx), membership),
        settings=settings,
    )


def blind_error(stage: Stage, what: str, *, own: bool = True) -> BlindError:
    """The refusal of a blind stage; ``own`` adds how to see one's own decisions (for the
    views that take a reviewer)."""
    hint = "; to see your own, give --reviewer NAME" if own else ""
    return BlindError(
        f"{STAGE_NAMES[stage]} screening is blind: each reviewer sees only their own "
        f"{what} until a lead unblinds it ('casepool screen unblind --stage {stage} --by "
        f"LEAD'){hint}"
    )


# --- one cluster ------------------------------------------------------------------------


def read_cluster(tx: Tx, cluster_id: int) -> tuple[Paper, Membership]:
    """One cluster as a paper and its membership, reading only that cluster; ScreeningError
    if there is no such cluster."""
    found = dedup_sql.one_cluster(tx, cluster_id)
    if found is None:
        raise ScreeningError(
            f"there is no cluster {cluster_id} in this review; 'casepool screen queue' and "
            "'casepool export' list the cluster ids"
        )
    name, members, primary = found
    membership = Membership(cluster_of=dict.fromkeys(members, name), primary_of={name: primary})
    return Paper(name, primary, members), membership


def _events_of(tx: Tx, stage: Stage, paper: Paper) -> list[ScreeningEvent]:
    return sql.events(tx, stage, records=paper.members)


def read_state(
    tx: Tx, settings: Settings, stage: Stage, paper: Paper, membership: Membership
) -> ClusterState:
    """One cluster's state at a stage, replayed from its own events and assignments only."""
    assigned = _assigned(sql.assignments(tx, stage, records=paper.members), membership)
    return replay(
        _events_of(tx, stage, paper),
        membership,
        stage,
        required=settings.required,
        assigned=assigned,
    )[paper.cluster_id]


def item(store: Store, cluster_id: int) -> ScreenItem:
    """A cluster to screen, as one record."""
    with store.read() as tx:
        paper, _ = read_cluster(tx, cluster_id)
        records = records_by_id(tx, paper.members)
    ordered = [paper.record_id, *(m for m in paper.members if m != paper.record_id)]
    return ScreenItem(
        paper.cluster_id,
        paper.record_id,
        paper.members,
        merged_view([records[r] for r in ordered]),
    )


def _check_eligible(tx: Tx, settings: Settings, stage: Stage, paper: Paper, m: Membership) -> None:
    if stage == "ft" and "ta" in settings.stages:
        ta = read_state(tx, settings, "ta", paper, m)
        if ta.outcome(settings.advance) != "advanced":
            raise ScreeningError(why_not_advanced(settings, paper.cluster_id))
    if stage == "ft":
        got = retrievals(sql.retrieval_events(tx, records=paper.members), m).get(paper.cluster_id)
        if got is not None and got.state == "not_retrieved":
            raise ScreeningError(why_not_retrieved(paper.cluster_id, got))


def why_not_advanced(settings: Settings, cluster_id: int) -> str:
    """Why a cluster cannot be decided at full text: it has not gone on from title/abstract."""
    rule = (
        "its title/abstract decision is agreed or resolved as include"
        if settings.advance == "after-resolution"
        else "a reviewer includes it (or marks it maybe) at title/abstract"
    )
    return f"cluster {cluster_id} has not gone on to full text: it goes once {rule}"


def why_not_retrieved(cluster_id: int, got: Retrieval) -> str:
    """Why a cluster cannot be decided at full text: its report was marked not retrieved."""
    return (
        f"cluster {cluster_id}'s full text is marked not retrieved ({got.reason}); mark it "
        f"retrieved first ('casepool screen retrieve {cluster_id} --pdf PATH')"
    )


def _check_assigned(tx: Tx, stage: Stage, paper: Paper, m: Membership, reviewer: str) -> None:
    if not sql.has_assignments(tx, stage):
        return
    rows = sql.assignments(tx, stage, records=paper.members)
    mine = _assigned(rows, m).get(paper.cluster_id, ())
    if reviewer not in mine:
        raise ScreeningError(why_not_assigned(stage, paper.cluster_id, reviewer, mine))


def why_not_assigned(stage: Stage, cluster_id: int, reviewer: str, mine: Sequence[str]) -> str:
    """Why a reviewer cannot decide a cluster: it is assigned to others (``mine``)."""
    who = ", ".join(mine) if mine else "no one"
    return (
        f"cluster {cluster_id} is not assigned to {reviewer} at {STAGE_NAMES[stage]} "
        f"(assigned to {who})"
    )


def checked_note(note: str | None) -> str | None:
    """A note as stored: stripped, None when empty; ScreeningError when too long."""
    if note is None:
        return None
    text = note.strip()
    if len(text) > NOTE_LIMIT:
        raise ScreeningError(f"a note is at most {NOTE_LIMIT} characters; this one has {len(text)}")
    return text or None


def decide(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    cluster_id: int,
    reviewer: str,
    decision: Decision,
    reason: str | None = None,
    note: str | None = None,
    at: str,
    via: Via = "api",
    recorded_by: str | None = None,
    source: str | None = None,
    first: bool = False,
) -> ScreeningEvent:
    """Record a reviewer's decision on a cluster (superseding their earlier one). With
    ``first`` the cluster must still be in their queue, checked in the same transaction
    (a second copy of one key press, say, is refused with AlreadyDecided, never recorded
    twice)."""
    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    reason = settings.reason(stage, reason, decision)
    with store.transaction() as tx:
        paper, membership = read_cluster(tx, cluster_id)
        _check_eligible(tx, settings, stage, paper, membership)
        _check_assigned(tx, stage, paper, membership, reviewer)
        if first:
            sql.lock_decisions(tx, stage, reviewer)
            state = read_state(tx, settings, stage, paper, membership)
            if state.votes_of(reviewer) and not state.split(reviewer):
                raise AlreadyDecided(
                    f"{reviewer} has already decided cluster {paper.cluster_id} at "
                    f"{STAGE_NAMES[stage]}"
                )
        event = ScreeningEvent(
            id=0,
            stage=stage,
            kind="decide",
            paper=paper,
            person=reviewer,
            at=at,
            decision=decision,
            reason=reason,
            note=checked_note(note),
            via=via,
            recorded_by=recorded_by,
            source=source,
        )
        (event_id,) = sql.add_events(tx, [event])
    return replace(event, id=event_id)


def add_note(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    cluster_id: int,
    reviewer: str,
    note: str,
    at: str,
    via: Via = "api",
) -> ScreeningEvent:
    """Attach a note to a cluster at a stage (it decides nothing)."""
    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    text = checked_note(note)
    if text is None:
        raise ScreeningError("the note is empty")
    with store.transaction() as tx:
        paper, _ = read_cluster(tx, cluster_id)
        event = ScreeningEvent(0, stage, "note", paper, reviewer, at, note=text, via=via)
        (event_id,) = sql.add_events(tx, [event])
    return replace(event, id=event_id)


def reset(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    cluster_id: int,
    reviewer: str,
    at: str,
    via: Via = "api",
    recorded_by: str | None = None,
) -> ScreeningEvent:
    """Return a cluster to unscreened for one reviewer (their decisions stay in the trail)."""
    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    with store.transaction() as tx:
        paper, membership = read_cluster(tx, cluster_id)
        state = read_state(tx, settings, stage, paper, membership)
        if not state.votes_of(reviewer):
            raise ScreeningError(
                f"{reviewer} has no {STAGE_NAMES[stage]} decision on cluster "
                f"{paper.cluster_id} to reset"
            )
        event = ScreeningEvent(
            0, stage, "reset", paper, reviewer, at, via=via, recorded_by=recorded_by
        )
        (event_id,) = sql.add_events(tx, [event])
    return replace(event, id=event_id)


def undo_last(
    store: Store, settings: Settings, *, stage: Stage, reviewer: str, at: str, via: Via = "api"
) -> ScreeningEvent | None:
    """Take back a reviewer's latest decision at a stage: its cluster returns to what the
    reviewer had decided before it (or to unscreened); pressed again, the decision before
    that, and so on. None when there is nothing left to undo. The undone decision stays in
    the trail; the undo is a new event that says which event it undid."""
    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    with store.transaction() as tx:
        last = _last_in_force(sql.events_of(tx, stage, reviewer))
        if last is None:
            return None
        found = dedup_sql.one_cluster(tx, last.paper.cluster_id)
        if found is None:
            return None
        paper = Paper(found[0], found[2], found[1])
        earlier = [
            e
            for e in sql.events(tx, stage, records=paper.members)
            if e.id < last.id and e.person == reviewer and e.kind in ("decide", "reset")
        ]
        undo = f"undo of event {last.id}"
        if earlier and earlier[-1].kind == "decide":
            event = replace(earlier[-1], id=0, paper=paper, at=at, via=via, source=undo)
        else:
            event = ScreeningEvent(0, stage, "reset", paper, reviewer, at, via=via, source=undo)
        (event_id,) = sql.add_events(tx, [event])
    return replace(event, id=event_id)


def _last_in_force(newest_first: Iterable[ScreeningEvent]) -> ScreeningEvent | None:
    """The person's latest decision not undone yet: undo walks back through their own
    decisions one at a time, newest first, as an editor's undo does."""
    undone: set[int] = set()
    for event in newest_first:
        source = event.source or ""
        if source.startswith("undo of event "):
            undone.add(int(source.removeprefix("undo of event ")))
            continue
        if event.kind == "decide" and event.id not in undone:
            return event
    return None


def resolve(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    cluster_id: int,
    decision: Decision,
    by: str,
    reason: str | None = None,
    why: str | None = None,
    at: str,
    via: Via = "api",
) -> tuple[ScreeningEvent, ClusterState]:
    """Record a lead's final decision on a cluster; returns the event and the state it
    settled (a cluster need not be in conflict, but the stage must be unblinded)."""
    settings.check_stage(stage)
    lead = settings.check_lead(by, "resolve conflicts")
    if decision == "maybe":
        raise ScreeningError("a resolution is include or exclude, not maybe")
    reason = settings.reason(stage, reason, decision)
    with store.transaction() as tx:
        if _blind_now(tx, settings)[stage]:
            raise blind_error(stage, "decisions, so there is nothing to resolve yet,", own=False)
        paper, membership = read_cluster(tx, cluster_id)
        if stage == "ft":
            _check_eligible(tx, settings, stage, paper, membership)
        before = read_state(tx, settings, stage, paper, membership)
        event = ScreeningEvent(
            0, stage, "resolve", paper, lead, at, decision, reason, checked_note(why), via=via
        )
        (event_id,) = sql.add_events(tx, [event])
    return replace(event, id=event_id), before


def set_blind(
    store: Store, settings: Settings, *, stage: Stage, blind: bool, by: str, at: str
) -> bool:
    """Unblind a stage (or blind it again); returns False when it already was so."""
    settings.check_stage(stage)
    doing = f"{'blind' if blind else 'unblind'} {STAGE_NAMES[stage]} screening"
    lead = settings.check_lead(by, doing)
    if not settings.blind:
        raise ScreeningError("the protocol's screening is not blind ([screening] blind = false)")
    with store.transaction() as tx:
        if _blind_now(tx, settings)[stage] == blind:
            return False
        sql.add_blinding(tx, stage, "blind" if blind else "unblind", at=at, by=lead)
    return True


# --- many clusters ----------------------------------------------------------------------


def queue(store: Store, settings: Settings, *, stage: Stage, reviewer: str) -> list[int]:
    """The clusters a reviewer still has to screen at a stage, in cluster order: those
    assigned to them (every eligible one when the stage has no assignments) on which
    they have no decision in force; a cluster in conflict between their own decisions on
    merged papers is back in the queue."""
    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    return queue_of(snapshot(store, settings), stage, reviewer)


def queue_of(view: Snapshot, stage: Stage, reviewer: str) -> list[int]:
    """``queue`` on a snapshot already read."""
    assigned = view.assigned[stage]
    states = view.visible(stage, reviewer)
    out = []
    for cluster in view.eligible(stage):
        if assigned and reviewer not in assigned.get(cluster, ()):
            continue
        if stage == "ft":
            got = view.retrieval.get(cluster)
            if got is not None and got.state == "not_retrieved":
                continue
        state = states[cluster]
        if not state.votes_of(reviewer) or state.split(reviewer):
            out.append(cluster)
    return out


def history(
    store: Store, settings: Settings, cluster_id: int, *, viewer: str | None = None
) -> tuple[Paper, list[ScreeningEvent]]:
    """Every screening event on the papers of a cluster, oldest first; while a stage is
    blind only the viewer's own events of it (refused without a viewer)."""
    with store.read() as tx:
        paper, membership = read_cluster(tx, cluster_id)
        blind = _blind_now(tx, settings)
        trail = [e for e in sql.events(tx) if locate(e.paper, membership) == paper.cluster_id]
    shown = []
    for event in trail:
        if blind.get(event.stage, False):
            if viewer is None:
                raise blind_error(event.stage, "decisions")
            if event.person != viewer:
                continue
        shown.append(event)
    return paper, shown


def conflicts(store: Store, settings: Settings, *, stage: Stage) -> list[ClusterState]:
    """The clusters in conflict at a stage (refused while the stage is blind)."""
    settings.check_stage(stage)
    view = snapshot(store, settings)
    if view.blind[stage]:
        raise blind_error(stage, "decisions", own=False)
    states = view.visible(stage, None)
    return [states[c] for c in view.eligible(stage) if states[c].status == "conflict"]


@dataclass(frozen=True)
class Assignment:
    """What ``assign`` did: the allocation of the new clusters, how many were assigned
    before, and the batch number (0 when there was nothing to assign)."""

    stage: Stage
    allocation: Allocation
    already: int
    batch: int

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "batch": self.batch,
            "already_assigned": self.already,
            **self.allocation.as_dict(),
        }


def assign(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    reviewers: Sequence[str],
    per_record: int,
    seed: int,
    at: str,
    by: str | None,
) -> Assignment:
    """Share the stage's clusters that are neither assigned nor decided yet (a pilot's
    records stay as they are) among ``reviewers``, ``per_record`` each (see
    ``review.screening.allocation``); earlier batches count towards fairness."""
    settings.check_stage(stage)
    people = [check_name(r) for r in reviewers]
    with store.transaction() as tx:
        view = read_snapshot(tx, settings)
        assigned = view.assigned[stage]
        states = view.states[stage]
        todo = [
            c
            for c in view.eligible(stage)
            if c not in assigned and not states[c].votes and not states[c].resolutions
        ]
        loads: dict[str, int] = defaultdict(int)
        overlaps: dict[tuple[str, str], int] = defaultdict(int)
        for names in assigned.values():
            for person in names:
                loads[person] += 1
            ordered = sorted(names)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    overlaps[(a, b)] += 1
        allocation = allocate(todo, people, per_record, seed=seed, loads=loads, overlaps=overlaps)
        membership = view.membership
        papers = []
        for cluster, names in allocation.assigned.items():
            members = membership.members(cluster)
            papers.append((Paper(cluster, membership.primary_of[cluster], members), names))
        batch = sql.add_assignments(tx, stage, papers, seed=seed, at=at, by=by) if papers else 0
    return Assignment(stage, allocation, len(assigned), batch)


# --- one reviewer's next record (the web page) -----------------------------------------


def to_screen(
    store: Store, settings: Settings, *, stage: Stage, cluster_id: int, reviewer: str
) -> bool:
    """Whether a cluster is still in a reviewer's queue at a stage, reading only that
    cluster: what ``queue`` says of it, so a page can check the head of a queue it read
    earlier (another tab or server may have decided it meanwhile) without a full replay."""
    settings.check_stage(stage)
    reviewer = check_name(reviewer)
    with store.read() as tx:
        found = dedup_sql.one_cluster(tx, cluster_id)
        if found is None or found[0] != cluster_id:
            return False
        paper = Paper(found[0], found[2], found[1])
        membership = Membership(
            cluster_of=dict.fromkeys(paper.members, paper.cluster_id),
            primary_of={paper.cluster_id: paper.record_id},
        )
        try:
            _check_eligible(tx, settings, stage, paper, membership)
            _check_assigned(tx, stage, paper, membership, reviewer)
        except ScreeningError:
            return False
        state = read_state(tx, settings, stage, paper, membership)
    return not state.votes_of(reviewer) or bool(state.split(reviewer))
