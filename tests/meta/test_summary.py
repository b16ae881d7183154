"""The one summary of a pooled result: the terminal and the forest plot say the same."""

from __future__ import annotations

from meta.counts import make_counts
from meta.forest_layout import GLMM_TESTS_NOTE, forest_rows
from meta.pooling import GLMM_WALD_NOTE, pool
from meta.subgroups import pool_counts
from meta.summary import heterogeneity_line, summarise

COUNTS = make_counts(
    [4, 1, 0, 3],
    [8, 1, 1, 6],
    ["Narváez 2019", "Daoussis 2012", "Poormoghim 2016", "Other"],
    ["series", "reports", "reports", "series"],
)


def test_rows_cover_studies_subtotals_overall_and_prediction_interval() -> None:
    summary = summarise(pool_counts(COUNTS, by_subgroup=True, method="REML"))
    kinds = [r.kind for r in summary.rows]
    assert kinds == [
        "group", "study", "study", "subtotal",
        "group", "study", "study", "subtotal",
        "overall", "pi",
    ]  # fmt: skip
    assert summary.rows[3].events_n == "7/14" and summary.rows[3].label == "Subtotal: series"
    assert summary.rows[-2].events_n == "8/16"
    assert summary.subgroup_test is not None
    assert summary.subgroup_test.startswith("Test for subgroup differences: Q = ")
    assert summary.show_weights and summary.rows[-2].weight_text == "100.0%"
    series, reports = (r.heterogeneity for r in summary.rows if r.kind == "subtotal")
    assert summary.group_heterogeneity == (
        series.replace("Heterogeneity:", "Heterogeneity within series:"),
        reports.replace("Heterogeneity:", "Heterogeneity within reports:"),
    )


def test_the_forest_plot_uses_the_summarys_lines() -> None:
    result = pool(COUNTS, method="DL")
    summary = summarise(result)
    layout = forest_rows(result)
    notes = [r.note for r in layout.rows if r.kind == "note"]
    assert notes == [summary.heterogeneity] == [heterogeneity_line(result)]
    assert [r.ci_text for r in layout.rows if r.kind == "study"] == [
        r.ci_text for r in summary.rows if r.kind == "study"
    ]


def test_glmm_has_no_weights_and_says_it_gives_the_median() -> None:
    summary = summarise(pool(COUNTS))
    assert summary.title == "4 studies; GLMM, median proportion"
    assert not summary.show_weights
    assert all(r.weight is None for r in summary.rows)
    assert any("median proportion" in w for w in summary.warnings)


def test_each_warning_is_shown_once_with_its_subgroup_named() -> None:
    counts = make_counts(
        [4, 1, 0, 0], [8, 1, 1, 5], ["A", "B", "C", "D"], ["series", "reports", "reports", "series"]
    )
    summary = summarise(pool_counts(counts, by_subgroup=True, method="DL"))
    assert summary.warnings == (
        "continuity correction 0.5 added to both cells of 3 studies (cc_mode only0)",
        "series: continuity correction 0.5 added to both cells of 1 study (cc_mode only0)",
        "reports: continuity correction 0.5 added to both cells of 2 studies (cc_mode only0)",
    )


WORKED = make_counts([4, 1, 0], [8, 1, 1], ["Narváez 2019", "Daoussis 2012", "Poormoghim 2016"])


def test_glmm_heterogeneity_line_gives_both_of_metafors_tests() -> None:
    """The Wald-type Q is 0 here (0% and 100% studies); the LRT is 4 log 2 = 2.77, p = 0.25."""
    result = pool(WORKED)
    assert heterogeneity_line(result) == (
        "Heterogeneity: τ² = 0; I² = 0.0%; Wald Q = 0.00, df = 2, p = 1.000; "
        "LRT = 2.77, df = 2, p = 0.250"
    )
    assert GLMM_WALD_NOTE in summarise(result).warnings
    layout = forest_rows(result)
    assert [r.note for r in layout.rows if r.kind == "note"] == [heterogeneity_line(result)]
    assert GLMM_TESTS_NOTE in layout.footnotes
    assert GLMM_WALD_NOTE not in pool(make_counts([3, 5, 2], [10, 12, 9])).warnings
    two_stage = pool(WORKED, method="DL")
    assert "LRT" not in heterogeneity_line(two_stage) and two_stage.q_lrt is None
    assert GLMM_TESTS_NOTE not in forest_rows(two_stage).footnotes


def test_ee_heterogeneity_line_says_the_model_fixes_tau2_at_zero() -> None:
    result = pool(COUNTS, method="EE")
    assert heterogeneity_line(result).startswith(
        "Heterogeneity: τ² = 0 (fixed by the common-effect model); I² = "
    )
    notes = forest_rows(result).footnotes
    assert "I² as in metafor for a common-effect model: (Q − df) / Q." in notes
