"""Agreement between screening reviewers: published worked examples, psych::cohen.kappa's
numbers (tests/reference/agreement_reference.json, made by agreement_reference.R),
statsmodels on generated ratings, the undefined cases, and the stage's agreement read from
the store on both backends (refused while blind)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from screening import ready_review

from review.api import Review
from review.errors import BlindError, ScreeningError
from review.screening.agreement import (
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_counts,
    gwet_ac1,
    pabak,
    pair_agreement,
    pairwise_agreement,
    stage_agreement,
)
from review.screening.events import parse_decision

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "agreement_reference.json"
DECISIONS = ("include", "exclude", "maybe")

# Published figures are printed to three decimals: agree within half of the last one.
PRINTED = 0.0005
# Reference implementations (R, statsmodels) in double precision.
EXACT = 1e-9

# Fleiss (1971), Psychol Bull 76:378-382, Table 1: 30 patients, each diagnosed by 6 of the
# psychiatrists into 5 categories (depression, personality disorder, schizophrenia,
# neurosis, other); row = patient, entry = how many of the 6 chose each category. The
# same data as R's irr::diagnoses (the per-rater listing, counted here per patient).
FLEISS_1971 = [
    [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
]  # fmt: skip


def test_fleiss_1971_table_1_gives_kappa_430() -> None:
    """Fleiss (1971), Psychol Bull 76:378-382, Table 1 (30 subjects, 6 raters, 5
    categories): kappa = .430, the value of his worked example (and of irr::kappam.fleiss
    on irr::diagnoses). The mean pairwise agreement P = .556 and chance agreement
    Pe = .220 are those the table gives."""
    result = fleiss_kappa_counts(FLEISS_1971)
    assert result.n == 30
    assert result.value == pytest.approx(0.430, abs=PRINTED)
    assert result.observed == pytest.approx(0.556, abs=PRINTED)
    assert result.expected == pytest.approx(0.220, abs=PRINTED)


def test_fleiss_1971_first_15_patients_match_gwet() -> None:
    """The first 15 patients of Fleiss (1971) Table 1 are Gwet's (2014, Handbook of
    Inter-Rater Reliability, 4th ed.) ``distrib.6raters`` example; his irrCAC package prints
    Fleiss' kappa 0.4139265, pa 0.5511111, pe 0.2340741 for it (seven digits)."""
    result = fleiss_kappa_counts(FLEISS_1971[:15])
    assert result.value == pytest.approx(0.4139265, abs=5e-8)
    assert result.observed == pytest.approx(0.5511111, abs=5e-8)
    assert result.expected == pytest.approx(0.2340741, abs=5e-8)


def test_wongpakaran_2013_schizoid_pair_kappa_565_and_ac1_752() -> None:
    """Wongpakaran, Wongpakaran, Wedding and Gwet (2013), BMC Med Res Methodol 13:61: the
    schizoid PD ratings of one rater pair, 19 patients (both absent 13, only the second
    present 2, only the first present 1, both present 3), Cohen's kappa .565 and Gwet's
    AC1 .752 (the lowest AC1 the abstract quotes). The cells are as others transcribed
    them from the paper; both published figures come out of them, which confirms the
    transcription (AC1 is 0.7527, printed cut to .752)."""
    table = [[13, 2], [1, 3]]
    assert cohen_kappa(table).value == pytest.approx(0.565, abs=PRINTED)
    ac1 = gwet_ac1(table)
    assert ac1 is not None
    assert 0.752 <= ac1 < 0.753
    # Byrt et al. (1993): PABAK = 2 po - 1 for two categories, po = 16/19
    assert pabak(16 / 19, 2) == pytest.approx(2 * 16 / 19 - 1)


