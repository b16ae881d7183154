"""The stopping rule on a review, on SQLite and PostgreSQL: the random sample is drawn with
a seed, recorded whole, released as the test needs it and evaluated once screened; only the
person's own decisions count while the stage is blind; bad input changes nothing."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from screening import ready_review
from sqlalchemy import select
from stores import store_snapshot

from review.api import Review
from review.errors import BlindError, StoppingError
from review.store.schema import stopping_samples, stopping_urn


@pytest.fixture
def clusters(review_dir: Path) -> list[int]:
    return ready_review(review_dir, 30)


def _screen(rv: Review, reviewer: str, includes: list[int], excludes: list[int]) -> None:
    for c in includes:
        rv.screening.decide(c, stage="ta", reviewer=reviewer, decision="include")
    for c in excludes:
        rv.screening.decide(c, stage="ta", reviewer=reviewer, decision="exclude")


def _rows(rv: Review) -> tuple[list, list]:
    with rv.store.read() as tx:
        samples = list(tx.connection.execute(select(stopping_samples).order_by("id")))
        urn = list(tx.connection.execute(select(stopping_urn).order_by("position")))
    return samples, urn


def test_the_sample_is_drawn_recorded_and_then_tested(
    review_dir: Path, clusters: list[int]
) -> None:
    first, rest = clusters[:10], clusters[10:]
    with Review.open(review_dir) as rv:
        _screen(rv, "ana", first[:3], first[3:])
        report = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        # 3 relevant found, target 50%: recall < 0.5 iff 3 / (3 + K) < 0.5 iff K > 3, so
        # K_tar = 4. With none relevant among n random of the 20 left, p = C(16, n) / C(20, n):
        # n = 9 gives 0.068, n = 10 gives 0.043 < 0.05, so 10 are drawn.
        assert math.comb(16, 9) / math.comb(20, 9) >= 0.05 > math.comb(16, 10) / math.comb(20, 10)
        check = report.check
        assert (check.k_target, check.p_value, check.target_met) == (4, 1.0, False)
        assert (report.drew, report.released, report.urn_size, report.seed) == (10, 10, 20, 1)
        order = sorted(rest)
        random.Random(1).shuffle(order)
        assert list(report.next_clusters) == order[:10]
        samples, urn = _rows(rv)
        assert [
            (s.stage, s.reviewer, s.seed, s.pool, s.ranked, s.ranked_relevant, s.drawn)
            for s in samples
        ] == [("ta", "ana", 1, 30, 10, 3, 10)]
        assert [u.cluster_id for u in urn] == order  # the whole urn, in its random order

        again = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        assert again.drew == 0 and again.next_clusters == report.next_clusters
        assert len(_rows(rv)[0]) == 1

        # Screening only part of the released records tests the part before the first gap.
        _screen(rv, "ana", [], [order[0], order[1], order[3]])
        partial = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        assert partial.check.n_sample == 2
        assert partial.check.p_value == pytest.approx(math.comb(16, 2) / math.comb(20, 2))
        assert order[3] not in partial.next_clusters and order[2] in partial.next_clusters

        _screen(rv, "ana", [], [order[i] for i in (2, 4, 5, 6, 7, 8, 9)])
        done = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        assert done.check.target_met
        assert done.check.p_value == pytest.approx(math.comb(16, 10) / math.comb(20, 10))
        assert done.next_clusters == () and done.drew == 0
        assert done.methods.endswith("the hypothesis was rejected (p = 0.043).")


def test_a_relevant_record_in_the_sample_releases_more(
    review_dir: Path, clusters: list[int]
) -> None:
    with Review.open(review_dir) as rv:
        _screen(rv, "ana", clusters[:3], clusters[3:10])
        report = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        drawn = list(report.next_clusters)
        _screen(rv, "ana", drawn[:1], drawn[1:])
        after = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        # 4 found (1 in the sample): K_tar = floor(4 / 0.5 - 3) + 1 = 6;
        # p = P(X <= 1 | urn 20, K 6, 10 drawn).
        expected = (math.comb(14, 10) + 6 * math.comb(14, 9)) / math.comb(20, 10)
        assert after.check.k_target == 6
        assert after.check.p_value == pytest.approx(expected)
        assert not after.check.target_met
        assert after.drew == after.check.more_to_screen > 0
        assert after.released == 10 + after.drew
        samples, _ = _rows(rv)
        assert [s.extends for s in samples] == [None, samples[0].id]


def test_blind_stage_counts_only_the_reviewers_own_decisions(
    review_dir: Path, clusters: list[int]
) -> None:
    with Review.open(review_dir) as rv:
        _screen(rv, "ana", clusters[:3], clusters[3:10])
        _screen(rv, "ben", clusters[10:20], [])
        ana = rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
        assert (ana.check.n_screened, ana.check.relevant_found, ana.urn_size) == (10, 3, 20)
        ben = rv.screening.stop_check("ta", reviewer="ben", recall=0.5)
        assert (ben.check.n_screened, ben.check.relevant_found) == (10, 10)


def test_the_review_as_a_whole_is_refused_while_blind(
    review_dir: Path, clusters: list[int]
) -> None:
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv, pytest.raises(BlindError) as caught:
        rv.screening.stop_check("ta")
    assert str(caught.value) == (
        "title/abstract screening is blind: each reviewer sees only their own decisions until "
        "a lead unblinds it ('casepool screen unblind --stage ta --by LEAD'); to see your own, "
        "give --reviewer NAME"
    )
    assert store_snapshot(review_dir) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recall": 1.2}, "recall must be between 0 and 1 (exclusive), got 1.2"),
        ({"confidence": 0.0}, "confidence must be between 0 and 1 (exclusive), got 0.0"),
        ({"sample": 0}, "the sample size must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_parameters_change_nothing(
    review_dir: Path, clusters: list[int], kwargs: dict, message: str
) -> None:
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv, pytest.raises(StoppingError) as caught:
        rv.screening.stop_check("ta", reviewer="ana", **kwargs)
    assert str(caught.value) == message
    assert store_snapshot(review_dir) == before


def test_a_new_seed_needs_a_new_sample(review_dir: Path, clusters: list[int]) -> None:
    with Review.open(review_dir) as rv:
        _screen(rv, "ana", clusters[:3], clusters[3:10])
        rv.screening.stop_check("ta", reviewer="ana", seed=7)
        with pytest.raises(StoppingError) as caught:
            rv.screening.stop_check("ta", reviewer="ana", seed=8)
        assert str(caught.value) == (
            "the random sample at title/abstract was drawn with seed 7; --seed only applies "
            "to a new sample (add --new-sample to draw one)"
        )
        fresh = rv.screening.stop_check("ta", reviewer="ana", seed=8, new_sample=True, sample=5)
        order = sorted(clusters[10:])
        random.Random(8).shuffle(order)
        assert list(fresh.next_clusters) == order[:5]


def test_everything_screened_needs_no_sample(review_dir: Path, clusters: list[int]) -> None:
    with Review.open(review_dir) as rv:
        _screen(rv, "ana", clusters[:2], clusters[2:])
        report = rv.screening.stop_check("ta", reviewer="ana")
        assert report.check.target_met and report.sample_id is None
        assert report.check.run_length.run == 28 and not report.check.run_length.fired
        assert _rows(rv) == ([], [])


def test_a_copied_store_keeps_the_sample(
    review_dir: Path, clusters: list[int], tmp_path: Path
) -> None:
    from review.api import copy_store

    with Review.open(review_dir) as rv:
        _screen(rv, "ana", clusters[:3], clusters[3:10])
        rv.screening.stop_check("ta", reviewer="ana", recall=0.5)
    report = copy_store(review_dir, str(tmp_path / "copy.db"))
    rows = dict(report.rows)
    assert (rows["stopping_samples"], rows["stopping_urn"]) == (1, 20)
