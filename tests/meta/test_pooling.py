"""pool(), subgroups, leave-one-out and meta-regression: behaviour, errors and invariants."""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meta.counts import StudyCounts, make_counts
from meta.errors import ConvergenceError, InputDataError, MetaError
from meta.influence import leave_one_out
from meta.metareg import meta_regression
from meta.pooling import GLMM_MEDIAN_NOTE, ONE_STUDY_WARNING, pool
from meta.study_ci import naive_pooling, proportion_ci
from meta.subgroups import pool_subgroups, q_between
from meta.summary import subgroup_test_line, summarise
from meta.tau2 import estimate_tau2
from meta.types import CC_MODES, MEASURES, METHODS

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "metafor_reference.json"
TOLERANCE = 1e-6
# PyMARE maximises the ML/REML likelihood numerically, metafor stops Fisher scoring when a
# step changes tau2 by < 1e-5: the two agree to about 5e-7 on tau2 and 1e-7 on coefficients
METAREG_LIKELIHOOD_TOLERANCE = 2e-6
TWO_STAGE = [m for m in METHODS if m != "GLMM"]

PRITZ = make_counts(
    [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6],
    [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10],
)


@cache
def reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def _counts(name: str, subgroups: list[str] | None = None) -> StudyCounts:
    data = reference()["datasets"][name]
    return make_counts(data["events"], data["totals"], subgroups=subgroups)


# ---- pool(): options, single study, errors --------------------------------------------


def test_pool_defaults_to_glmm_with_median_note_and_no_weights() -> None:
    result = pool(PRITZ)
    assert result.method == "GLMM"
    assert result.measure == "PLO"
    assert GLMM_MEDIAN_NOTE in result.warnings
    assert all(s.weight is None for s in result.studies)
    assert result.ci_lower < result.estimate < result.ci_upper
    assert result.pi_lower is not None and result.pi_lower < result.ci_lower
    assert result.to_dict()["studies"][0]["weight"] is None


def test_glmm_knha_uses_t_with_k_minus_1_df_for_ci_and_pi() -> None:
    from scipy import stats

    z = pool(PRITZ, method="GLMM", test="z")
    t = pool(PRITZ, method="GLMM", test="knha")
    assert t.se == z.se
    crit = stats.t.isf(0.025, PRITZ.k - 1)
    logit_upper = math.log(t.ci_upper / (1 - t.ci_upper))
    assert logit_upper == pytest.approx(t.estimate_transformed + crit * t.se)


def test_glmm_with_another_measure_says_the_measure_is_ignored() -> None:
    result = pool(PRITZ, method="GLMM", measure="PFT")
    assert result.measure == "PLO"
    assert result.warnings[0] == "measure PFT ignored: the GLMM pools logits (PLO)"


def test_one_study_gives_its_own_estimate_with_a_warning() -> None:
    counts = make_counts([3], [10], ["Local series"])
    result = pool(counts, measure="PLO", method="REML", test="knha")
    assert result.k == 1
    assert result.estimate == pytest.approx(0.3)
    assert result.warnings[0] == ONE_STUDY_WARNING
    assert result.tau2 is None and result.i2 is None and result.q is None
    assert result.pi_lower is None
    assert result.studies[0].weight == 100.0
    se = math.sqrt(1 / 3 + 1 / 7)
    assert result.ci_lower == pytest.approx(1 / (1 + math.exp(-(math.log(3 / 7) - 1.959964 * se))))


def test_weights_are_percentages_summing_to_100() -> None:
    result = pool(PRITZ, measure="PFT", method="DL")
    assert sum(s.weight for s in result.studies if s.weight is not None) == pytest.approx(100)


def test_json_keys_are_the_cli_contract() -> None:
    data = pool(PRITZ, method="DL").to_dict()
    assert list(data) == [
        "k", "events", "total", "measure", "method", "test", "level", "study_ci", "estimate",
        "ci_lower", "ci_upper", "pi_lower", "pi_upper", "estimate_transformed", "se", "tau2",
        "tau2_ci_lower", "tau2_ci_upper", "i2", "q", "q_df", "q_pvalue", "q_lrt",
        "q_lrt_pvalue", "studies", "warnings",
    ]  # fmt: skip
    assert list(data["studies"][0]) == [
        "study", "events", "total", "proportion", "ci_lower", "ci_upper", "weight",
    ]  # fmt: skip


