"""Screening state replayed from events (pure): supersession, conflicts, resolutions, and
decisions that follow their papers when dedup merges or splits clusters."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from review.dedup.clusters import Membership
from review.screening.events import Paper, ScreeningEvent
from review.screening.state import ClusterState, locate, replay

_ids = count(1)


def membership(*groups: Sequence[int]) -> Membership:
    """Clusters named by their smallest record, the smallest record primary."""
    rows = [(r, min(g), r == min(g)) for g in groups for r in g]
    return Membership.from_rows([r for g in groups for r in g], rows)


def paper(m: Membership, record: int) -> Paper:
    cluster = m.cluster_of[record]
    return Paper(cluster, m.primary_of[cluster], m.members(cluster))


def event(
    m: Membership,
    record: int,
    person: str,
    kind: str = "decide",
    decision: str | None = "include",
    reason: str | None = None,
    stage: str = "ta",
) -> ScreeningEvent:
    return ScreeningEvent(
        id=next(_ids),
        stage=stage,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        paper=paper(m, record),
        person=person,
        at="2026-12-01T10:00:00Z",
        decision=decision if kind in ("decide", "resolve") else None,  # type: ignore[arg-type]
        reason=reason,
    )


def state(
    events: Sequence[ScreeningEvent], m: Membership, cluster: int, **kw: object
) -> ClusterState:
    return replay(events, m, events[0].stage if events else "ta", required=2, **kw)[cluster]  # type: ignore[arg-type]


def test_a_cluster_without_decisions_is_unscreened_and_one_decision_is_pending() -> None:
    m = membership([1], [2])
    states = replay([event(m, 1, "ana")], m, "ta", required=2)
    assert states[2].status == "unscreened"
    assert states[1].status == "pending"
    assert states[1].why == "1 of 2 reviewers decided"


def test_pending_names_the_assigned_reviewers_still_to_decide() -> None:
    m = membership([1])
    states = replay([event(m, 1, "ana")], m, "ta", required=2, assigned={1: ("ana", "ben")})
    assert states[1].why == "1 of 2 reviewers decided (waiting for ben)"


def test_two_includes_agree_and_the_final_decision_is_include() -> None:
    m = membership([1])
    s = state([event(m, 1, "ana"), event(m, 1, "ben")], m, 1)
    assert s.status == "agreed"
    assert s.final is not None and s.final.decision == "include"
    assert s.outcome() == "advanced"


def test_a_later_decision_by_the_same_person_supersedes_the_earlier() -> None:
    m = membership([1])
    events = [
        event(m, 1, "ana", decision="exclude"),
        event(m, 1, "ben"),
        event(m, 1, "ana", decision="include"),
    ]
    s = state(events, m, 1)
    assert [v.decision for v in s.votes] == ["include", "include"]
    assert s.status == "agreed"


def test_include_against_exclude_is_a_conflict_that_names_both() -> None:
    m = membership([1])
    s = state([event(m, 1, "ana"), event(m, 1, "ben", decision="exclude")], m, 1)
    assert s.status == "conflict"
    assert s.why == "ana: include / ben: exclude"
    assert s.final is None and s.outcome() == "awaiting"


def test_maybe_never_agrees() -> None:
    m = membership([1])
    s = state([event(m, 1, "ana", decision="maybe"), event(m, 1, "ben", decision="maybe")], m, 1)
    assert (s.status, s.why) == ("conflict", "every reviewer said maybe")


def test_at_full_text_exclusions_for_different_reasons_conflict() -> None:
    m = membership([1])
    events = [
        event(m, 1, "ana", decision="exclude", reason="not-ssc", stage="ft"),
        event(m, 1, "ben", decision="exclude", reason="no-rtx", stage="ft"),
    ]
    s = replay(events, m, "ft", required=2)[1]
    assert (s.status, s.why) == ("conflict", "the reviewers exclude for different reasons")


def test_at_title_abstract_the_reason_does_not_matter() -> None:
    m = membership([1])
    events = [
        event(m, 1, "ana", decision="exclude", reason="not-ssc"),
        event(m, 1, "ben", decision="exclude", reason="no-rtx"),
    ]
    assert state(events, m, 1).status == "agreed"


def test_a_reset_returns_the_cluster_to_unscreened_for_that_person_only() -> None:
    m = membership([1])
    events = [event(m, 1, "ana"), event(m, 1, "ben"), event(m, 1, "ana", kind="reset")]
    s = state(events, m, 1)
    assert s.reviewers == ("ben",)
    assert s.status == "pending"


def test_a_resolution_settles_a_conflict_and_either_includes_advances_before_it() -> None:
    m = membership([1])
    conflict = [event(m, 1, "ana"), event(m, 1, "ben", decision="exclude")]
    assert state(conflict, m, 1).outcome("either-includes") == "advanced"
    resolved = state([*conflict, event(m, 1, "lead", kind="resolve", decision="exclude")], m, 1)
    assert resolved.status == "resolved"
    assert resolved.outcome("either-includes") == "excluded"
    unresolved = [*conflict, event(m, 1, "lead", kind="resolve"), event(m, 1, "lead", "unresolve")]
    assert state(unresolved, m, 1).status == "conflict"


def test_decisions_on_two_papers_that_dedup_merges_disagree_and_become_a_conflict() -> None:
    before = membership([1], [2])
    events = [event(before, 1, "ana"), event(before, 2, "ana", decision="exclude")]
    after = membership([1, 2])
    s = replay(events, after, "ta", required=1)[1]
    assert len(s.votes) == 2  # both decisions are kept, neither wins silently
    assert s.status == "conflict"
    assert s.why == "ana decided papers now merged into one cluster differently"
    # deciding again on the merged cluster (which shows both records) supersedes both
    s = replay([*events, event(after, 1, "ana")], after, "ta", required=1)[1]
    assert s.status == "agreed" and len(s.votes) == 1


def test_a_split_leaves_each_decision_with_the_record_it_was_shown() -> None:
    before = membership([1, 2])
    events = [event(before, 1, "ana"), event(before, 1, "ben")]
    after = membership([1], [2])
    states = replay(events, after, "ta", required=2)
    assert states[1].status == "agreed"
    assert states[2].status == "unscreened"  # the split-off record is a paper of its own


def test_a_paper_whose_record_is_gone_follows_its_cluster_or_disappears() -> None:
    before = membership([1, 2])
    p = paper(before, 1)
    assert locate(p, membership([2])) is None  # the cluster named 1 is gone with record 1
    assert locate(Paper(1, 2, (1, 2)), membership([2, 3])) == 2


def test_a_merge_after_a_resolution_with_a_disagreeing_decision_reopens_the_conflict() -> None:
    before = membership([1], [2])
    events = [
        event(before, 1, "ana"),
        event(before, 1, "ben", decision="exclude"),
        event(before, 1, "lead", kind="resolve", decision="exclude"),
        event(before, 2, "ana", decision="include"),
    ]
    s = replay(events, membership([1, 2]), "ta", required=2)[1]
    assert s.status == "conflict"
    assert "merged in after the resolution" in s.why


people = st.sampled_from(["ana", "ben", "cy"])
actions = st.lists(
    st.tuples(
        st.integers(1, 4),
        people,
        st.sampled_from(["decide", "decide", "decide", "reset", "note"]),
        st.sampled_from(["include", "exclude", "maybe"]),
    ),
    max_size=25,
)
partitions = st.sampled_from(
    [[[1], [2], [3], [4]], [[1, 2], [3], [4]], [[1, 2, 3, 4]], [[1], [2, 3], [4]], [[1, 4], [2, 3]]]
)


@settings(max_examples=200, deadline=None)
@given(actions, partitions, partitions)
def test_no_decision_is_ever_lost_whatever_dedup_does(
    steps: list[tuple[int, str, str, str]], first: list[list[int]], then: list[list[int]]
) -> None:
    """Every decision is either in force today or superseded by a later event of the same
    person that covered its record (a decision, or a reset): nothing else drops one."""
    m = membership(*first)
    events = [event(m, r, p, kind=k, decision=d) for r, p, k, d in steps]
    now = membership(*then)
    states = replay(events, now, "ta", required=2)
    in_force = {v.event_id for s in states.values() for v in s.votes}
    for e in events:
        if e.kind != "decide":
            continue
        superseded = any(
            later.id > e.id
            and later.person == e.person
            and later.kind in ("decide", "reset")
            and e.paper.record_id in {later.paper.record_id, *later.paper.members}
            for later in events
        )
        assert (e.id in in_force) != superseded, e
    assert set(states) == set(now.primary_of)
    for s in states.values():
        assert s.status in ("unscreened", "pending", "agreed", "conflict")
        if s.status == "agreed":
            assert len({v.decision for v in s.votes}) == 1
