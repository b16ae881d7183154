"""The stopping rule (Callaghan and Müller-Hansen 2020) against hand computations from the
hypergeometric distribution, its edge cases, the heuristics and the exact messages."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from review.errors import StoppingError
from review.screening.stopping import (
    hypergeometric_p,
    k_target,
    methods_text,
    run_length,
    safe_check,
    stop_check,
    switch_point,
)


def _hyper_cdf(k: int, urn: int, relevant: int, draws: int) -> Fraction:
    """P(X <= k) by counting, exactly: sum of C(K, i) C(U - K, n - i) / C(U, n)."""
    total = math.comb(urn, draws)
    return Fraction(
        sum(math.comb(relevant, i) * math.comb(urn - relevant, draws - i) for i in range(k + 1)),
        total,
    )


def test_hand_case_no_relevant_in_sample():
    # 20 records; 10 screened by rank (4 relevant); then 5 random of the 10 left, none
    # relevant. Target 80%: recall < 0.8 iff 4 / (4 + K) < 0.8 iff K > 1, so K_tar = 2.
    # p = P(X <= 0 | urn 10, K 2, 5 drawn) = C(8, 5) / C(10, 5) = 56 / 252.
    order = [True, True, False, True, False, True, False, False, False, False] + [False] * 5
    check = stop_check(order, 20, recall=0.8, confidence=0.95, random_sample_start=10)
    assert check.k_target == 2
    assert check.p_value == pytest.approx(math.comb(8, 5) / math.comb(10, 5), abs=1e-12)
    assert check.p_value == pytest.approx(56 / 252, abs=1e-12)
    assert not check.target_met
    # Next random records all irrelevant: n = 6 gives 28/210, 7 gives 8/120, 8 gives 1/45
    # (< 0.05), so 3 more.
    assert math.comb(8, 7) / math.comb(10, 7) >= 0.05 > math.comb(8, 8) / math.comb(10, 8)
    assert check.more_to_screen == 3
    assert (check.n_ranked, check.relevant_ranked, check.n_urn) == (10, 4, 10)
    assert (check.n_sample, check.relevant_sample) == (5, 0)
    # Screening those 3 (irrelevant) meets the target, p = 1 / 45.
    done = stop_check(order + [False] * 3, 20, recall=0.8, random_sample_start=10)
    assert done.target_met
    assert done.p_value == pytest.approx(1 / 45, abs=1e-12)
    assert done.more_to_screen == 0


def test_hand_case_a_relevant_record_in_the_sample_raises_the_bar():
    # 30 records; 10 ranked (5 relevant); 8 random of the 20 left, 1 relevant. Target 90%:
    # found 6, 6 / (5 + K) < 0.9 iff K > 6 / 0.9 - 5 = 1.67, so K_tar = 2.
    # p = P(X <= 1 | urn 20, K 2, 8 drawn) = [C(18, 8) + C(2, 1) C(18, 7)] / C(20, 8).
    order = [True] * 5 + [False] * 5 + [False] * 3 + [True] + [False] * 4
    check = stop_check(order, 30, recall=0.9, random_sample_start=10)
    expected = (math.comb(18, 8) + 2 * math.comb(18, 7)) / math.comb(20, 8)
    assert check.k_target == 2
    assert check.p_value == pytest.approx(expected, abs=1e-12)
    assert check.relevant_found == 6
    assert not check.target_met


def test_p_value_matches_counting_over_a_grid():
    for urn in (1, 5, 12):
        for relevant in range(0, urn + 1):
            for draws in range(0, urn + 1):
                for k in range(0, min(draws, relevant) + 1):
                    got = hypergeometric_p(
                        n_urn=urn, k_target=relevant, n_sample=draws, relevant_sample=k
                    )
                    assert got == pytest.approx(
                        float(_hyper_cdf(k, urn, relevant, draws)), abs=1e-9
                    )


def test_k_target_is_the_smallest_count_that_breaks_the_target():
    for recall in (0.5, 0.7, 0.8, 0.9, 0.95, 0.99):
        target = Fraction(str(recall))
        for found in range(0, 40):
            for ranked in range(0, found + 1):
                k = k_target(found, ranked, recall)
                assert k >= found - ranked + 1  # the urn held at least those found there
                below = [K for K in range(0, 200) if Fraction(found, ranked + K or 1) < target]
                if found == 0:
                    assert k == 1
                else:
                    assert k == min(K for K in below if ranked + K > 0)


def test_boundary_recall_is_exact_not_floating():
    # 19 relevant found by rank, target 95%: 19 / 20 = 0.95 is not below the target, so
    # H0 needs the urn to hold at least 2 (19 / 21 < 0.95).
    assert k_target(19, 19, 0.95) == 2


def test_more_to_screen_is_the_smallest_number_that_meets_the_target():
    order = [True] * 7 + [False] * 13
    for recall, confidence in ((0.95, 0.95), (0.9, 0.99), (0.8, 0.9)):
        check = stop_check(order, 400, recall=recall, confidence=confidence)
        alpha = 1 - Fraction(str(confidence))
        urn, k_tar, m = check.n_urn, check.k_target, check.more_to_screen
        assert _hyper_cdf(0, urn, k_tar, m) < alpha <= _hyper_cdf(0, urn, k_tar, m - 1)


def test_everything_screened_means_recall_is_known():
    check = stop_check([True, False, False], 3, random_sample_start=None)
    assert check.p_value == 0.0
    assert check.target_met
    assert check.more_to_screen == 0
    assert check.n_urn == 0
    assert check.reason == "every record has been screened: recall is known, not estimated"
    assert methods_text(check).endswith("; every one of the 3 records was screened.")


def test_no_relevant_found_asks_whether_any_is_left():
    # 10 irrelevant random records out of 100: H0 "at least one relevant left", K_tar = 1,
    # p = P(X = 0) = C(99, 10) / C(100, 10) = 90 / 100. Meeting 95% confidence needs
    # (100 - n) / 100 < 0.05, n = 96: 86 more.
    check = stop_check([False] * 10, 100, random_sample_start=0)
    assert check.k_target == 1
    assert check.p_value == pytest.approx(math.comb(99, 10) / math.comb(100, 10), abs=1e-12)
    assert check.more_to_screen == 86
    assert check.reason is not None and check.reason.startswith("no relevant record found yet")


def test_before_any_random_record_the_test_cannot_pass():
    check = stop_check([True, True, False], 50)
    assert check.p_value == 1.0
    assert not check.target_met
    assert check.random_sample_start is None
    assert check.n_sample == 0
    assert check.n_urn == 47
    assert check.reason == "no random record screened yet: the test needs a random sample"
    # The count says how many random records would do, should none be relevant.
    alpha = Fraction(1, 20)
    m = check.more_to_screen
    assert _hyper_cdf(0, 47, check.k_target, m) < alpha <= _hyper_cdf(0, 47, check.k_target, m - 1)
    assert "no random sample has been screened yet" in methods_text(check)


def test_urn_too_small_for_the_null_hypothesis_gives_p_zero():
    assert hypergeometric_p(n_urn=3, k_target=4, n_sample=0, relevant_sample=0) == 0.0


def test_methods_text_names_the_rule_parameters_and_outcome():
    order = [True, True, False, True, False, True, False, False, False, False] + [False] * 8
    text = methods_text(stop_check(order, 20, recall=0.8, random_sample_start=10))
    assert text == (
        "The statistical stopping criterion of Callaghan and Müller-Hansen (2020) was "
        "applied: a hypergeometric test of the hypothesis that recall is below 80%, "
        "rejected when p < 0.05 (95% confidence); 10 of 20 records were screened in order "
        "of predicted relevance (4 relevant), then a random sample of 8 of the 10 remaining "
        "records (0 relevant); the hypothesis was rejected (p = 0.022)."
    )


def test_run_length_counts_the_trailing_irrelevant_run():
    assert run_length([True, False, False], 2).fired
    assert run_length([False, False, True], 2).run == 0
    assert not run_length([], 1).fired


def test_switch_point_is_after_the_first_run_of_n_irrelevant():
    assert switch_point([True, False, False, True, False, False, False], 3) == 7
    assert switch_point([False, False], 3) is None
    assert switch_point([False, False, False, False], 2) == 2


def test_safe_checks_only_what_can_be_counted_and_lists_the_human_steps():
    order = [True] * 3 + [False] * 20
    safe = safe_check(order, 100, run_length_n=20, prevalence_estimate=0.05)
    assert safe.fraction_met  # 23% >= 10%
    assert safe.estimated_relevant == pytest.approx(5.0)
    assert safe.screened_enough_for_estimate  # 23 >= 2 x 5
    assert safe.run_length_met
    assert safe.checkable_met
    assert any("key paper" in step for step in safe.human_steps)
    unknown = safe_check(order, 100, run_length_n=20)
    assert unknown.estimated_relevant is None
    assert not unknown.checkable_met


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recall": 1.0}, "recall must be between 0 and 1 (exclusive), got 1.0"),
        ({"recall": 0}, "recall must be between 0 and 1 (exclusive), got 0"),
        ({"confidence": 1.5}, "confidence must be between 0 and 1 (exclusive), got 1.5"),
        (
            {"random_sample_start": 4},
            "the random sample cannot start at position 4: it must be between 0 and the "
            "3 records screened",
        ),
        ({"run_length_n": 0}, "the run length must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_parameters_say_what_is_wrong(kwargs, message):
    with pytest.raises(StoppingError) as caught:
        stop_check([True, False, False], 10, **kwargs)
    assert str(caught.value) == message


def test_more_screened_than_the_pool_is_refused():
    with pytest.raises(StoppingError) as caught:
        stop_check([True, False, False], 2)
    assert str(caught.value) == (
        "3 records are screened but the pool has only 2: the number of records must count "
        "every record of the stage"
    )
