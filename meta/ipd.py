"""One-stage IPD logistic model: patient rows, patient covariates, a random study intercept.

``logit P(outcome = 1) = b0 + x'b + u_study``, ``u_study ~ N(0, tau2)``, fitted by maximum
likelihood with the adaptive Gauss-Hermite engine of :mod:`meta.glmm` (Stijnen, Hamza &
Özdemir 2010; Debray et al. 2015 on one-stage IPD meta-analysis). Validated against
``lme4::glmer(outcome ~ covariates + (1 | study), family = binomial, nAGQ = 7)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from meta.errors import InputDataError
from meta.glmm import GroupedBinomial, fit_ml

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]


@dataclass(frozen=True)
class IPDFit:
    """Fixed effects (log odds; ``(Intercept)`` first) with Wald z tests and CIs, and tau2."""

    names: tuple[str, ...]
    coefficients: tuple[float, ...]
    se: tuple[float, ...]
    z: tuple[float, ...]
    p: tuple[float, ...]
    ci_lower: tuple[float, ...]
    ci_upper: tuple[float, ...]
    tau2: float
    loglik: float
    converged: bool
    warnings: tuple[str, ...]
    n_patients: int
    n_studies: int
    nodes: int
    level: float = 0.95
    retried: bool = False

    def coefficient(self, name: str) -> float:
        """The coefficient called ``name`` (e.g. ``"(Intercept)"`` or a covariate)."""
        return self.coefficients[self.names.index(name)]


def _outcomes(outcome: Sequence[int | bool]) -> Array:
    values = []
    for row, value in enumerate(outcome, start=1):
        if not isinstance(value, bool | int | float) or value not in (0, 1):
            raise InputDataError(
                f"row {row}: outcome must be 0 or 1 (or true/false), not {value!r}"
            )
        values.append(float(value))
    return np.array(values)


def _covariate_matrix(
    covariates: Mapping[str, Sequence[float]] | None, n_rows: int
) -> tuple[list[str], Array]:
    if not covariates:
        return [], np.empty((n_rows, 0))
    names = list(covariates)
    columns = []
    for name in names:
        column = list(covariates[name])
        if len(column) != n_rows:
            raise InputDataError(
                f"covariate {name!r} has {len(column)} values for {n_rows} rows: give one per row"
            )
        values = np.empty(n_rows)
        for row, value in enumerate(column, start=1):
            number: float
            try:
                number = math.nan if value is None else float(value)
            except (TypeError, ValueError):
                raise InputDataError(
                    f"row {row}: covariate {name!r} is not a number ({value!r})"
                ) from None
            if not math.isfinite(number):
                raise InputDataError(
                    f"row {row}: covariate {name!r} is missing; "
                    "drop the row or fill the value before fitting"
                )
            values[row - 1] = number
        columns.append(values)
    return names, np.column_stack(columns)


def fit_ipd(
    outcome: Sequence[int | bool],
    study: Sequence[str],
    covariates: Mapping[str, Sequence[float]] | None = None,
    *,
    nodes: int = 7,
    level: float = 0.95,
) -> IPDFit:
    """Fit the random-intercept logistic model to patient rows by ML (adaptive GHQ).

    Covariates are centred and scaled internally for a stable fit and the estimates
    mapped back, so coefficients are per unit of each covariate as given. Standard errors
    are the inverse observed information of (coefficients, tau), as lme4's ``vcov``.
    """
    from scipy.special import ndtr, ndtri

    if nodes < 1:
        raise InputDataError(f"quadrature nodes must be at least 1, not {nodes}")
    y = _outcomes(outcome)
    if len(study) != len(y):
        raise InputDataError(f"{len(study)} study labels for {len(y)} outcome rows")
    if len(y) == 0:
        raise InputDataError("no patient rows to fit")
    labels: dict[str, int] = {}
    group = np.empty(len(y), dtype=np.intp)
    for row, label in enumerate(study, start=1):
        if label is None or str(label).strip() == "":
            raise InputDataError(f"row {row}: study label is missing")
        group[row - 1] = labels.setdefault(str(label), len(labels))
    names, raw = _covariate_matrix(covariates, len(y))
    centre = raw.mean(axis=0)
    spread = raw.std(axis=0)
    for name, s in zip(names, spread, strict=True):
        if s == 0:
            raise InputDataError(
                f"covariate {name!r} has the same value in every row; leave it out"
            )
    X = np.column_stack([np.ones(len(y)), (raw - centre) / spread])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputDataError(
            f"covariates {', '.join(names)} are collinear; leave out the redundant one"
        )
    if y.min() == y.max():
        raise InputDataError(
            f"every outcome is {int(y[0])}: the log odds are infinite and cannot be estimated"
        )
    model = GroupedBinomial(y, np.ones(len(y)), X, group, nodes)
    fit = fit_ml(
        model,
        name="IPD model",
        advice="a covariate may predict the outcome perfectly (separation): leave it out, "
        "or pool the per-study counts instead",
    )
    # back to the covariates' own units: beta = A @ beta_std
    p = X.shape[1]
    A = np.eye(p)
    A[1:, 1:] = np.diag(1 / spread)
    A[0, 1:] = -centre / spread
    beta = A @ fit.beta
    cov = A @ fit.cov_beta @ A.T
    se = np.sqrt(np.diag(cov))
    z = beta / se
    crit = float(ndtri(0.5 + level / 2))
    return IPDFit(
        names=("(Intercept)", *names),
        coefficients=tuple(float(b) for b in beta),
        se=tuple(float(s) for s in se),
        z=tuple(float(v) for v in z),
        p=tuple(float(2 * ndtr(-abs(v))) for v in z),
        ci_lower=tuple(float(b - crit * s) for b, s in zip(beta, se, strict=True)),
        ci_upper=tuple(float(b + crit * s) for b, s in zip(beta, se, strict=True)),
        tau2=fit.tau2,
        loglik=fit.loglik,
        converged=fit.converged,
        warnings=fit.warnings,
        n_patients=len(y),
        n_studies=len(labels),
        nodes=nodes,
        level=level,
        retried=fit.retried,
    )