def test_gwet_abstractors_example_ac1_and_kappa_with_its_standard_error() -> None:
    """Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed.: two abstractors classify
    100 pregnancies as ectopic, AIU or NIU (his irrCAC package's ``cont3x3abstractors``).
    irrCAC prints percent agreement 0.89, AC1 0.8493305 (pe 0.26992), Cohen's kappa
    0.7964094 with standard error 0.05891072 - the same large-sample SE as Fleiss, Cohen
    and Everitt (1969). (irrCAC's interval uses a t quantile, ours the normal's.)"""
    table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    kappa = cohen_kappa(table)
    assert kappa.observed == pytest.approx(0.89)
    assert kappa.value == pytest.approx(0.7964094, abs=5e-8)
    assert kappa.se == pytest.approx(0.05891072, abs=5e-9)
    assert gwet_ac1(table) == pytest.approx(0.8493305, abs=5e-8)


def reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


REFERENCE_CASES = [case["name"] for case in reference()["cases"]]


def test_reference_set_never_shrinks() -> None:
    """The psych::cohen.kappa cases may grow, never shrink: unbalanced, skewed (the kappa
    paradox), 3-category and small tables each stay covered."""
    assert set(REFERENCE_CASES) >= {
        "fce1969",
        "abstractors",
        "wongpakaran2013",
        "screening_skewed",
        "paradox",
        "unbalanced",
        "include_exclude_maybe",
        "small_unused",
        "near_perfect",
    }


@pytest.mark.parametrize("name", REFERENCE_CASES)
def test_kappa_its_se_and_ci_match_psych_cohen_kappa(name: str) -> None:
    """psych::cohen.kappa (R) reports the Fleiss-Cohen-Everitt variance and a 95% normal
    interval truncated to [-1, 1]; ours agree to double precision."""
    case = next(c for c in reference()["cases"] if c["name"] == name)
    kappa = cohen_kappa(case["table"])
    assert kappa.value == pytest.approx(case["kappa"], abs=EXACT)
    assert kappa.se == pytest.approx(case["se_kappa"], abs=EXACT)
    assert kappa.se is not None
    assert kappa.se**2 == pytest.approx(case["var_kappa"], abs=EXACT)
    assert kappa.ci_lower == pytest.approx(case["ci_lower"], abs=EXACT)
    assert kappa.ci_upper == pytest.approx(case["ci_upper"], abs=EXACT)
    assert kappa.observed == pytest.approx(case["agree"], abs=EXACT)


def _table(pairs: list[tuple[int, int]], k: int) -> list[list[int]]:
    table = [[0] * k for _ in range(k)]
    for a, b in pairs:
        table[a][b] += 1
    return table


two_raters = st.integers(2, 4).flatmap(
    lambda k: st.tuples(
        st.just(k),
        st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=60),
    )
)


@settings(max_examples=150, deadline=None)
@given(two_raters)
def test_kappa_matches_statsmodels_on_generated_ratings(case: tuple[int, list[Any]]) -> None:
    """statsmodels.stats.inter_rater.cohens_kappa (after SAS's formulas) is an independent
    implementation of the same kappa, variance and interval (it does not truncate)."""
    from statsmodels.stats.inter_rater import cohens_kappa

    k, pairs = case
    table = _table(pairs, k)
    ours = cohen_kappa(table)
    if ours.value is None:
        assert ours.expected == pytest.approx(1.0)
        return
    with warnings.catch_warnings():  # its test of kappa = 0, not compared, divides 0 by 0
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = cohens_kappa(table)
    assert ours.value == pytest.approx(theirs.kappa, abs=EXACT)
    if math.isnan(theirs.std_kappa):  # a variance of 0 that rounding made negative
        assert theirs.var_kappa == pytest.approx(0.0, abs=1e-12)
        assert ours.se == pytest.approx(0.0, abs=1e-7)
        return
    assert ours.se == pytest.approx(theirs.std_kappa, abs=1e-7)
    if ours.why_no_interval is not None:  # theirs is [0, 0]; ours says there is none
        assert theirs.kappa_upp - theirs.kappa_low == pytest.approx(0.0, abs=1e-6)
        assert (ours.ci_lower, ours.ci_upper, ours.value) == (None, None, pytest.approx(0.0))
        return
    assert ours.ci_lower == pytest.approx(max(theirs.kappa_low, -1.0), abs=1e-7)
    assert ours.ci_upper == pytest.approx(min(theirs.kappa_upp, 1.0), abs=1e-7)


