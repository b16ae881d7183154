"""``decide(first=True)``: the check that the paper is still in the reviewer's queue runs
inside the write, so the same key press arriving twice at once (a double press, a browser
resending) is recorded once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from screening import ready_review

from review.api import Review
from review.errors import AlreadyDecided


def test_a_second_first_decision_is_refused_and_records_nothing(review_dir: Path) -> None:
    clusters = ready_review(review_dir, 3)
    with Review.open(review_dir) as review:
        s = review.screening
        s.decide(clusters[0], stage="ta", reviewer="ana", decision="include", first=True)
        with pytest.raises(AlreadyDecided) as caught:
            s.decide(clusters[0], stage="ta", reviewer="ana", decision="exclude", first=True)
        assert (
            str(caught.value) == f"ana has already decided cluster {clusters[0]} at title/abstract"
        )
        assert [e.decision for e in s.history(clusters[0], viewer="ana")[1]] == ["include"]
        # without first, a decision is a change, as before; another reviewer is not blocked
        s.decide(clusters[0], stage="ta", reviewer="ana", decision="exclude")
        s.decide(clusters[0], stage="ta", reviewer="ben", decision="include", first=True)


def test_two_copies_of_one_decision_sent_at_once_are_recorded_once(review_dir: Path) -> None:
    clusters = ready_review(review_dir, 3)
    target = clusters[1]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def press() -> None:
        with Review.open(review_dir) as review:
            start.wait()
            try:
                review.screening.decide(
                    target, stage="ta", reviewer="ana", decision="include", first=True
                )
                outcomes.append("recorded")
            except AlreadyDecided:
                outcomes.append("refused")

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["recorded", "refused"]
    with Review.open(review_dir) as review:
        trail = review.screening.history(target, viewer="ana")[1]
    assert [(e.person, e.decision) for e in trail] == [("ana", "include")]
