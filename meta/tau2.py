"""Between-study variance (tau2) estimators, Q and the Q-profile interval, as metafor 3.8.

Each estimator follows metafor's ``rma.uni`` code path step by step (Viechtbauer 2005,
2010), including its settings: Fisher scoring for ML/REML/EB from the Hedges start with
``threshold = 1e-5``, ``maxiter = 100`` and step halving at 0; the ML/REML check against
tau2 = 0; Paule-Mandel and the Q-profile interval (Viechtbauer 2007) by R's ``uniroot``
(Brent's zeroin with ``tol = eps^0.25``), ported below so the roots agree with metafor.
Matrices are never k x k: every trace uses the p x p identities, so k = 1000 is cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from meta.errors import ConvergenceError, InputDataError
from meta.types import Tau2Method

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

DBL_EPSILON = 2.220446049250313e-16
UNIROOT_TOL = DBL_EPSILON**0.25
THRESHOLD = 1e-5
MAXITER = 100
FISHER_FAILED = (
    "Fisher scoring algorithm did not converge for the {method} estimator after {maxiter} "
    "iterations; try another tau2 estimator (e.g. DL or PM) or the GLMM"
)
LOCAL_MAXIMUM = (
    "Fisher scoring algorithm may have gotten stuck at a local maximum; tau2 set to 0 "
    "(as metafor does)"
)


@dataclass(frozen=True)
class Tau2Fit:
    """A tau2 estimate with how it was reached."""

    method: Tau2Method
    tau2: float
    iterations: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Weighted:
    """Weighted least-squares pieces for weights w: residuals, RSS = y'Py, tr P, tr PP."""

    w: Array
    beta: Array
    residuals: Array
    rss: float
    tr_p: float
    tr_pp: float


def design(k: int, X: Array | None = None) -> Array:
    """The model matrix: an intercept column unless X is given."""
    import numpy as np

    return np.ones((k, 1)) if X is None else np.asarray(X, dtype=float).reshape(k, -1)


def _weighted(y: Array, w: Array, X: Array) -> _Weighted:
    import numpy as np

    xtwx = X.T @ (w[:, None] * X)
    inv = np.linalg.inv(xtwx)
    beta = inv @ (X.T @ (w * y))
    residuals = y - X @ beta
    rss = float(np.sum(w * residuals**2))
    m2 = inv @ (X.T @ ((w**2)[:, None] * X))
    m3 = inv @ (X.T @ ((w**3)[:, None] * X))
    tr_p = float(np.sum(w) - np.trace(m2))
    tr_pp = float(np.sum(w**2) - 2 * np.trace(m3) + np.trace(m2 @ m2))
    return _Weighted(w, beta, residuals, rss, tr_p, tr_pp)


def q_statistic(yi: Array, vi: Array, X: Array | None = None, tau2: float = 0.0) -> float:
    """Generalised Q: sum of w (y - X beta)^2 with w = 1/(v + tau2) (Cochran 1954)."""
    y, v, Xm = _prepare(yi, vi, X)
    return _weighted(y, 1 / (v + tau2), Xm).rss


def typical_variance(vi: Array, X: Array | None = None) -> float:
    """Typical within-study variance (k - p) / tr P (Higgins & Thompson 2002; metafor's I2)."""
    import numpy as np

    v = np.asarray(vi, dtype=float)
    Xm = design(len(v), X)
    return (len(v) - Xm.shape[1]) / _weighted(np.zeros(len(v)), 1 / v, Xm).tr_p