def test_ee_model_fixes_tau2_at_zero_and_has_no_tau2_ci_or_prediction_interval() -> None:
    """metafor's rma(method = "EE") has tau2 = 0: scripts comparing with it need no special case."""
    result = pool(PRITZ, method="EE", measure="PLO")
    assert result.tau2 == 0.0
    assert result.pi_lower is None and result.tau2_ci_lower is None
    assert pool(PRITZ.subset([0]), method="EE").tau2 == 0.0
    assert result.i2 == pytest.approx(100 * (result.q - 13) / result.q)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "FE"}, "unknown method 'FE'; use one of EE, DL, REML, PM, ML, HS, SJ, EB, "
         "HE, GLMM"),
        ({"test": "t"}, "unknown test 't'; use one of z, knha"),
        ({"measure": "OR"}, "unknown measure 'OR'; use one of PR, PLN, PLO, PAS, PFT"),
        ({"study_ci": "exact"}, "unknown study interval method 'exact'; use one of CP, WS, AC, SA"),
        ({"level": 95}, "confidence level must be between 0 and 1 (e.g. 0.95), not 95"),
        ({"nodes": 0}, "quadrature nodes must be a whole number >= 1, not 0"),
        ({"cc_mode": "always"}, "unknown continuity correction mode 'always'; use one of only0, "
         "all, if0all, none"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_with_a_clear_message(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputDataError) as error:
        pool(PRITZ, **{"method": "DL", **kwargs})
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("events", "totals", "message"),
    [
        ([5], [4], "study 'Study 1': events (5) exceed total (4)"),
        ([-1], [4], "study 'Study 1': events must not be negative (-1)"),
        ([1.5], [4], "study 'Study 1': events must be a whole number, not 1.5"),
        ([0], [0], "study 'Study 1': total is 0; a study needs at least 1 patient"),
        ([], [], "no studies to pool: give at least one study's events and total"),
    ],
)
def test_bad_counts_are_refused_before_pooling(
    events: list[object], totals: list[object], message: str
) -> None:
    with pytest.raises(InputDataError) as error:
        pool(make_counts(events, totals), method="DL")
    assert str(error.value) == message


def test_pool_needs_study_counts() -> None:
    with pytest.raises(InputDataError, match=r"^pool\(\) needs StudyCounts"):
        pool([(1, 2)])  # type: ignore[arg-type]


def test_pymare_dl_and_hedges_agree_with_our_closed_forms() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        from pymare.estimators import DerSimonianLaird, Hedges
    data = reference()["datasets"]["large"]
    result = pool(make_counts(data["events"], data["totals"]), measure="PLO", method="DL")
    y = np.array([[s.yi] for s in result.studies], dtype=float)
    v = np.array([[s.vi] for s in result.studies], dtype=float)
    X = np.ones((len(y), 1))
    for estimator, method in ((DerSimonianLaird, "DL"), (Hedges, "HE")):
        theirs = float(
            np.asarray(
                estimator(small_sample_correction="wald").fit(y=y, v=v, X=X).params_["tau2"]
            ).ravel()[0]
        )
        assert estimate_tau2(y[:, 0], v[:, 0], method).tau2 == pytest.approx(theirs, abs=1e-12)  # type: ignore[arg-type]


# ---- properties ---------------------------------------------------------------------------

study = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=60, deadline=None)
@given(st.lists(study, min_size=2, max_size=12), st.sampled_from(["PR", "PLO", "PAS", "PFT"]))
def test_ee_estimate_lies_within_the_range_of_study_estimates(
    studies: list[tuple[int, int]], measure: str
) -> None:
    counts = make_counts([e for e, _ in studies], [n for _, n in studies])
    result = pool(counts, measure=measure, method="EE")  # type: ignore[arg-type]
    yi = [s.yi for s in result.studies if s.yi is not None]
    assert min(yi) - 1e-12 <= result.estimate_transformed <= max(yi) + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.lists(study, min_size=2, max_size=10), st.sampled_from(TWO_STAGE), st.randoms())
