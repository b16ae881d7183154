"""Meta-regression of transformed proportions on study covariates, fitted by PyMARE.

Mixed-effects model y_i = x_i'beta + u_i + e_i (Berkey et al. 1995; Thompson & Higgins
2002) with tau2 by DL (PyMARE ``DerSimonianLaird``), HE (``Hedges``), ML or REML
(``VarianceBasedLikelihoodEstimator``). PyMARE >= 0.0.11 applies the Knapp-Hartung
correction by default; we pass ``small_sample_correction="wald"`` for test z and
``"knapp-hartung"`` for knha, which then equal metafor's ``rma(mods=..., test=...)``
(z: normal; knha: vb * RSS/(k - p), t on k - p df). DL and HE are closed-form and agree
with metafor to rounding; PyMARE maximises the ML/REML likelihood numerically where
metafor uses Fisher scoring, so those agree to about 1e-6 on tau2 (tests/test_meta_pooling.py
records the tolerance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meta.counts import StudyCounts
from meta.errors import InputDataError
from meta.measures import escalc
from meta.study_ci import check_level
from meta.types import CCMode, Measure, Test

METAREG_METHODS = ("DL", "HE", "ML", "REML")


@dataclass(frozen=True)
class Coefficient:
    """One regression coefficient on the measure's scale."""

    name: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pvalue: float


@dataclass(frozen=True)
class MetaRegressionResult:
    """Coefficients (intercept first), residual tau2 and the options used."""

    k: int
    measure: Measure
    method: str
    test: Test
    level: float
    coefficients: tuple[Coefficient, ...]
    tau2: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "tau2": self.tau2,
            "coefficients": [c.__dict__.copy() for c in self.coefficients],
            "warnings": list(self.warnings),
        }


def _design(counts: StudyCounts, covariates: Mapping[str, Sequence[object]]) -> list[list[float]]:
    if not covariates:
        raise InputDataError("meta-regression needs at least one covariate")
    rows = [[1.0] for _ in range(counts.k)]
    for name, values in covariates.items():
        if len(values) != counts.k:
            raise InputDataError(
                f"covariate {name!r} has {len(values)} values for {counts.k} studies"
            )
        for row, study, value in zip(rows, counts.studies, values, strict=True):
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number = math.nan
            if not math.isfinite(number):
                raise InputDataError(
                    f"study {study!r}: covariate {name!r} must be a number, not {value!r}"
                )
            row.append(number)
    return rows


def meta_regression(
    counts: StudyCounts,
    covariates: Mapping[str, Sequence[object]],
    *,
    measure: Measure = "PLO",
    method: str = "REML",
    test: Test = "z",
    level: float = 0.95,
    cc: float = 0.5,
    cc_mode: CCMode = "only0",
) -> MetaRegressionResult:
    """Regress the studies' transformed proportions on numeric covariates (see module doc)."""
    import numpy as np

    if method not in METAREG_METHODS:
        raise InputDataError(
            f"meta-regression supports the tau2 estimators {', '.join(METAREG_METHODS)}, "
            f"not {method!r}"
        )
    if test not in ("z", "knha"):
        raise InputDataError(f"unknown test {test!r}; use z or knha")
    level = check_level(level)
    X = np.asarray(_design(counts, covariates))
    k, p = X.shape
    if k <= p:
        raise InputDataError(
            f"{k} studies are too few for {p - 1} covariate(s): need more studies than coefficients"
        )
    if np.linalg.matrix_rank(X) < p:
        raise InputDataError(
            "the covariates are collinear (or constant): drop one so each adds information"
        )
    effects = escalc(
        counts.events, counts.totals, measure, cc=cc, cc_mode=cc_mode, studies=counts.studies
    )
    y = np.asarray(effects.yi)[:, None]
    v = np.asarray(effects.vi)[:, None]
    estimator = _estimator(method, "wald" if test == "z" else "knapp-hartung")
    estimator.fit(y=y, v=v, X=X)
    stats = estimator.summary().get_fe_stats(alpha=1 - level)
    tau2 = float(np.asarray(estimator.params_["tau2"]).ravel()[0])
    names = ["intercept", *covariates]
    coefficients = tuple(
        Coefficient(
            name=name,
            estimate=float(stats["est"][i, 0]),
            se=float(stats["se"][i, 0]),
            ci_lower=float(stats["ci_l"][i, 0]),
            ci_upper=float(stats["ci_u"][i, 0]),
            pvalue=float(stats["p"][i, 0]),
        )
        for i, name in enumerate(names)
    )
    return MetaRegressionResult(
        k=k,
        measure=effects.measure,
        method=method,
        test=test,
        level=level,
        coefficients=coefficients,
        tau2=max(0.0, tau2),
    )


def _estimator(method: str, correction: str) -> Any:
    import warnings

    with warnings.catch_warnings():
        # PyMARE 0.0.13 leaves a JSON file open at import (pymare/effectsize/expressions.py)
        warnings.simplefilter("ignore", ResourceWarning)
        from pymare.estimators import DerSimonianLaird, Hedges, VarianceBasedLikelihoodEstimator

    if method == "DL":
        return DerSimonianLaird(small_sample_correction=correction)
    if method == "HE":
        return Hedges(small_sample_correction=correction)
    return VarianceBasedLikelihoodEstimator(
        method=method.lower(), small_sample_correction=correction
    )