many_raters = st.tuples(st.integers(2, 4), st.integers(3, 6)).flatmap(
    lambda km: st.lists(
        st.lists(st.integers(0, km[0] - 1), min_size=km[1], max_size=km[1]),
        min_size=1,
        max_size=40,
    ).map(lambda rows: (km[0], rows))
)


@settings(max_examples=150, deadline=None)
@given(many_raters)
def test_fleiss_kappa_matches_statsmodels_on_generated_ratings(
    case: tuple[int, list[list[int]]],
) -> None:
    """statsmodels.stats.inter_rater.fleiss_kappa on the same items x categories counts;
    the ratings go in as ``{rater: {item: category}}`` as casepool gathers them."""
    from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

    k, rows = case
    categories = [f"c{j}" for j in range(k)]
    raters = [f"r{i}" for i in range(len(rows[0]))]
    ratings = {
        r: {item: categories[row[i]] for item, row in enumerate(rows)} for i, r in enumerate(raters)
    }
    ours = fleiss_kappa(ratings, categories)
    counts = [[row.count(j) for j in range(k)] for row in rows]
    assert ours.n == len(rows)
    if ours.value is None:
        assert ours.expected == pytest.approx(1.0)
        return
    assert ours.value == pytest.approx(statsmodels_fleiss(counts, method="fleiss"), abs=EXACT)


@settings(max_examples=100, deadline=None)
@given(two_raters)
def test_every_coefficient_is_the_same_with_the_reviewers_swapped(
    case: tuple[int, list[Any]],
) -> None:
    k, pairs = case
    table = _table(pairs, k)
    swapped = [list(col) for col in zip(*table, strict=True)]
    a, b = cohen_kappa(table), cohen_kappa(swapped)
    assert (a.value is None) == (b.value is None)
    if a.value is not None:
        assert a.value == pytest.approx(b.value)
        assert a.se == pytest.approx(b.se)
    assert gwet_ac1(table) == pytest.approx(gwet_ac1(swapped))


def test_pabak_uses_the_number_of_categories_offered() -> None:
    """Byrt, Bishop and Carlin (1993): 2 po - 1 with two categories; with k categories
    (k po - 1) / (k - 1), chance agreement being 1/k."""
    assert pabak(0.8, 2) == pytest.approx(0.6)
    assert pabak(0.8, 3) == pytest.approx(0.7)
    assert pabak(1.0, 3) == pytest.approx(1.0)
    assert pabak(0.0, 3) == pytest.approx(-0.5)


def test_a_pair_is_compared_on_the_items_both_rated_over_all_decisions() -> None:
    ratings = {
        "ann": {1: "include", 2: "exclude", 3: "exclude", 4: "maybe", 5: "exclude"},
        "bob": {1: "include", 2: "exclude", 3: "include", 4: "maybe", 6: "exclude"},
    }
    pair = pair_agreement(ratings, "ann", "bob", DECISIONS)
    assert pair.n == 4
    assert pair.table == ((1, 0, 0), (1, 1, 0), (0, 0, 1))
    assert pair.observed == pytest.approx(0.75)
    assert pair.percent_agreement == pytest.approx(75.0)
    assert pair.pabak == pytest.approx((3 * 0.75 - 1) / 2)
    assert pair.kappa.value == pytest.approx(cohen_kappa(pair.table).value)
    assert pair.ac1 == pytest.approx(gwet_ac1(pair.table))


def test_kappa_is_undefined_not_nan_when_both_gave_one_decision_throughout() -> None:
    ratings = {"ann": {1: "exclude", 2: "exclude"}, "bob": {1: "exclude", 2: "exclude"}}
    pair = pair_agreement(ratings, "ann", "bob", DECISIONS)
    assert pair.kappa.value is None
    assert pair.kappa.why_undefined == (
        "both chose exclude for every record, so chance agreement is 1 and kappa is 0/0"
    )
    assert pair.pabak == 1.0
    assert pair.ac1 == 1.0
    text = json.dumps(pair.as_dict(), allow_nan=False)
    assert '"value": null' in text


