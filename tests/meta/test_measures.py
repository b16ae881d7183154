"""Effect measures, continuity correction, back-transformations, study intervals, uniroot."""

from __future__ import annotations

import math

import pytest

from meta.errors import ConvergenceError, InputDataError
from meta.measures import back_transform, correction_flags, escalc, expit, ipft, pft
from meta.study_ci import proportion_ci
from meta.tau2 import uniroot


def test_plo_only0_adds_half_to_both_cells_of_zero_and_all_event_studies() -> None:
    effects = escalc([0, 3, 5], [5, 10, 5], "PLO")
    assert effects.corrected == (True, False, True)
    assert effects.yi[0] == pytest.approx(math.log(0.5 / 5.5))
    assert effects.vi[0] == pytest.approx(1 / 0.5 + 1 / 5.5)
    assert effects.yi[1] == pytest.approx(math.log(3 / 7))
    assert effects.vi[1] == pytest.approx(1 / 3 + 1 / 7)
    assert effects.yi[2] == pytest.approx(math.log(5.5 / 0.5))


def test_pas_and_pft_take_no_correction_in_mode_only0() -> None:
    for measure in ("PAS", "PFT"):
        assert escalc([0, 5], [5, 5], measure).corrected == (False, False)
    assert escalc([0], [4], "PAS").yi == (0.0,)
    assert escalc([0], [4], "PFT").yi[0] == pytest.approx(0.5 * math.asin(math.sqrt(1 / 5)))


def test_modes_all_and_if0all_correct_every_study_and_apply_to_pft() -> None:
    assert correction_flags([1, 2], [5, 5], "PLO", 0.5, "all") == (True, True)
    assert correction_flags([1, 2], [5, 5], "PLO", 0.5, "if0all") == (False, False)
    assert correction_flags([0, 2], [5, 5], "PLO", 0.5, "if0all") == (True, True)
    assert correction_flags([0, 2], [5, 5], "PFT", 0.5, "if0all") == (True, True)
    effects = escalc([2], [5], "PFT", cc=0.5, cc_mode="all")
    assert effects.yi[0] == pytest.approx(pft(2.5, 6.0))
    assert effects.vi[0] == pytest.approx(1 / 26)


def test_pr_and_pln_variances_follow_escalc() -> None:
    pr = escalc([3], [10], "PR")
    assert pr.yi == (0.3,)
    assert pr.vi[0] == pytest.approx(0.3 * 0.7 / 10)
    pln = escalc([3], [10], "PLN")
    assert pln.yi[0] == pytest.approx(math.log(0.3))
    assert pln.vi[0] == pytest.approx(1 / 3 - 1 / 10)


def test_zero_events_without_correction_is_refused_naming_the_study() -> None:
    with pytest.raises(InputDataError) as error:
        escalc([0, 3], [4, 10], "PLO", cc_mode="none", studies=["Case 1", "Series 2"])
    assert str(error.value) == (
        "study 'Case 1': 0 events of 4 give no finite PLO value with positive variance; "
        "use a continuity correction (e.g. --cc 0.5 --cc-mode only0), measure PAS or PFT, "
        "or method GLMM"
    )
    with pytest.raises(InputDataError) as error:  # a zero correction is no correction
        escalc([0, 3], [4, 10], "PLO", cc=0, cc_mode="all", studies=["Case 1", "Series 2"])
    assert "use a continuity correction (e.g. --cc 0.5 --cc-mode only0)" in str(error.value)


def test_no_events_anywhere_without_correction_suggests_no_correction() -> None:
    """A correction, or the GLMM, cannot help when no study has an event: no trap offered."""
    with pytest.raises(InputDataError) as error:
        escalc([0, 0], [4, 10], "PLO", cc_mode="none", studies=["Case 1", "Series 2"])
    assert str(error.value) == (
        "study 'Case 1': 0 events of 4 give no finite PLO value with positive variance; no "
        "study has any event, so no model estimates a proportion from these data (a "
        "continuity correction would invent the events); report the summed counts with their "
        "exact interval instead"
    )


def test_unknown_measure_and_mode_and_negative_correction_are_refused() -> None:
    with pytest.raises(InputDataError, match=r"^unknown measure 'LOGIT'; use one of PR, PLN"):
        escalc([1], [2], "LOGIT")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match=r"^unknown continuity correction mode 'some'"):
        escalc([1], [2], "PLO", cc_mode="some")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match=r"^continuity correction must be a number >= 0"):
        escalc([1], [2], "PLO", cc=-0.5)


def test_back_transformations_invert_the_measures() -> None:
    p = 0.37
    assert back_transform(p, "PR") == p
    assert back_transform(math.log(p), "PLN") == pytest.approx(p)
    assert back_transform(math.log(p / (1 - p)), "PLO") == pytest.approx(p)
    assert back_transform(math.asin(math.sqrt(p)), "PAS") == pytest.approx(p)
    assert back_transform(-0.1, "PAS") == 0.0
    assert back_transform(2.0, "PAS") == 1.0
    for x, n in ((0, 7), (3, 7), (7, 7), (1, 1)):
        assert ipft(pft(x, n), n) == pytest.approx(x / n, abs=1e-12)
    assert back_transform(10.0, "PFT", 5.0) == 1.0
    assert back_transform(0.0, "PFT", 5.0) == 0.0
    with pytest.raises(InputDataError, match="harmonic mean"):
        back_transform(0.5, "PFT")


def test_expit_does_not_overflow() -> None:
    assert expit(1000.0) == 1.0
    assert expit(-1000.0) == 0.0
    assert expit(0.0) == 0.5


def test_clopper_pearson_is_exact_at_the_edges() -> None:
    lower, upper = proportion_ci(0, 10)
    assert lower == 0.0
    assert upper == pytest.approx(1 - 0.025 ** (1 / 10))
    lower, upper = proportion_ci(10, 10)
    assert lower == pytest.approx(0.025 ** (1 / 10))
    assert upper == 1.0


def test_every_study_interval_contains_the_proportion_and_stays_in_unit_range() -> None:
    for method in ("CP", "WS", "AC", "SA"):
        for x, n in ((0, 1), (1, 1), (0, 5), (2, 5), (5, 5), (40, 41)):
            lower, upper = proportion_ci(x, n, method)  # type: ignore[arg-type]
            assert 0.0 <= lower <= x / n <= upper <= 1.0
            assert 0.0 <= lower <= upper <= 1.0


def test_wald_interval_has_zero_width_at_zero_events() -> None:
    assert proportion_ci(0, 8, "SA") == (0.0, 0.0)


def test_study_interval_rejects_unknown_method_and_bad_level() -> None:
    with pytest.raises(InputDataError, match=r"^unknown study interval method 'exact'; use one"):
        proportion_ci(1, 2, "exact")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match=r"^confidence level must be between 0 and 1"):
        proportion_ci(1, 2, "CP", 95)


def test_uniroot_finds_roots_like_r() -> None:
    root, iterations, converged = uniroot(lambda x: x * x - 2, 0.0, 2.0, tol=1e-12)
    assert converged
    assert root == pytest.approx(math.sqrt(2), abs=1e-11)
    assert iterations > 0
    with pytest.raises(ConvergenceError, match="same sign"):
        uniroot(lambda x: x * x + 1, 0.0, 2.0)