def test_tau2_is_nonnegative_and_results_ignore_study_order(
    studies: list[tuple[int, int]], method: str, rng: Any
) -> None:
    counts = make_counts([e for e, _ in studies], [n for _, n in studies])
    try:
        result = pool(counts, measure="PLO", method=method)  # type: ignore[arg-type]
    except ConvergenceError:  # Fisher scoring can fail on odd data, as in metafor
        return
    assert result.tau2 is None or result.tau2 >= 0
    order = list(range(counts.k))
    rng.shuffle(order)
    shuffled = pool(counts.subset(order), measure="PLO", method=method)  # type: ignore[arg-type]
    assert shuffled.estimate == pytest.approx(result.estimate, abs=1e-9)
    assert shuffled.se == pytest.approx(result.se, abs=1e-9)
    if result.tau2 is not None:
        assert shuffled.tau2 == pytest.approx(result.tau2, abs=1e-7)


# ---- subgroups ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", reference()["subgroups"], ids=lambda c: f"{c['measure']}-{c['method']}-{c['test']}"
)
def test_q_between_matches_metafor_ee_model_on_subgroup_estimates(case: dict[str, Any]) -> None:
    counts = _counts(case["dataset"], case["subgroups"])
    result = pool_subgroups(
        counts, measure=case["measure"], method=case["method"], test=case["test"]
    )
    assert [name for name, _ in result.groups] == ["case report", "case series"]
    for (_, group), est, se in zip(
        result.groups, case["group_estimates"], case["group_se"], strict=True
    ):
        assert group.estimate_transformed == pytest.approx(est, abs=TOLERANCE)
        assert group.se == pytest.approx(se, abs=TOLERANCE)
    assert result.q_between == pytest.approx(case["q_between"], abs=TOLERANCE)
    assert result.q_between_pvalue == pytest.approx(case["q_between_pvalue"], abs=TOLERANCE)
    assert result.q_between_df == 1
    assert result.overall.k == counts.k


def test_subgroups_need_labels_on_every_study_and_two_groups() -> None:
    with pytest.raises(InputDataError) as error:
        pool_subgroups(make_counts([1, 2], [3, 4]), method="DL")
    assert str(error.value) == "no subgroups given: label each study with a subgroup"
    with pytest.raises(InputDataError) as error:
        pool_subgroups(make_counts([1, 2], [3, 4], subgroups=["a", None]), method="DL")
    assert str(error.value) == "study 'Study 2' has no subgroup; label every study (1 unlabelled)"
    with pytest.raises(InputDataError) as error:
        pool_subgroups(make_counts([1, 2], [3, 4], subgroups=["a", "a"]), method="DL")
    assert str(error.value) == "only one subgroup ('a'): a subgroup comparison needs at least two"


def test_single_study_subgroup_is_pooled_and_flagged() -> None:
    counts = make_counts([1, 2, 5], [1, 10, 12], subgroups=["report", "series", "series"])
    result = pool_subgroups(counts, method="DL")
    assert result.warnings == ("subgroup 'report' has one study: its estimate is that study's own",)


@pytest.mark.parametrize("measure", ["PLO", "PAS", "PFT"])
def test_totals_too_large_for_floating_point_are_refused(measure: str) -> None:
    with pytest.raises(InputDataError) as error:
        pool(make_counts([10**20, 1], [10**20, 2]), measure=measure, method="DL")  # type: ignore[arg-type]
    assert str(error.value) == (
        "study 'Study 1': total 100000000000000000000 is more than 1,000,000,000 patients; "
        "check the count"
    )
    at_limit = pool(make_counts([10**9, 1], [10**9, 2]), measure=measure, method="DL")  # type: ignore[arg-type]
    assert 0.5 < at_limit.estimate < 1


def test_glmm_says_a_requested_continuity_correction_is_ignored() -> None:
    counts = make_counts([0, 3, 2, 7, 1], [5, 3, 10, 9, 1])
    default = pool(counts, method="GLMM")
    assert not any("continuity correction" in w for w in default.warnings)
    asked = pool(counts, method="GLMM", cc=0.25, cc_mode="all")
    assert asked.warnings[0] == (
        "continuity correction (cc 0.25, cc_mode all) ignored: the GLMM models the counts "
        "and needs none"
    )
    assert asked.estimate == default.estimate


