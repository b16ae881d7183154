"""Screening through the library API, on SQLite and PostgreSQL: blind dual review, conflicts
and resolutions, reset and undo, full text, allocation, and decisions that follow their
papers when dedup merges clusters. Every refusal leaves the store as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from screening import ready_review
from stores import store_snapshot

from review.api import Review
from review.errors import BlindError, ScreeningError

BLIND = (
    "title/abstract screening is blind: each reviewer sees only their own decisions until a "
    "lead unblinds it ('casepool screen unblind --stage ta --by LEAD'); to see your own, "
    "give --reviewer NAME"
)


@pytest.fixture
def clusters(review_dir: Path) -> list[int]:
    return ready_review(review_dir, 6)


def refused(review_dir: Path, error: type[Exception], message: str, call) -> None:  # type: ignore[no-untyped-def]
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv, pytest.raises(error) as caught:
        call(rv.screening)
    assert str(caught.value) == message
    assert store_snapshot(review_dir) == before


def test_a_reviewer_sees_only_their_own_decisions_while_the_stage_is_blind(
    review_dir: Path, clusters: list[int]
) -> None:
    first = clusters[0]
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(first, stage="ta", reviewer="ana", decision="include")
        s.decide(first, stage="ta", reviewer="ben", decision="exclude", reason="not-ssc")
        assert [v.person for v in s.state(first, stage="ta", viewer="ana").votes] == ["ana"]
        assert [v.person for v in s.state(first, stage="ta", viewer="ben").votes] == ["ben"]
        assert s.state(first, stage="ta", viewer="cy").votes == ()
        _, trail = s.history(first, viewer="ana")
        assert [(e.person, e.decision) for e in trail] == [("ana", "include")]
        with pytest.raises(BlindError) as caught:
            s.state(first, stage="ta")
        assert str(caught.value) == BLIND
        ana = next(r for r in s.status(viewer="ana") if r.stage == "ta")
        assert ana.statuses is None  # others' decisions are not counted for her either
        assert dict(ana.reviewers["ana"]) == {"assigned": 0, "done": 1, "include": 1}
        assert dict(ana.reviewers["ben"]) == {"assigned": 0, "done": 1}


def test_conflicts_wait_for_the_lead_to_unblind_then_a_resolution_settles_them(
    review_dir: Path, clusters: list[int]
) -> None:
    first, second = clusters[:2]
    with Review.open(review_dir) as rv:
        s = rv.screening
        for cluster in (first, second):
            s.decide(cluster, stage="ta", reviewer="ana", decision="include")
        s.decide(first, stage="ta", reviewer="ben", decision="exclude")
        s.decide(second, stage="ta", reviewer="ben", decision="include")
    message = BLIND.replace("own decisions", "own decisions, so there is nothing to resolve yet,")
    message = message.replace("; to see your own, give --reviewer NAME", "")
    refused(
        review_dir,
        BlindError,
        message,
        lambda s: s.resolve(first, stage="ta", decision="include", by="lead"),
    )
    unseen = BLIND.replace("; to see your own, give --reviewer NAME", "")
    refused(review_dir, BlindError, unseen, lambda s: s.conflicts("ta"))
    with Review.open(review_dir) as rv:
        s = rv.screening
        assert s.unblind("ta", by="lead") is True
        assert s.unblind("ta", by="lead") is False
        (conflict,) = s.conflicts("ta")
        assert (conflict.cluster_id, conflict.why) == (first, "ana: include / ben: exclude")
        assert s.state(second, stage="ta").status == "agreed"
        event, was = s.resolve(first, stage="ta", decision="include", by="lead", why="RTX")
        assert (event.kind, event.person, event.note) == ("resolve", "lead", "RTX")
        assert was.status == "conflict"
        assert s.state(first, stage="ta").status == "resolved" and s.conflicts("ta") == []
        _, trail = s.history(first)
        assert [(e.kind, e.person) for e in trail] == [
            ("decide", "ana"),
            ("decide", "ben"),
            ("resolve", "lead"),
        ]
        assert sorted(s.queue("ft", "ana")) == [first, second]  # both went on to full text


def test_a_resolution_is_include_or_exclude_and_maybe_is_refused(
    review_dir: Path, clusters: list[int]
) -> None:
    refused(
        review_dir,
        ScreeningError,
        "a resolution is include or exclude, not maybe",
        lambda s: s.resolve(clusters[0], stage="ta", decision="maybe", by="lead"),
    )


def test_a_new_decision_supersedes_and_reset_and_undo_take_decisions_back(
    review_dir: Path, clusters: list[int]
) -> None:
    a, b = clusters[:2]
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(a, stage="ta", reviewer="ana", decision="exclude")
        s.decide(a, stage="ta", reviewer="ana", decision="include", note="RTX in methods")
        assert [v.decision for v in s.state(a, stage="ta", viewer="ana").votes] == ["include"]
        s.decide(b, stage="ta", reviewer="ana", decision="maybe")
        assert a not in s.queue("ta", "ana") and b not in s.queue("ta", "ana")
        undone = s.undo(stage="ta", reviewer="ana")
        assert undone is not None and undone.paper.cluster_id == b
        assert b in s.queue("ta", "ana")
        s.reset(a, stage="ta", reviewer="ana")
        assert s.state(a, stage="ta", viewer="ana").status == "unscreened"
        _, trail = s.history(a, viewer="ana")
        assert [e.kind for e in trail] == ["decide", "decide", "reset"]  # nothing is deleted
        assert trail[1].note == "RTX in methods"
    refused(
        review_dir,
        ScreeningError,
        f"ana has no title/abstract decision on cluster {a} to reset",
        lambda s: s.reset(a, stage="ta", reviewer="ana"),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"decision": "include", "reason": "not-ssc"},
            "a reason goes with an exclusion only; include takes no reason",
        ),
        (
            {"decision": "exclude", "reason": "full-text-unavailable"},
            "'full-text-unavailable' is not an exclusion reason at title/abstract; the protocol's "
            "are: not-ssc, no-calcinosis, no-rtx, no-calcinosis-outcome, review-no-new-patients, "
            "duplicate-report, not-human, rtx-unknown",
        ),
        (
            {"decision": "include", "reviewer": "a, b"},
            "reviewer name 'a, b' cannot be used: names may not hold commas, semicolons or "
            "control characters",
        ),
        (
            {"decision": "include", "note": "x" * 5001},
            "a note is at most 2000 characters; this one has 5001",
        ),
    ],
)
def test_bad_decisions_are_refused_with_what_to_do(
    review_dir: Path, clusters: list[int], kwargs: dict[str, str], message: str
) -> None:
    args = {"stage": "ta", "reviewer": "ana", **kwargs}
    refused(review_dir, ScreeningError, message, lambda s: s.decide(clusters[0], **args))


def test_an_unknown_cluster_is_refused(review_dir: Path, clusters: list[int]) -> None:
    refused(
        review_dir,
        ScreeningError,
        "there is no cluster 999 in this review; 'casepool screen queue' and "
        "'casepool export' list the cluster ids",
        lambda s: s.decide(999, stage="ta", reviewer="ana", decision="include"),
    )


def test_full_text_follows_title_abstract_and_exclusions_there_need_a_reason(
    review_dir: Path, clusters: list[int]
) -> None:
    a = clusters[0]
    refused(
        review_dir,
        ScreeningError,
        f"cluster {a} has not gone on to full text: it goes once its title/abstract "
        "decision is agreed or resolved as include",
        lambda s: s.decide(a, stage="ft", reviewer="ana", decision="include"),
    )
    with Review.open(review_dir) as rv:
        for person in ("ana", "ben"):
            rv.screening.decide(a, stage="ta", reviewer=person, decision="include")
    refused(
        review_dir,
        ScreeningError,
        "an exclusion at full text needs a reason; give one of: not-ssc, no-calcinosis, "
        "no-rtx, no-calcinosis-outcome, review-no-new-patients, duplicate-report, "
        "not-human, rtx-unknown, full-text-unavailable",
        lambda s: s.decide(a, stage="ft", reviewer="ana", decision="exclude"),
    )
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.not_retrieved(a, why="no library holds it")
        assert a not in s.queue("ft", "ana")
    refused(
        review_dir,
        ScreeningError,
        f"cluster {a}'s full text is marked not retrieved (no library holds it); mark it "
        f"retrieved first ('casepool screen retrieve {a} --pdf PATH')",
        lambda s: s.decide(a, stage="ft", reviewer="ana", decision="include"),
    )
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.retrieved(a, pdf="pdfs/a.pdf")
        s.decide(a, stage="ft", reviewer="ana", decision="exclude", reason="no-rtx")
        assert s.state(a, stage="ft", viewer="ana").votes[0].reason == "no-rtx"


def test_either_includes_sends_a_record_on_when_one_reviewer_includes(
    review_dir: Path, clusters: list[int]
) -> None:
    path = review_dir / "protocol.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('advance = "after-resolution"', 'advance = "either-includes"'))
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(clusters[0], stage="ta", reviewer="ana", decision="maybe")
        assert s.queue("ft", "ben") == [clusters[0]]


def test_decisions_follow_their_papers_when_dedup_merges_two_clusters(
    review_dir: Path,
) -> None:
    """Ana included one paper and excluded its duplicate before dedup linked them: both
    decisions stay in force on the one cluster, which is a conflict, never a silent winner."""
    clusters = ready_review(review_dir, 3)
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(clusters[0], stage="ta", reviewer="ana", decision="include")
        s.decide(clusters[1], stage="ta", reviewer="ana", decision="exclude")
        rv.decide_pair(clusters[0], clusters[1], "merge")
        merged = rv.clusters().resolve(clusters[1])
        assert merged == rv.clusters().resolve(clusters[0])
        state = s.state(merged, stage="ta", viewer="ana")
        assert sorted(v.decision for v in state.votes) == ["exclude", "include"]
        assert state.status == "conflict"
        assert state.why == "ana decided papers now merged into one cluster differently"
        assert merged in s.queue("ta", "ana")  # back in her queue, to decide again
        s.decide(merged, stage="ta", reviewer="ana", decision="include")
        assert [v.decision for v in s.state(merged, stage="ta", viewer="ana").votes] == ["include"]
        _, trail = s.history(merged, viewer="ana")
        assert len(trail) == 3


def test_assign_splits_fairly_reproducibly_and_keeps_decided_records_out(
    review_dir: Path,
) -> None:
    clusters = ready_review(review_dir, 13)
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(clusters[0], stage="ta", reviewer="ana", decision="include")  # a pilot
        done = s.assign("ta", ["ana", "ben", "cy"], per_record=2, seed=11)
        assert done.allocation.assigned.keys() == set(clusters[1:])
        loads = done.allocation.loads
        assert sum(loads.values()) == 24 and max(loads.values()) - min(loads.values()) <= 1
        assert set(s.queue("ta", "ana")) == {
            c for c, who in done.allocation.assigned.items() if "ana" in who
        }
        again = s.assign("ta", ["ana", "ben", "cy"], per_record=2, seed=11)
        assert again.allocation.assigned == {} and again.already == 12
        outsider = next(c for c, who in done.allocation.assigned.items() if "cy" not in who)
        who = ", ".join(done.allocation.assigned[outsider])
    refused(
        review_dir,
        ScreeningError,
        f"cluster {outsider} is not assigned to cy at title/abstract (assigned to {who})",
        lambda s: s.decide(outsider, stage="ta", reviewer="cy", decision="include"),
    )


def test_the_same_seed_assigns_the_same_split_in_another_review(
    tmp_path: Path, review_dir: Path, bundled_protocol: Path
) -> None:
    splits = []
    for folder in (review_dir, tmp_path / "second"):
        if folder != review_dir:
            Review.create(folder, bundled_protocol)
        ready_review(folder, 9)
        with Review.open(folder) as rv:
            splits.append(rv.screening.assign("ta", ["a", "b", "c"], per_record=2).allocation)
    assert splits[0].assigned == splits[1].assigned


def test_only_a_lead_named_in_the_protocol_may_unblind_and_resolve(
    review_dir: Path, clusters: list[int]
) -> None:
    path = review_dir / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("leads = []", 'leads = ["lee"]'))
    Review.open(review_dir).close()  # the amendment is recorded on opening
    message = (
        "ana is not a lead of this review, so cannot unblind title/abstract screening; the "
        "protocol's [screening] leads are lee"
    )
    refused(review_dir, ScreeningError, message, lambda s: s.unblind("ta", by="ana"))
    with Review.open(review_dir) as rv:
        assert rv.screening.unblind("ta", by="lee")


def test_reports_of_one_study_are_linked_and_counted_apart_in_the_flow(
    review_dir: Path, clusters: list[int]
) -> None:
    a, b, c = clusters[:3]
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.unblind("ta", by="lead")
        s.unblind("ft", by="lead")
        for cluster in (a, b, c):
            for person in ("ana", "ben"):
                s.decide(cluster, stage="ta", reviewer=person, decision="include")
        for person in ("ana", "ben"):
            s.decide(clusters[3], stage="ta", reviewer=person, decision="exclude")
        s.retrieved(a, pdf="a.pdf")
        s.retrieved(b, pdf="https://example.org/b.pdf")
        s.not_retrieved(c, why="no library holds it")
        for cluster in (a, b):
            for person in ("ana", "ben"):
                s.decide(cluster, stage="ft", reviewer=person, decision="include")
        s.link(b, study=a)
        assert s.studies() == {a: [a, b]}
        flow, blind = s.flow()
        assert blind == ()
        assert (flow.records_screened, flow.records_excluded, flow.records_awaiting) == (6, 1, 2)
        assert (flow.dbr_sought, flow.dbr_not_retrieved, flow.dbr_assessed) == (3, 1, 2)
        assert (flow.new_reports, flow.new_studies) == (2, 1)
        s.unlink(b)
        assert s.flow()[0].new_studies == 2