def test_a_pair_with_no_records_in_common_has_no_coefficients() -> None:
    pairs = pairwise_agreement({"ann": {1: "include"}, "bob": {2: "include"}}, DECISIONS)
    (pair,) = pairs
    assert pair.n == 0
    assert (pair.observed, pair.pabak, pair.ac1, pair.kappa.value) == (None, None, None, None)
    assert pair.kappa.why_undefined == "no records rated by both"
    json.dumps(pair.as_dict(), allow_nan=False)


def test_fleiss_kappa_is_over_the_items_every_rater_rated() -> None:
    ratings = {
        "ann": {1: "include", 2: "exclude", 3: "exclude"},
        "bob": {1: "include", 2: "exclude", 3: "include"},
        "cat": {1: "include", 2: "maybe"},
    }
    result = fleiss_kappa(ratings, DECISIONS)
    assert result.raters == ("ann", "bob", "cat")
    assert result.n == 2
    assert result.value == pytest.approx(fleiss_kappa_counts([[3, 0, 0], [0, 2, 1]]).value)
    none = fleiss_kappa({**ratings, "dan": {3: "include"}}, DECISIONS)
    assert none.n == 0
    assert none.value is None
    assert none.why_undefined == "no record was rated by all of them"


def test_a_rating_outside_the_categories_is_refused_with_the_item() -> None:
    with pytest.raises(ScreeningError) as caught:
        pair_agreement({"ann": {7: "yes"}, "bob": {7: "include"}}, "ann", "bob", DECISIONS)
    assert str(caught.value) == "ann's rating of 7 is 'yes', not one of: include, exclude, maybe"


def test_stage_agreement_lists_every_pair_in_name_order_and_fleiss_for_three() -> None:
    ratings = {
        "cat": {1: "include", 2: "exclude"},
        "ann": {1: "include", 2: "exclude"},
        "bob": {1: "exclude", 2: "exclude"},
    }
    result = stage_agreement("ta", ratings, DECISIONS)
    assert [p.raters for p in result.pairs] == [("ann", "bob"), ("ann", "cat"), ("bob", "cat")]
    assert result.fleiss is not None and result.fleiss.n == 2
    assert (
        stage_agreement("ta", {"ann": ratings["ann"], "bob": ratings["bob"]}, DECISIONS).fleiss
        is None
    )
    assert math.isfinite(result.pairs[1].kappa.value or 0.0)


# --- on the store -----------------------------------------------------------------------


def _decide(review: Review, cluster: int, reviewer: str, decision: str) -> None:
    review.screening.decide(
        cluster, stage="ta", reviewer=reviewer, decision=parse_decision(decision)
    )


def test_agreement_is_refused_while_the_stage_is_blind(review_dir: Path) -> None:
    clusters = ready_review(review_dir, 2)
    with Review.open(review_dir) as review:
        _decide(review, clusters[0], "ann", "include")
        _decide(review, clusters[0], "bob", "exclude")
        with pytest.raises(BlindError) as caught:
            review.screening.agreement("ta")
    assert str(caught.value) == (
        "title/abstract screening is blind: each reviewer sees only their own decisions "
        "until a lead unblinds it ('casepool screen unblind --stage ta --by LEAD')"
    )