def test_a_subgroup_that_cannot_be_pooled_is_failed_and_the_others_are_pooled() -> None:
    counts = make_counts(
        [0, 0, 2, 7, 3, 5, 1],
        [5, 3, 10, 9, 8, 9, 4],
        subgroups=["x", "x", "y", "y", "z", "z", "z"],
    )
    result = pool_subgroups(counts, method="GLMM")
    assert [name for name, _ in result.groups] == ["y", "z"]
    (failed,) = result.failed
    assert (failed.name, failed.k) == ("x", 2)
    assert failed.error.startswith(
        "the GLMM cannot be fitted: no study has any event, so the logit-scale estimate is "
        "infinite; no model estimates a proportion from such data"
    )
    assert f"subgroup 'x' not pooled: {failed.error}" in result.warnings
    y, z = (group for _, group in result.groups)
    assert (result.q_between, result.q_between_df) == q_between([y, z])[:2]
    assert result.names == ("x", "y", "z")
    assert result.overall == pool(counts, method="GLMM")
    line = subgroup_test_line(result)
    assert line.startswith(
        "Test for subgroup differences (over the 2 subgroups that could be pooled: 'y', 'z'): "
        f"Q = {result.q_between:.2f}, df = 1, p "
    )
    groups = result.to_dict()["subgroups"]
    assert [(g["subgroup"], g["failed"], g["error"] is None) for g in groups["groups"]] == [
        ("x", True, False),
        ("y", False, True),
        ("z", False, True),
    ]
    assert list(groups["groups"][0]) == ["subgroup", "failed", "error", "k", "studies"]
    assert [s["study"] for s in groups["groups"][0]["studies"]] == ["Study 1", "Study 2"]
    assert groups["q_between_subgroups"] == ["y", "z"]


def test_with_fewer_than_two_pooled_subgroups_the_q_between_test_is_not_computed() -> None:
    counts = make_counts([0, 0, 2, 7], [5, 3, 10, 9], subgroups=["x", "x", "y", "y"])
    result = pool_subgroups(counts, method="GLMM")
    assert [f.name for f in result.failed] == ["x"]
    assert result.q_between is result.q_between_df is result.q_between_pvalue is None
    assert subgroup_test_line(result) == (
        "Test for subgroup differences: not computed (only 1 subgroup could be pooled)"
    )
    rows = summarise(result).rows
    failed_subtotal = rows[3]
    assert (failed_subtotal.kind, failed_subtotal.label) == ("subtotal", "Subtotal: x")
    assert (failed_subtotal.events_n, failed_subtotal.ci_text) == ("0/8", "not pooled")
    assert failed_subtotal.estimate is None and failed_subtotal.error == result.failed[0].error
    assert [r.label for r in rows[:3]] == ["x", "Study 1", "Study 2"]


# ---- leave-one-out ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", reference()["leave1out"], ids=lambda c: f"{c['measure']}-{c['test']}"
)
def test_leave_one_out_matches_metafor_leave1out(case: dict[str, Any]) -> None:
    results = leave_one_out(
        _counts(case["dataset"]), measure=case["measure"], method="REML", test=case["test"]
    )
    assert [name for name, _ in results] == list(_counts(case["dataset"]).studies)
    for i, (_, r) in enumerate(results):
        assert r.estimate_transformed == pytest.approx(case["estimate"][i], abs=TOLERANCE)
        assert r.se == pytest.approx(case["se"][i], abs=TOLERANCE)
        assert r.tau2 == pytest.approx(case["tau2"][i], abs=TOLERANCE)
        assert r.q == pytest.approx(case["q"][i], abs=TOLERANCE)
        assert r.i2 == pytest.approx(case["i2"][i], abs=TOLERANCE)


def test_leave_one_out_needs_two_studies_and_names_the_study_of_a_failure() -> None:
    with pytest.raises(InputDataError, match=r"^leave-one-out needs at least two studies$"):
        leave_one_out(make_counts([1], [2]), method="DL")
    counts = make_counts([0, 0, 3], [4, 5, 9], ["A", "B", "C"])
    with pytest.raises(InputDataError) as error:
        leave_one_out(counts, method="DL", measure="PLO", cc_mode="none")
    assert str(error.value).startswith("leaving out study 'A': study 'B': 0 events of 5 give no")


# ---- meta-regression ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", reference()["metareg"], ids=lambda c: f"{c['method']}-{c['test']}")
def test_meta_regression_by_pymare_matches_metafor_rma_mods(case: dict[str, Any]) -> None:
    data = reference()["datasets"][case["dataset"]]
    counts = make_counts(data["events"], data["totals"])
    covariates = {
        "logn": [math.log(n) for n in data["totals"]],
        "big": [1.0 if n >= 20 else 0.0 for n in data["totals"]],
    }
    result = meta_regression(counts, covariates, method=case["method"], test=case["test"])
    tol = TOLERANCE if case["method"] in ("DL", "HE") else METAREG_LIKELIHOOD_TOLERANCE
    assert result.tau2 == pytest.approx(case["tau2"], abs=tol)
    assert [c.name for c in result.coefficients] == ["intercept", "logn", "big"]
    for key in ("estimate", "se", "ci_lower", "ci_upper", "pvalue"):
        ours = [getattr(c, key) for c in result.coefficients]
        assert ours == pytest.approx(case[key], abs=tol), key


