"""The report's methods name the stopping rule and its parameters once the review has a
recorded random sample (``casepool screen stop-check``), and say nothing of it while the
stage is blind; writing the report draws nothing."""

from __future__ import annotations

from pathlib import Path

from screening import ready_review
from stores import store_snapshot

from review.api import Review
from review.report.model import build_report


def screened_by_both(folder: Path) -> list[int]:
    clusters = ready_review(folder, 30)
    with Review.open(folder) as review:
        for who in ("ana", "ben"):
            for c in clusters[:3]:
                review.screening.decide(c, stage="ta", reviewer=who, decision="include")
            for c in clusters[3:10]:
                review.screening.decide(c, stage="ta", reviewer=who, decision="exclude")
    return clusters


def stopping_lines(review: Review) -> list[str]:
    return [m for m in build_report(review).methods if "Callaghan" in m]


def test_the_methods_name_the_rule_its_parameters_and_where_the_sample_stands(
    review_dir: Path,
) -> None:
    screened_by_both(review_dir)
    with Review.open(review_dir) as review:
        assert stopping_lines(review) == []  # no sample drawn: nothing to say
        review.screening.unblind("ta", by="lee")
        review.screening.stop_check("ta")
        before = store_snapshot(review_dir)
        assert stopping_lines(review) == [
            "At title/abstract screening: The statistical stopping criterion of Callaghan and "
            "Müller-Hansen (2020) was applied: a hypergeometric test of the hypothesis that "
            "recall is below 95%, rejected when p < 0.05 (95% confidence); 10 of 30 records "
            "were screened in order of predicted relevance (3 relevant) and no random sample "
            "has been screened yet."
        ]
        assert store_snapshot(review_dir) == before  # the report drew nothing


def test_a_blind_stage_keeps_its_stopping_rule_out_of_the_report(sqlite_review_dir: Path) -> None:
    screened_by_both(sqlite_review_dir)
    with Review.open(sqlite_review_dir) as review:
        review.screening.unblind("ta", by="lee")
        review.screening.stop_check("ta")
        review.screening.blind("ta", by="lee")
        assert stopping_lines(review) == []
