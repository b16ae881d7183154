"""The sensitivity table: models, leave-one-out, without n = 1 reports, without named studies."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import meta.sensitivity as sensitivity
from meta.counts import make_counts
from meta.errors import ConvergenceError, InputDataError
from meta.pooling import pool
from meta.results import PoolResult
from meta.sensitivity import (
    NO_SINGLE_CASES,
    WITHOUT_SINGLE_CASES,
    sensitivity_table,
)

WORKED = make_counts([4, 1, 0], [8, 1, 1], ["Narváez 2019", "Daoussis 2012", "Poormoghim 2016"])
SERIES = make_counts([3, 5, 2, 7], [10, 12, 9, 15], ["A", "B", "C", "D"])


def test_rows_in_order_models_then_subsets() -> None:
    table = sensitivity_table(WORKED, without=["Narváez 2019"])
    assert [(r.label, r.model) for r in table.rows] == [
        ("All studies", "GLMM"),
        ("All studies", "PLO REML z"),
        ("All studies", "PLO REML knha"),
        ("All studies", "PLO DL z"),
        ("All studies", "PLO DL knha"),
        ("All studies", "PAS REML z"),
        ("All studies", "PAS REML knha"),
        ("All studies", "PFT REML z"),
        ("All studies", "PFT REML knha"),
        ("Leave out Narváez 2019", "GLMM"),
        ("Leave out Daoussis 2012", "GLMM"),
        ("Leave out Poormoghim 2016", "GLMM"),
        (WITHOUT_SINGLE_CASES, "GLMM"),
        ("Without Narváez 2019", "GLMM"),
    ]
    assert [r.k for r in table.rows[-5:]] == [2, 2, 2, 1, 2]
    # without the series only 1/1 and 0/1 are left: the GLMM cannot be fitted, the row
    # says why and the table stands
    failed = [r.label for r in table.rows if r.failed]
    assert failed == ["Leave out Narváez 2019", "Without Narváez 2019"]
    assert "the GLMM cannot be fitted" in (table.rows[-1].error or "")
    assert table.rows[-1].estimate is None


def test_each_row_is_the_pooled_result_of_its_model_and_subset() -> None:
    table = sensitivity_table(SERIES, method="REML", test="knha")
    dl_knha = next(r for r in table.rows if r.model == "PLO DL knha")
    expected = pool(SERIES, method="DL", test="knha")
    assert dl_knha.estimate == expected.estimate
    assert dl_knha.ci == (expected.ci_lower, expected.ci_upper)
    assert dl_knha.pi == (expected.pi_lower, expected.pi_upper)
    assert dl_knha.tau2 == expected.tau2 and dl_knha.i2 == expected.i2
    pft = next(r for r in table.rows if r.model == "PFT REML z")
    assert any("harmonic mean" in w for w in pft.warnings)
    loo = next(r for r in table.rows if r.label == "Leave out B")
    without_b = pool(SERIES.subset([0, 2, 3]), method="REML", test="knha")
    assert (loo.model, loo.k, loo.estimate) == ("PLO REML knha", 3, without_b.estimate)


def test_without_single_cases_when_none_or_all_are_single_cases() -> None:
    none = next(r for r in sensitivity_table(SERIES).rows if r.label == WITHOUT_SINGLE_CASES)
    assert none.k == 4
    assert none.warnings[0] == NO_SINGLE_CASES
    only_cases = make_counts([1, 0, 1], [1, 1, 1])
    row = next(r for r in sensitivity_table(only_cases).rows if r.label == WITHOUT_SINGLE_CASES)
    assert row.failed
    assert row.error == "every study is a single-case report"
    assert row.to_dict()["estimate"] is None


def test_unknown_study_to_leave_out_lists_the_known_ones() -> None:
    with pytest.raises(InputDataError) as info:
        sensitivity_table(WORKED, without=["Narvaez 2019", "Daoussis 2012"])
    assert str(info.value) == (
        "cannot leave out 'Narvaez 2019': no such study; the studies are: "
        "'Narváez 2019', 'Daoussis 2012', 'Poormoghim 2016'"
    )


def test_leaving_out_every_study_is_a_failed_row_not_an_error() -> None:
    table = sensitivity_table(WORKED, without=list(WORKED.studies), method="DL")
    last = table.rows[-1]
    assert last.label == "Without Narváez 2019, Daoussis 2012, Poormoghim 2016"
    assert last.failed and last.error == "no studies left to pool"


def test_one_study_has_no_leave_one_out_rows() -> None:
    table = sensitivity_table(make_counts([4], [8]), method="DL")
    assert not any(r.label.startswith("Leave out") for r in table.rows)


def test_a_failing_model_is_a_failed_row_and_python_warnings_are_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def flaky_pool(counts: Any, **options: Any) -> PoolResult:
        if options["method"] == "GLMM":
            raise ConvergenceError("GLMM did not converge after 2 attempts")
        if options["measure"] == "PAS":
            warnings.warn("optimiser hit its iteration limit", RuntimeWarning, stacklevel=1)
        return pool(counts, **options)

    monkeypatch.setattr(sensitivity, "pool", flaky_pool)
    table = sensitivity_table(SERIES)
    glmm = [r for r in table.rows if r.method == "GLMM"]
    assert len(glmm) == 1 + 4 + 1
    assert all(r.failed and r.error == "GLMM did not converge after 2 attempts" for r in glmm)
    assert all(not r.failed for r in table.rows if r.method != "GLMM")
    pas = next(r for r in table.rows if r.model == "PAS REML z")
    assert "optimiser hit its iteration limit" in pas.warnings
    data = table.to_dict()
    assert data["rows"][0]["failed"] is True
    assert data["rows"][0]["error"] == "GLMM did not converge after 2 attempts"


def test_bad_options_are_one_error_not_failed_rows() -> None:
    with pytest.raises(InputDataError) as info:
        sensitivity_table(WORKED, level=1.5)
    assert str(info.value) == "confidence level must be between 0 and 1 (e.g. 0.95), not 1.5"
    with pytest.raises(InputDataError) as info:
        sensitivity_table(WORKED, method="XX")  # type: ignore[arg-type]
    assert str(info.value) == (
        "unknown method 'XX'; use one of EE, DL, REML, PM, ML, HS, SJ, EB, HE, GLMM"
    )


def test_progress_is_reported_after_every_row() -> None:
    seen: list[tuple[int, int]] = []
    table = sensitivity_table(
        SERIES,
        without=["A"],
        method="DL",
        progress=lambda _phase, d, t, _unit="": seen.append((d, t)),
    )
    total = len(table.rows)
    assert total == 9 + 4 + 1 + 1
    assert seen == [(i, total) for i in range(1, total + 1)]


def test_subgroups_are_left_out_in_turn_by_the_primary_model() -> None:
    counts = make_counts(
        [4, 1, 0, 3], [8, 1, 1, 6], ["A", "B", "C", "D"], ["series", "report", "report", "series"]
    )
    table = sensitivity_table(counts, method="DL", subgroup="design")
    last = table.rows[-2:]
    assert [(r.label, r.kind, r.k) for r in last] == [
        ("Without series (design)", "without", 2),
        ("Without report (design)", "without", 2),
    ]
    assert last[1].estimate == pool(counts.subset([0, 3]), method="DL").estimate
    unlabelled = make_counts([4, 1], [8, 1], ["A", "B"], ["series", None])
    with pytest.raises(InputDataError) as info:
        sensitivity_table(unlabelled, subgroup="design")
    assert str(info.value) == "study 'B' has no design; label every study (1 unlabelled)"


def test_the_primary_model_on_all_studies_is_the_tables_reference() -> None:
    table = sensitivity_table(SERIES, method="DL", test="knha")
    assert table.primary is not None
    assert (table.primary.model, table.primary.kind) == ("PLO DL knha", "method")
    assert table.primary in table.rows  # one of the model rows, not fitted twice
    ee = sensitivity_table(SERIES, method="EE")  # not among the models: pooled for itself
    assert ee.primary is not None and ee.primary not in ee.rows
    assert ee.primary.estimate == pool(SERIES, method="EE").estimate
    assert ee.to_dict()["primary"]["method"] == "EE"
    kinds = [r.kind for r in ee.rows]
    assert kinds == ["method"] * 9 + ["leave-one-out"] * 4 + ["without-single-case-reports"]
    assert [r["kind"] for r in ee.to_dict()["rows"]] == kinds


def test_notes_are_numbered_once_in_the_order_they_first_appear() -> None:
    table = sensitivity_table(WORKED, without=["Narváez 2019"])
    refs, notes = table.notes()
    assert len(refs) == len(table.rows)
    assert refs[0] == "1,2" and notes[0].startswith("GLMM: the estimate is the median")
    failed = [i for i, r in enumerate(table.rows) if r.failed]
    assert refs[failed[0]] == refs[failed[1]]
    assert notes[int(refs[failed[0]]) - 1].startswith("failed: the GLMM cannot be fitted")
    assert len(set(notes)) == len(notes)


def test_study_intervals_are_passed_to_every_fit_and_checked() -> None:
    table = sensitivity_table(SERIES, study_ci="WS")
    assert table.study_ci == "WS" and table.to_dict()["study_ci"] == "WS"
    with pytest.raises(InputDataError, match="unknown study interval method 'XX'"):
        sensitivity_table(SERIES, study_ci="XX")  # type: ignore[arg-type]
