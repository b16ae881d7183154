"""Two-stage pooling agrees with metafor to 1e-6 on every reference case.

The numbers come from tests/reference/metafor_reference.json, written by
tests/reference/metafor_reference.R (metafor 3.8-1; rerun it to refresh).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from meta.counts import make_counts
from meta.errors import ConvergenceError, InputDataError
from meta.pooling import KNHA_EE_WARNING, pool
from meta.study_ci import proportion_ci
from meta.tau2 import LOCAL_MAXIMUM

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "metafor_reference.json"
TOLERANCE = 1e-6
# the reference set may grow, never shrink: raise these when the R script gains cases
MIN_CASES = 754
MIN_OK_CASES = 736
MIN_FAILED_CASES = 6
MIN_NOT_CONVERGED_CASES = 12
MIN_STUDY_INTERVALS = 9

SCALARS = (
    "estimate_transformed",
    "se",
    "estimate",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2",
    "h2",
    "q",
    "q_pvalue",
)


@cache
def reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def _cases(*statuses: str) -> list[dict[str, Any]]:
    return [c for c in reference()["cases"] if c["status"] in statuses]


def _not_converged_cases() -> list[dict[str, Any]]:
    return [c for c in _cases("error") if "did not converge" in c["error"]]


def _bad_data_cases() -> list[dict[str, Any]]:
    return [c for c in _cases("error", "omitted") if "did not converge" not in c["error"]]


def _case_id(case: dict[str, Any]) -> str:
    return "-".join(
        str(case[key]) for key in ("dataset", "measure", "method", "test", "cc_mode", "cc")
    )


def _pool(case: dict[str, Any]):  # type: ignore[no-untyped-def]
    data = reference()["datasets"][case["dataset"]]
    counts = make_counts(data["events"], data["totals"])
    return pool(
        counts,
        measure=case["measure"],
        method=case["method"],
        test=case["test"],
        level=case["level"],
        cc=case["cc"],
        cc_mode=case["cc_mode"],
    )


def _close(ours: float | None, theirs: float | None) -> bool:
    if theirs is None or ours is None:
        return ours is None and theirs is None
    return math.isclose(ours, theirs, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def test_reference_cases_never_shrink() -> None:
    ref = reference()
    assert len(ref["cases"]) >= MIN_CASES
    assert len(_cases("ok")) >= MIN_OK_CASES
    assert len(_bad_data_cases()) >= MIN_FAILED_CASES
    assert len(_not_converged_cases()) >= MIN_NOT_CONVERGED_CASES
    assert len(ref["study_ci"]) >= MIN_STUDY_INTERVALS


def test_reference_covers_every_measure_estimator_and_test_on_each_dataset() -> None:
    combos = {
        (c["dataset"], c["measure"], c["method"], c["test"])
        for c in reference()["cases"]
        if c["cc_mode"] == "only0" and (c["status"] == "ok" or c["dataset"] == "no_convergence")
    }
    datasets = reference()["datasets"]
    for name in datasets:
        for measure in ("PR", "PLN", "PLO", "PAS", "PFT"):
            for method in ("EE", "DL", "REML", "PM", "ML", "HS", "SJ", "EB", "HE"):
                for test in ("z", "knha"):
                    assert (name, measure, method, test) in combos
    sizes = {name: len(d["totals"]) for name, d in datasets.items()}
    assert min(sizes.values()) == 2
    assert max(sizes.values()) >= 100
    sparse = datasets["sparse"]
    assert any(e == 0 for e in sparse["events"])
    assert any(e == n for e, n in zip(sparse["events"], sparse["totals"], strict=True))


@pytest.mark.parametrize("case", _cases("ok"), ids=_case_id)
def test_two_stage_result_matches_metafor(case: dict[str, Any]) -> None:
    result = _pool(case)
    mismatches = {
        key: (getattr(result, key), case[key])
        for key in SCALARS
        if not _close(getattr(result, key), case[key])
    }
    assert not mismatches
    studies = result.studies
    if case.get("weights") is not None:
        assert all(_close(s.weight, w) for s, w in zip(studies, case["weights"], strict=True))
    if case.get("yi") is not None:
        assert all(_close(s.yi, y) for s, y in zip(studies, case["yi"], strict=True))
        assert all(_close(s.vi, v) for s, v in zip(studies, case["vi"], strict=True))
    if any("local maximum" in w for w in case["r_warnings"]):
        assert LOCAL_MAXIMUM in result.warnings
    if any("Knapp & Hartung" in w for w in case["r_warnings"]):
        assert KNHA_EE_WARNING in result.warnings


@pytest.mark.parametrize("case", _bad_data_cases(), ids=_case_id)
def test_data_metafor_cannot_pool_is_refused_with_a_clear_error(case: dict[str, Any]) -> None:
    """metafor stops, or silently drops studies with infinite values; we refuse and say why."""
    with pytest.raises(InputDataError, match=r"give no finite .* use a continuity correction"):
        _pool(case)


@pytest.mark.parametrize("case", _not_converged_cases(), ids=_case_id)
def test_fisher_scoring_failure_is_a_convergence_error_as_in_metafor(case: dict[str, Any]) -> None:
    with pytest.raises(ConvergenceError, match="Fisher scoring algorithm did not converge"):
        _pool(case)


def test_per_study_values_are_in_the_reference_for_every_measure_and_estimator() -> None:
    ok = _cases("ok")
    assert sum(c.get("yi") is not None for c in ok) >= 40
    assert sum(c.get("weights") is not None for c in ok) >= 380


def test_local_maximum_case_is_in_the_reference() -> None:
    flagged = [c for c in _cases("ok") if any("local maximum" in w for w in c["r_warnings"])]
    assert flagged
    assert all(c["tau2"] == 0 for c in flagged)


@pytest.mark.parametrize(
    "interval", reference()["study_ci"], ids=lambda i: f"{i['events']}of{i['total']}"
)
def test_study_intervals_match_r(interval: dict[str, Any]) -> None:
    for method in ("CP", "WS", "AC", "SA"):
        lower, upper = proportion_ci(interval["events"], interval["total"], method)
        assert _close(lower, interval[method][0]), method
        assert _close(upper, interval[method][1]), method