def test_agreement_reads_each_reviewers_latest_decision_once_unblinded(review_dir: Path) -> None:
    clusters = ready_review(review_dir, 6)
    ann = ["include", "exclude", "exclude", "exclude", "maybe", "exclude"]
    bob = ["include", "exclude", "include", "exclude", "maybe", "exclude"]
    with Review.open(review_dir) as review:
        for cluster, a, b in zip(clusters, ann, bob, strict=True):
            _decide(review, cluster, "ann", a)
            _decide(review, cluster, "bob", b)
        _decide(review, clusters[2], "bob", "exclude")  # supersedes bob's include
        _decide(review, clusters[5], "bob", "include")  # supersedes bob's exclude
        review.screening.unblind("ta", by="lead")
        result = review.screening.agreement("ta")
    (pair,) = result.pairs
    assert result.reviewers == ("ann", "bob")
    assert pair.n == 6
    # ann/bob: include/include, exclude x3 agreed, maybe/maybe, exclude/include
    assert pair.table == ((1, 0, 0), (1, 3, 0), (0, 0, 1))
    assert pair.percent_agreement == pytest.approx(100 * 5 / 6)
    assert pair.kappa.value == pytest.approx(cohen_kappa(pair.table).value)
    assert pair.pabak == pytest.approx((3 * 5 / 6 - 1) / 2)
    assert result.fleiss is None
    data = result.as_dict()
    assert data["stage"] == "ta"
    assert data["categories"] == ["include", "exclude", "maybe"]
    json.dumps(data, allow_nan=False)


def test_three_reviewers_get_every_pair_and_fleiss_kappa(review_dir: Path) -> None:
    clusters = ready_review(review_dir, 4)
    votes = {
        "ann": ["include", "exclude", "exclude", "include"],
        "bob": ["include", "exclude", "include", "include"],
        "cat": ["include", "exclude", "exclude"],  # not the fourth
    }
    with Review.open(review_dir) as review:
        for person, decisions in votes.items():
            for cluster, decision in zip(clusters, decisions, strict=False):
                _decide(review, cluster, person, decision)
        review.screening.unblind("ta", by="lead")
        result = review.screening.agreement("ta")
    assert [(p.raters, p.n) for p in result.pairs] == [
        (("ann", "bob"), 4),
        (("ann", "cat"), 3),
        (("bob", "cat"), 3),
    ]
    assert result.fleiss is not None
    assert result.fleiss.n == 3
    assert result.fleiss.value == pytest.approx(
        fleiss_kappa_counts([[3, 0, 0], [0, 3, 0], [1, 2, 0]]).value
    )


def test_full_text_agreement_is_on_the_decision_not_the_reason(review_dir: Path) -> None:
    """At full text two exclusions agree whatever their reasons (the categories are the
    decisions), though the cluster is in conflict until the reasons agree; records that
    did not go on from title/abstract are not counted."""
    clusters = ready_review(review_dir, 3)
    with Review.open(review_dir) as review:
        screening = review.screening
        for person in ("ann", "bob"):
            _decide(review, clusters[0], person, "include")
            _decide(review, clusters[1], person, "include")
            _decide(review, clusters[2], person, "exclude")
        screening.unblind("ta", by="lead")
        screening.decide(
            clusters[0], stage="ft", reviewer="ann", decision="exclude", reason="no-rtx"
        )
        screening.decide(
            clusters[0], stage="ft", reviewer="bob", decision="exclude", reason="not-ssc"
        )
        screening.decide(clusters[1], stage="ft", reviewer="ann", decision="include")
        screening.decide(clusters[1], stage="ft", reviewer="bob", decision="include")
        screening.unblind("ft", by="lead")
        result = screening.agreement("ft")
        in_conflict = [s.cluster_id for s in screening.conflicts("ft")]
    (pair,) = result.pairs
    assert result.stage == "ft"
    assert pair.n == 2
    assert pair.percent_agreement == pytest.approx(100.0)
    assert pair.kappa.value == pytest.approx(1.0)
    assert in_conflict == [clusters[0]]


def test_a_reviewer_who_gave_every_record_one_decision_gets_kappa_0_and_no_interval() -> None:
    """The other reviewer's choices cannot move kappa then, and the large-sample variance
    is 0: an interval [0, 0] would claim a precision the data do not have."""
    k = cohen_kappa([[3, 0], [2, 0]])  # the second reviewer included all five
    assert k.value == pytest.approx(0.0)
    assert (k.ci_lower, k.ci_upper) == (None, None)
    assert k.why_no_interval == (
        "one reviewer gave every record the same decision, so kappa is 0 whatever the other "
        "chose, and it has no interval"
    )
