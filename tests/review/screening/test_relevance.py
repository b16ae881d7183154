"""Relevance order through the library API, on SQLite and PostgreSQL: the queue ranked by a
model of the decisions the reviewer may see, never another reviewer's while blind, never a
record still to screen; the default order (and why) until there is an include and an
exclude to learn from."""

from __future__ import annotations

from pathlib import Path

import pytest
from relevance_papers import relevance_review

from review.api import Review
from review.errors import ScreeningError
from review.screening.labels import training_labels
from review.screening.relevance import make_ranker, rank


@pytest.fixture
def papers(review_dir: Path) -> tuple[list[int], list[int]]:
    return relevance_review(review_dir)


def test_without_an_include_and_an_exclude_the_queue_keeps_its_order_and_says_why(
    review_dir: Path, papers: tuple[list[int], list[int]]
) -> None:
    relevant, _ = papers
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        result = s.relevance("ta", "ana")
        assert not result.ranked and result.scores == {}
        assert list(result.clusters) == s.queue("ta", "ana")
        assert s.queue("ta", "ana", order="relevance") == s.queue("ta", "ana")
        assert result.why_unranked == (
            "relevance order needs at least one include and one exclude among the decisions "
            "the model may learn from (1 includes, 0 excludes so far); showing the default order"
        )


def test_the_queue_is_ranked_by_the_reviewers_decisions(
    review_dir: Path, papers: tuple[list[int], list[int]]
) -> None:
    relevant, other = papers
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        s.decide(other[0], stage="ta", reviewer="ana", decision="exclude", reason="not-ssc")
        result = s.relevance("ta", "ana")
        assert result.ranked and result.why_unranked is None
        assert (result.includes, result.excludes) == (1, 1)
        assert sorted(result.clusters) == sorted(s.queue("ta", "ana"))
        assert set(result.clusters[:5]) == set(relevant[1:])  # the calcinosis papers first
        scores = [result.scores[c] for c in result.clusters]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= x <= 1.0 for x in scores)
        assert s.queue("ta", "ana", order="relevance") == list(result.clusters)
        assert s.relevance("ta", "ana") == result  # the same decisions, the same ranking


def test_a_blind_reviewers_model_never_learns_another_reviewers_decisions(
    review_dir: Path, papers: tuple[list[int], list[int]]
) -> None:
    relevant, other = papers
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        s.decide(other[0], stage="ta", reviewer="ana", decision="exclude")
        before = s.relevance("ta", "ana")
        seen = s.training_set("ta", "ana")
        # ben decides the opposite on many records, some of them ana's to screen
        for c in relevant[1:4]:
            s.decide(c, stage="ta", reviewer="ben", decision="exclude")
        for c in other[1:4]:
            s.decide(c, stage="ta", reviewer="ben", decision="include")
        assert s.training_set("ta", "ana").labels == seen.labels
        assert dict(seen.labels) == {relevant[0]: True, other[0]: False}
        assert s.relevance("ta", "ana") == before
        # once unblinded, the agreed decisions are learned, still never a queued record
        s.decide(relevant[1], stage="ta", reviewer="ana", decision="include")
        s.decide(relevant[1], stage="ta", reviewer="ben", decision="include")
        s.unblind("ta", by="lead")
        after = s.training_set("ta", "ana")
        assert relevant[1] in after.labels
        assert not set(after.labels) & set(after.queue)
        assert relevant[2] not in after.labels  # ben's alone: pending, and in ana's queue


def test_maybe_is_not_a_label(review_dir: Path, papers: tuple[list[int], list[int]]) -> None:
    relevant, other = papers
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(relevant[0], stage="ta", reviewer="ana", decision="maybe")
        s.decide(other[0], stage="ta", reviewer="ana", decision="exclude")
        assert dict(s.training_set("ta", "ana").labels) == {other[0]: False}


def test_a_label_added_in_memory_reranks_without_reading_the_store(
    review_dir: Path, papers: tuple[list[int], list[int]]
) -> None:
    relevant, other = papers
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        training = s.training_set("ta", "ana")
        ranker = make_ranker(training)
        assert not rank(training, ranker).ranked
        later = training.with_label(other[0], False)
        assert other[0] not in later.queue
        s.decide(other[0], stage="ta", reviewer="ana", decision="exclude")
        assert rank(later, ranker) == s.relevance("ta", "ana")


def test_an_unknown_order_is_refused(review_dir: Path, papers: tuple[list[int], list[int]]) -> None:
    with Review.open(review_dir) as rv, pytest.raises(ScreeningError) as caught:
        rv.screening.queue("ta", "ana", order="random")  # type: ignore[arg-type]
    assert str(caught.value) == "unknown queue order 'random'; use default or relevance"


def test_training_labels_blind_take_only_the_reviewers_own(
    review_dir: Path, papers: tuple[list[int], list[int]]
) -> None:
    relevant, other = papers
    with Review.open(review_dir) as rv:
        s = rv.screening
        s.decide(relevant[0], stage="ta", reviewer="ben", decision="include")
        s.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        s.decide(other[0], stage="ta", reviewer="ben", decision="exclude")
        s.unblind("ta", by="lead")
        states = {c: s.state(c, stage="ta") for c in (relevant[0], other[0])}
    assert training_labels(states, reviewer="ana", blind=True) == {relevant[0]: True}
    assert training_labels(states, reviewer="cy", blind=True) == {}
    # unblinded: agreed ones (ana and ben on relevant[0]); ben's lone exclusion is pending
    assert training_labels(states, reviewer="cy", blind=False) == {relevant[0]: True}