def test_meta_regression_refuses_bad_covariates() -> None:
    with pytest.raises(InputDataError) as error:
        meta_regression(PRITZ, {"year": [2000] * 13})
    assert str(error.value) == "covariate 'year' has 13 values for 14 studies"
    with pytest.raises(InputDataError) as error:
        meta_regression(PRITZ, {"year": ["x"] + [1] * 13})
    assert str(error.value) == "study 'Study 1': covariate 'year' must be a number, not 'x'"
    with pytest.raises(InputDataError) as error:
        meta_regression(PRITZ, {"same": [1] * 14})
    assert str(error.value).startswith("the covariates are collinear (or constant)")
    with pytest.raises(InputDataError) as error:
        meta_regression(PRITZ, {"x": list(range(14))}, method="SJ")
    assert (
        str(error.value)
        == "meta-regression supports the tau2 estimators DL, HE, ML, REML, not 'SJ'"
    )


# ---- no study with an event, or every patient with it -----------------------------------------

NO_EVENTS = make_counts([0, 0, 0], [4, 4, 4], ["A", "B", "C"])
ALL_EVENTS = make_counts([4, 1, 5], [4, 1, 5], ["A", "B", "C"])


def test_naive_pooling_is_the_exact_interval_of_the_summed_counts() -> None:
    naive = naive_pooling(NO_EVENTS.events, NO_EVENTS.totals)
    assert (naive.events, naive.total, naive.proportion) == (0, 12, 0.0)
    assert naive.ci_lower == 0.0
    assert naive.ci_upper == pytest.approx(1 - 0.025 ** (1 / 12), abs=1e-12)  # R: 0.2646
    assert (naive.ci_lower, naive.ci_upper) == proportion_ci(0, 12, "CP")
    assert naive.describe() == (
        "0/12 = 0.0% [0.0, 26.5], the exact Clopper-Pearson 95% interval (naive pooling, "
        "which ignores differences between studies)"
    )
    full = naive_pooling(ALL_EVENTS.events, ALL_EVENTS.totals, level=0.9)
    assert full.ci_lower == pytest.approx(0.05 ** (1 / 10), abs=1e-12) and full.ci_upper == 1.0


def test_two_stage_pooling_of_no_events_says_the_result_is_the_corrections() -> None:
    """REML on 0/4, 0/4, 0/4 gives 10.0% [2.0, 37.5]: logit(0.5 / 5), made by the correction."""
    result = pool(NO_EVENTS, method="REML")
    assert round(result.estimate, 3) == 0.1
    assert result.warnings[-1] == (
        "no study has any event: the pooled estimate and its interval come from the continuity "
        "correction, not from the data; report the summed counts instead: 0/12 = 0.0% "
        "[0.0, 26.5], the exact Clopper-Pearson 95% interval (naive pooling, which ignores "
        "differences between studies)"
    )
    arcsine = pool(ALL_EVENTS, method="REML", measure="PAS")
    assert arcsine.warnings[-1].startswith(
        "every patient had the event: the pooled estimate and its interval rest on a normal "
        "approximation at 100%, which such data cannot support; report the summed counts "
        "instead: 10/10 = 100.0% [69.2, 100.0]"
    )
    assert not any("report the summed counts" in w for w in pool(PRITZ, method="REML").warnings)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("cc_mode", CC_MODES)
def test_no_events_never_suggest_an_option_that_makes_a_result_up(
    method: str, measure: str, cc_mode: str
) -> None:
    """Every way of pooling 0/12 either refuses or warns, and points at the summed counts,
    never at a continuity correction, another method or the GLMM."""
    try:
        result = pool(NO_EVENTS, method=method, measure=measure, cc_mode=cc_mode)  # type: ignore[arg-type]
    except MetaError as exc:
        message = str(exc)
    else:
        message = result.warnings[-1]
    assert "report the summed counts" in message and "0/12 = 0.0% [0.0, 26.5]" in message
    for trap in ("--method", "--cc", "--measure", "method GLMM", "measure PAS"):
        assert trap not in message