def _prepare(yi: Array, vi: Array, X: Array | None) -> tuple[Array, Array, Array]:
    import numpy as np

    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.shape != v.shape or y.ndim != 1:
        raise InputDataError("effect sizes and variances must be two vectors of equal length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise InputDataError("every study needs a finite effect size and a positive variance")
    # metafor centres y before estimating tau2 (its Ymc); no effect with an intercept
    return y - np.mean(y), v, design(len(y), X)


def estimate_tau2(yi: Array, vi: Array, method: Tau2Method, X: Array | None = None) -> Tau2Fit:
    """tau2 by one of metafor's estimators: EE DL REML PM ML HS SJ EB HE.

    DL DerSimonian & Laird 1986; HE Hedges 1983 (Hedges & Olkin 1985); HS Hunter &
    Schmidt 2004; SJ Sidik & Jonkman 2005; PM Paule & Mandel 1982; EB Morris 1983;
    ML/REML by Fisher scoring (Viechtbauer 2005). Raises ConvergenceError as metafor stops.
    """
    y, v, Xm = _prepare(yi, vi, X)
    k, p = Xm.shape
    if method == "EE" or k == 1:
        return Tau2Fit(method, 0.0, 0)
    if k <= p:
        raise InputDataError(f"{k} studies are too few to estimate tau2 with {p} coefficients")
    if method in ("DL", "HS"):
        fit = _weighted(y, 1 / v, Xm)
        if method == "DL":
            tau2 = (fit.rss - (k - p)) / fit.tr_p
        else:
            tau2 = (fit.rss - k) / float(fit.w.sum())
        return Tau2Fit(method, max(0.0, tau2), 0)
    if method == "SJ":
        tau0 = float(((y - y.mean()) ** 2).sum() / k)
        fit = _weighted(y, 1 / (v + tau0), Xm)
        return Tau2Fit(method, max(0.0, tau0 * fit.rss / (k - p)), 0)
    if method == "PM":
        return _paule_mandel(y, v, Xm)
    tau2_he = _hedges(y, v, Xm)
    if method == "HE":
        return Tau2Fit(method, max(0.0, tau2_he), 0)
    if method in ("ML", "REML", "EB"):
        return _fisher_scoring(y, v, Xm, method, max(0.0, tau2_he))
    raise InputDataError(
        f"unknown tau2 estimator {method!r}; use one of EE, DL, REML, PM, ML, HS, SJ, EB, HE"
    )


def _hedges(y: Array, v: Array, X: Array) -> float:
    import numpy as np

    k, p = X.shape
    inv = np.linalg.inv(X.T @ X)
    residuals = y - X @ (inv @ (X.T @ y))
    tr_pv = float(v.sum() - np.trace(inv @ (X.T @ (v[:, None] * X))))
    return (float(residuals @ residuals) - tr_pv) / (k - p)


def _fisher_scoring(y: Array, v: Array, X: Array, method: Tau2Method, start: float) -> Tau2Fit:
    k, p = X.shape
    tau2 = start
    change = THRESHOLD + 1
    iterations = 0
    while change > THRESHOLD:
        iterations += 1
        old = tau2
        fit = _weighted(y, 1 / (v + tau2), X)
        if method == "ML":
            adj = (float(((fit.w * fit.residuals) ** 2).sum()) - float(fit.w.sum())) / float(
                (fit.w**2).sum()
            )
        elif method == "REML":
            adj = (float(((fit.w * fit.residuals) ** 2).sum()) - fit.tr_p) / fit.tr_pp
        else:
            adj = (fit.rss * k / (k - p) - k) / float(fit.w.sum())
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if iterations > MAXITER:
            raise ConvergenceError(FISHER_FAILED.format(method=method, maxiter=MAXITER))
    warnings: tuple[str, ...] = ()
    if method in ("ML", "REML") and tau2 > THRESHOLD:
        ll0 = _loglik(y, v, X, 0.0, method)
        ll = _loglik(y, v, X, tau2, method)
        if ll0 - ll > UNIROOT_TOL:
            tau2, warnings = 0.0, (LOCAL_MAXIMUM,)
    return Tau2Fit(method, max(0.0, tau2), iterations, warnings)


def _loglik(y: Array, v: Array, X: Array, tau2: float, method: Tau2Method) -> float:
    """ML or REML log-likelihood as metafor's local-maximum check (without the X'X term)."""
    import numpy as np

    k, p = X.shape
    w = 1 / (v + tau2)
    fit = _weighted(y, w, X)
    if method == "ML":
        return float(
            -0.5 * k * math.log(2 * math.pi) - 0.5 * np.log(v + tau2).sum() - 0.5 * fit.rss
        )
    logdet = float(np.linalg.slogdet(X.T @ (w[:, None] * X))[1])
    return float(
        -0.5 * (k - p) * math.log(2 * math.pi)
        - 0.5 * np.log(v + tau2).sum()
        - 0.5 * logdet
        - 0.5 * fit.rss
    )


def _mad(values: Array) -> float:
    import numpy as np

    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _paule_mandel(y: Array, v: Array, X: Array) -> Tau2Fit:
    k, p = X.shape
    target = float(k - p)
    tau2_max = max(100.0, 10 * _mad(y) ** 2)

    def excess(tau2: float) -> float:
        return _weighted(y, 1 / (v + tau2), X).rss - target

    if excess(0.0) < 0:
        return Tau2Fit("PM", 0.0, 0)
    if excess(tau2_max) > 0:
        raise ConvergenceError(
            f"Paule-Mandel estimator: tau2 exceeds the search limit {tau2_max:g}; "
            "use another tau2 estimator (e.g. REML or DL)"
        )
    root, iterations, converged = uniroot(excess, 0.0, tau2_max, maxiter=MAXITER)
    warnings = () if converged else ("Paule-Mandel root search did not converge",)
    return Tau2Fit("PM", max(0.0, root), iterations, warnings)


def qprofile_ci(
    yi: Array, vi: Array, level: float = 0.95, tau2: float = 0.0, X: Array | None = None
) -> tuple[float, float]:
    """Q-profile confidence interval for tau2 (Viechtbauer 2007), as metafor's confint().

    Bounds solve Q(tau2) = chi2 quantiles with k - p df on [0, max(100, 10 tau2)];
    a bound that lies below 0 is reported as 0, as metafor does.
    """
    from scipy.special import chdtri

    y, v, Xm = _prepare(yi, vi, X)
    k, p = Xm.shape
    if k <= p:
        raise InputDataError("a confidence interval for tau2 needs more studies than coefficients")
    alpha = 1 - level
    crit_u = float(chdtri(k - p, alpha / 2))
    crit_l = float(chdtri(k - p, 1 - alpha / 2))
    tau2_min, tau2_max = 0.0, qprofile_search_limit(tau2)

    def q_at(t: float) -> float:
        return _weighted(y, 1 / (v + t), Xm).rss

    q_min, q_max = q_at(tau2_min), q_at(tau2_max)
    if q_min < crit_l:
        return tau2_min, tau2_min
    if q_max > crit_u:
        return tau2_max, tau2_max
    if q_max > crit_l:
        upper = tau2_max
    else:
        upper = uniroot(lambda t: q_at(t) - crit_l, tau2_min, tau2_max, maxiter=1000)[0]
    if q_min < crit_u:
        lower = tau2_min
    else:
        lower = uniroot(lambda t: q_at(t) - crit_u, tau2_min, tau2_max, maxiter=1000)[0]
    return lower, upper


def qprofile_search_limit(tau2: float) -> float:
    """The upper end of the Q-profile search, max(100, 10 tau2) as metafor's ``tau2.max``;
    an upper bound equal to it is censored (metafor prints ``>100``)."""
    return max(100.0, 10 * tau2)


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    tol: float = UNIROOT_TOL,
    maxiter: int = 1000,
) -> tuple[float, int, bool]:
    """Brent's zeroin exactly as R's ``uniroot`` (R_zeroin2 in src/library/stats/src/zeroin.c).

    Returns (root, iterations, converged). Ported rather than using scipy.optimize.brentq so
    that roots found to metafor's loose tolerance agree with metafor's to the last digit.
    """
    fa, fb = f(lower), f(upper)
    if fa * fb > 0:
        raise ConvergenceError("root search: the function has the same sign at both ends")
    a, b = lower, upper
    if fa == 0:
        return a, 0, True
    if fb == 0:
        return b, 0, True
    c, fc = a, fa
    remaining = maxiter + 1
    while remaining:
        remaining -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * DBL_EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b, maxiter + 1 - remaining, True
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, maxiter, False
