"""Binomial-normal GLMM (random-intercept logistic regression) by maximum likelihood.

The model of Stijnen, Hamza & Özdemir (2010, Stat Med 29:3046-3067, section 3.1):
``x_i ~ Binomial(n_i, p_i)``, ``logit(p_i) = mu + b_i``, ``b_i ~ N(0, tau2)``. The likelihood
integrals are approximated by adaptive Gauss-Hermite quadrature (Pinheiro & Bates 1995;
Liu & Pierce 1994) centred at each study's conditional mode, as ``lme4::glmer(nAGQ=7)``,
which ``metafor::rma.glmm(measure="PLO")`` calls. ``nodes=1`` is the Laplace approximation.
``mu`` back-transformed is the MEDIAN proportion (of the logit-normal distribution of true
proportions), not the mean. The quadrature engine (:class:`GroupedBinomial`, :func:`fit_ml`)
is shared with the one-stage IPD model in :mod:`meta.ipd`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from meta.counts import make_counts
from meta.errors import ConvergenceError, InputDataError
from meta.study_ci import all_or_none, naive_pooling

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

_NEWTON_MAX = 60
_HALVINGS = 30
_GRAD_TOL = 1e-4
_BOUNDARY_LOGLIK_TOL = 1e-9
_SIGMA_MAX = 30.0  # tau2 > 900 on the logit scale: a degenerate fit, not an estimate


@dataclass(frozen=True)
class GLMMFit:
    """Result of :func:`fit_glmm`; ``mu`` and ``se`` on the logit scale.

    ``loglik`` is the marginal (quadrature) log-likelihood including the binomial
    coefficients, as ``logLik()`` of the glmer fit. metafor's ``logLik(rma.glmm)`` is a
    different quantity (the saturated log-likelihood minus half glmer's conditional
    deviance), so it is not reported. ``q`` is metafor's Wald-type ``QE.Wld`` and ``q_lrt``
    its likelihood-ratio ``QE.LRT``, both on ``q_df`` = k - 1 df. ``iterations`` counts
    Newton-Raphson (and, on a retry, Nelder-Mead) iterations; ``ci_lower``/``ci_upper``
    are Wald limits of ``mu`` at ``level``, as metafor's with ``test="z"``.
    """

    mu: float
    se: float
    tau2: float
    loglik: float
    nodes: int
    converged: bool
    iterations: int
    retried: bool
    q: float | None
    q_df: int | None
    q_pvalue: float | None
    i2: float | None
    h2: float | None
    warnings: tuple[str, ...]
    level: float = 0.95
    q_lrt: float | None = None
    q_lrt_pvalue: float | None = None

    @property
    def ci_lower(self) -> float:
        """Lower Wald (z) confidence limit of ``mu`` at ``level`` (logit scale)."""
        return self.mu - _z(self.level) * self.se

    @property
    def ci_upper(self) -> float:
        """Upper Wald (z) confidence limit of ``mu`` at ``level`` (logit scale)."""
        return self.mu + _z(self.level) * self.se


def _z(level: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(0.5 + level / 2))


class GroupedBinomial:
    """Binomial rows (``y`` of ``n``) with fixed effects ``X`` and one random intercept per group.

    Evaluates the adaptive Gauss-Hermite log-likelihood for many parameter vectors at
    once (rows of ``theta = [beta..., sigma]``), so finite-difference gradients and Hessians
    cost about one vectorised evaluation. The likelihood is even in ``sigma``.
    """

    def __init__(self, y: Array, n: Array, X: Array, group: NDArray[np.intp], nodes: int) -> None:
        from scipy.special import gammaln, roots_hermite

        order = np.argsort(group, kind="stable")
        self.y = y[order]
        self.n = n[order]
        self.X = X[order]
        self.group = group[order]
        self.n_groups = int(self.group.max()) + 1
        self.p = X.shape[1]
        self._one_row_per_group = len(self.y) == self.n_groups
        self._starts = np.searchsorted(self.group, np.arange(self.n_groups))
        self.constant = float(
            np.sum(gammaln(self.n + 1) - gammaln(self.y + 1) - gammaln(self.n - self.y + 1))
        )
        z, w = roots_hermite(nodes)
        self.nodes = nodes
        self._z = z
        self._log_w = np.log(w / math.sqrt(math.pi)) + z * z
        self._modes: Array | None = None

    def _sum(self, rows: Array) -> Array:
        """Sum the rows (last axis, length N) within each group: (..., N) -> (..., G)."""
        if self._one_row_per_group:
            return rows
        return np.add.reduceat(rows, self._starts, axis=-1)

    def _h(self, offset: Array, sigma: Array, u: Array) -> Array:
        """Conditional log density of the data and u (up to constants), per group: (M, G)."""
        eta = offset + sigma[:, None] * u[:, self.group]
        rows = self.y * eta - self.n * np.logaddexp(0.0, eta)
        return self._sum(rows) - 0.5 * u * u

    def _modes_for(self, offset: Array, sigma: Array) -> tuple[Array, Array, Array]:
        """Conditional modes u, curvature -h''(u) and h(u) per group by safeguarded Newton."""
        m = offset.shape[0]
        u = np.zeros((m, self.n_groups))
        if self._modes is not None:
            u[:] = self._modes
        h = self._h(offset, sigma, u)
        s2 = (sigma * sigma)[:, None]
        for _ in range(_NEWTON_MAX):
            eta = offset + sigma[:, None] * u[:, self.group]
            prob = _expit(eta)
            grad = sigma[:, None] * self._sum(self.y - self.n * prob) - u
            curv = s2 * self._sum(self.n * prob * (1.0 - prob)) + 1.0
            step = grad / curv
            for _ in range(_HALVINGS):
                u_new = u + step
                h_new = self._h(offset, sigma, u_new)
                worse = h_new < h - 1e-12 * (1.0 + np.abs(h))
                if not worse.any():
                    break
                step = np.where(worse, step / 2, step)
            u, h = u_new, h_new
            if np.max(np.abs(step)) < 1e-13 * (1.0 + np.max(np.abs(u))):
                break
        eta = offset + sigma[:, None] * u[:, self.group]
        prob = _expit(eta)
        curv = s2 * self._sum(self.n * prob * (1.0 - prob)) + 1.0
        return u, curv, h

    def loglik(self, theta: Array) -> Array:
        """Adaptive GHQ log-likelihood for each row of ``theta`` (shape (M, p+1))."""
        theta = np.atleast_2d(theta)
        beta, sigma = theta[:, : self.p], theta[:, self.p]
        offset = beta @ self.X.T
        u_hat, curv, h_hat = self._modes_for(offset, sigma)
        scale = 1.0 / np.sqrt(curv)
        if self.nodes == 1:
            per_group = h_hat + np.log(scale)
        else:
            terms = []
            for z_k, log_w_k in zip(self._z, self._log_w, strict=True):
                h_k = self._h(offset, sigma, u_hat + math.sqrt(2.0) * scale * z_k)
                terms.append(log_w_k + h_k - h_hat)
            stacked = np.stack(terms)
            top = stacked.max(axis=0)
            per_group = h_hat + np.log(scale) + top + np.log(np.exp(stacked - top).sum(axis=0))
        self._modes = u_hat[0]
        result: Array = per_group.sum(axis=1) + self.constant
        return result

    def derivatives(self, theta: Array, step: float = 1e-3) -> tuple[float, Array, Array]:
        """Log-likelihood, gradient and Hessian at ``theta`` by central differences.

        Steps h and 2h (h = ``step`` times max(1, |parameter|)) combined by Richardson
        extrapolation: fourth-order accurate, with steps large enough that rounding in the
        quadrature does not swamp the Hessian when tau2 is large.
        """
        d = len(theta)
        h = step * np.maximum(1.0, np.abs(theta))
        pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
        points = [theta]
        for scale in (1.0, 2.0):
            e = np.diag(scale * h)
            for i in range(d):
                points += [theta + e[i], theta - e[i]]
            for i, j in pairs:
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    points.append(theta + si * e[i] + sj * e[j])
        values = self.loglik(np.array(points))
        f0 = float(values[0])
        block = 2 * d + 4 * len(pairs)
        estimates = []
        for index, scale in enumerate((1.0, 2.0)):
            v = values[1 + index * block : 1 + (index + 1) * block]
            hs = scale * h
            plus, minus = v[0 : 2 * d : 2], v[1 : 2 * d : 2]
            grad = (plus - minus) / (2 * hs)
            hess = np.diag((plus - 2 * f0 + minus) / hs**2)
            for k, (i, j) in enumerate(pairs):
                pp, pm, mp, mm = v[2 * d + 4 * k : 2 * d + 4 * k + 4]
                hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * hs[i] * hs[j])
            estimates.append((grad, hess))
        (g1, h1), (g2, h2) = estimates
        return f0, (4 * g1 - g2) / 3, (4 * h1 - h2) / 3


def _expit(x: Array) -> Array:
    from scipy.special import expit

    result: Array = expit(x)
    return result


@dataclass(frozen=True)
class MLFit:
    """Maximum likelihood fit of a :class:`GroupedBinomial` model."""

    beta: Array
    cov_beta: Array
    tau2: float
    loglik: float
    converged: bool
    iterations: int
    retried: bool
    warnings: tuple[str, ...] = field(default=())


def _fixed_effects_start(model: GroupedBinomial) -> Array:
    """Ordinary logistic regression (tau2 = 0) by Newton-Raphson: lme4's start for beta."""
    y, n, X = model.y, model.n, model.X
    beta = np.zeros(model.p)
    prop = (y.sum() + 0.5) / (n.sum() + 1.0)
    beta[0] = math.log(prop / (1 - prop))
    for _ in range(50):
        prob = _expit(X @ beta)
        info = X.T @ (X * (n * prob * (1 - prob))[:, None])
        step = np.linalg.solve(info + 1e-12 * np.eye(model.p), X.T @ (y - n * prob))
        step = np.clip(step, -5, 5)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta


def _newton(model: GroupedBinomial, theta: Array, max_iter: int = 100) -> tuple[Array, int]:
    """Damped Newton-Raphson ascent with finite-difference derivatives and backtracking.

    Where the Hessian is not negative definite (e.g. near the saddle at tau = 0 when tau2
    is positive) it is shifted (Levenberg-Marquardt) so every step goes uphill.
    """
    ll, grad, hess = model.derivatives(theta)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        info = -hess
        eig = np.linalg.eigvalsh(info)
        big = max(1.0, float(np.max(np.abs(eig))))
        shift = 0.0 if eig[0] > 1e-8 * big else 1e-3 * big - eig[0]
        step = np.linalg.solve(info + shift * np.eye(len(theta)), grad)
        longest = float(np.max(np.abs(step)))
        if longest > 2.0:
            step *= 2.0 / longest
        for _ in range(_HALVINGS):
            trial = theta + step
            ll_trial = float(model.loglik(trial[None, :])[0])
            if ll_trial >= ll:
                break
            step /= 2
        else:
            break
        theta = trial
        if float(np.max(np.abs(step))) < 1e-10:
            break
        ll, grad, hess = model.derivatives(theta)
        if float(np.max(np.abs(grad) * np.maximum(1.0, np.abs(theta)))) < 1e-9:
            break
    return theta, iterations


def _optimise(model: GroupedBinomial, start: Array, method: str) -> tuple[Array, int]:
    """Maximise the log-likelihood from ``start`` by Newton-Raphson, or Nelder-Mead then
    Newton-Raphson to polish; returns the optimum and the number of iterations."""
    if method == "Nelder-Mead":
        from scipy.optimize import minimize

        res = minimize(
            lambda theta: -float(model.loglik(theta[None, :])[0]),
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
        )
        theta, its = _newton(model, np.asarray(res.x, dtype=float), max_iter=20)
        return theta, int(res.nit) + its
    return _newton(model, start)


def _check(model: GroupedBinomial, theta: Array) -> tuple[str | None, Array, float, Array]:
    """Convergence checks at a candidate optimum, with the boundary tau2 = 0 handled.

    Returns (problem or None, beta, tau2, covariance of beta as the inverse observed
    information of all parameters, as lme4's Hessian-based ``vcov``, at the optimum).
    """
    p = model.p
    ll, grad, hess = model.derivatives(theta)
    beta0 = _fixed_effects_start(model)
    at_zero = np.append(beta0, 0.0)
    ll0, _, hess0 = model.derivatives(at_zero)
    if not np.isfinite(ll) or ll0 >= ll - _BOUNDARY_LOGLIK_TOL:
        info = -hess0[:p, :p]
        if not np.all(np.isfinite(info)) or not np.all(np.linalg.eigvalsh(info) > 0):
            return "the information matrix at tau2 = 0 is not positive definite", beta0, 0.0, info
        if hess0[p, p] > 1e-6 * max(1.0, abs(ll0)):
            return "tau2 = 0 is not a maximum of the likelihood", beta0, 0.0, info
        cov0: Array = np.asarray(np.linalg.inv(info), dtype=float)
        return None, beta0, 0.0, cov0
    if abs(theta[p]) > _SIGMA_MAX:
        return (
            "tau2 runs above 900: nearly every study has 0% or 100%, so the data barely inform it",
            theta[:p],
            0.0,
            hess,
        )
    scale = np.maximum(1.0, np.abs(theta))
    if not np.all(np.isfinite(grad)) or np.max(np.abs(grad) * scale) > _GRAD_TOL * max(
        1.0, math.sqrt(abs(ll))
    ):
        return f"gradient not zero (max {np.max(np.abs(grad)):.2g})", theta[:p], 0.0, hess
    info = -hess
    if not np.all(np.isfinite(info)) or not np.all(np.linalg.eigvalsh(info) > 0):
        return "the Hessian is not negative definite", theta[:p], 0.0, info
    cov: Array = np.asarray(np.linalg.inv(info)[:p, :p], dtype=float)
    return None, theta[:p], float(theta[p] ** 2), cov


_GLMM_ADVICE = (
    "use a two-stage method instead, e.g. --method REML, or --method REML --measure PAS "
    "(no continuity correction) when most studies have 0% or 100%"
)
ALL_OR_NONE_ADVICE = (
    "no model estimates a proportion from such data (a continuity correction would invent "
    "the events), so report the summed counts"
)
NO_CORRECTION_ADVICE = (
    "use a two-stage model that needs no continuity correction, e.g. --method REML "
    "--measure PAS (with studies only at 0% or 100%, a correction would decide the result)"
)


def fit_ml(model: GroupedBinomial, name: str = "GLMM", advice: str = _GLMM_ADVICE) -> MLFit:
    """ML fit with convergence checks and one automatic retry (other start, Nelder-Mead).

    ``name`` and ``advice`` word the retry warning and the ConvergenceError.
    """
    beta0 = _fixed_effects_start(model)
    attempts = (
        (np.append(beta0, 1.0), "Newton"),
        (np.append(beta0, 0.3), "Nelder-Mead"),
    )
    problems = []
    iterations = 0
    for attempt, (start, method) in enumerate(attempts):
        model._modes = None
        try:
            theta, its = _optimise(model, start, method)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
            problems.append(f"{method} failed ({exc})")
            continue
        iterations += its
        problem, beta, tau2, cov = _check(model, theta)
        if problem is None:
            notes: tuple[str, ...] = ()
            if attempt:
                notes = (
                    f"{name}: the first fit did not converge ({problems[0]}); "
                    "refitted from other start values with Nelder-Mead, which converged",
                )
            loglik = float(model.loglik(np.append(beta, math.sqrt(tau2))[None, :])[0])
            return MLFit(beta, cov, tau2, loglik, True, iterations, bool(attempt), notes)
        problems.append(problem)
    raise ConvergenceError(
        f"the {name} did not converge ({'; then '.join(dict.fromkeys(problems))}); {advice}"
    )


def _saturated_fit(events: Array, totals: Array) -> tuple[float, float]:
    """metafor's QE.Wld (Wald test of the study dummies of R's saturated ``glm``) and the
    log-likelihood of that saturated fit, for QE.LRT.

    R's IRLS (``glm.fit``: start (n*y + 0.5)/(n + 1), deviance criterion 1e-8, at most 25
    iterations) is simulated exactly; for a saturated model each study's linear predictor
    updates on its own. Studies with 0 or all events stop at a large finite logit, as in R,
    and the covariance comes from the weights of the last iteration, as ``vcov(glm)``.
    The Wald statistic of the k - 1 contrasts equals Cochran's Q of these estimates. The
    log-likelihood (with the binomial coefficients, as R's ``logLik(glm)``) is taken at the
    fitted proportions, so a 0% study adds the tiny ``n log(1 - mu)`` R's fit leaves.
    """
    eps = np.finfo(float).eps
    y = events / totals

    def inverse_link(eta: Array) -> Array:
        t = np.where(eta < -30, eps, np.where(eta > 30, 1 / eps, np.exp(np.clip(eta, -30, 30))))
        return t / (1 + t)

    def mu_eta(eta: Array) -> Array:
        e = np.exp(np.clip(eta, -30, 30))
        return np.where(np.abs(eta) > 30, eps, e / (1 + e) ** 2)

    def deviance(mu: Array) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(y > 0, y * np.log(y / mu), 0.0)
            b = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
        return float(np.sum(2 * totals * (a + b)))

    mu = (totals * y + 0.5) / (totals + 1)
    eta = np.log(mu / (1 - mu))
    dev_old = deviance(mu)
    weights = np.empty_like(mu)
    for _ in range(25):
        d = mu_eta(eta)
        weights = totals * d**2 / (mu * (1 - mu))
        eta = eta + (y - mu) / d
        mu = inverse_link(eta)
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < 1e-8:
            break
        dev_old = dev
    mean = np.sum(weights * eta) / np.sum(weights)
    wald = float(max(np.sum(weights * (eta - mean) ** 2), 0.0))
    return wald, _binomial_loglik(events, totals, mu)


def _binomial_loglik(events: Array, totals: Array, prob: Array | float) -> float:
    """Sum of binomial log-probabilities of ``events`` of ``totals`` at ``prob`` (R's dbinom)."""
    from scipy.special import gammaln

    p = np.broadcast_to(np.asarray(prob, dtype=float), events.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        hits = np.where(events > 0, events * np.log(p), 0.0)
        misses = np.where(events < totals, (totals - events) * np.log1p(-p), 0.0)
    choose = gammaln(totals + 1) - gammaln(events + 1) - gammaln(totals - events + 1)
    return float(np.sum(choose + hits + misses))


def _heterogeneity_lrt(events: Array, totals: Array, saturated_loglik: float) -> float:
    """metafor's QE.LRT for ``rma.glmm(measure="PLO")``: -2 (ll_FE - ll_QE), the likelihood
    ratio of the saturated binomial model (one proportion per study) against the
    common-proportion model (``glm`` with an intercept only, whose ML estimate is
    sum(events) / sum(totals)); k - 1 df; negative values (rounding) are 0, as metafor."""
    common = float(np.sum(events) / np.sum(totals))
    return max(-2.0 * (_binomial_loglik(events, totals, common) - saturated_loglik), 0.0)


def _typical_variance(events: Array, totals: Array) -> float:
    """metafor's typical within-study variance (Higgins & Thompson 2002) for ``I2``/``H2``.

    Sampling variances of the logit proportions as ``escalc(measure="PLO")`` with 0.5 added
    to studies with 0 or all events (``to="only0"``); ``vt = (k - 1) / tr(P)``.
    """
    add = np.where((events == 0) | (events == totals), 0.5, 0.0)
    v = 1 / (events + add) + 1 / (totals - events + add)
    w = 1 / v
    return float((len(w) - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2)))


def _as_counts(events: Sequence[int], totals: Sequence[int]) -> tuple[Array, Array]:
    """Validated counts (as :func:`meta.counts.make_counts`) as float arrays."""
    counts = make_counts(list(events), list(totals))
    return np.array(counts.events, dtype=float), np.array(counts.totals, dtype=float)


def fit_glmm(
    events: Sequence[int], totals: Sequence[int], *, nodes: int = 7, level: float = 0.95
) -> GLMMFit:
    """Fit the binomial-normal model (Stijnen et al. 2010) by ML with adaptive GHQ.

    Matches ``metafor::rma.glmm(measure="PLO", method="ML", nAGQ=nodes)``: ``mu``, its
    Hessian-based standard error, ``tau2``, the Wald-type heterogeneity test ``QE.Wld`` and
    the likelihood-ratio test ``QE.LRT`` (k - 1 df each), and metafor's ``I2``/``H2``
    (``tau2`` over ``tau2`` plus the typical within-study variance of the
    continuity-corrected logits). No continuity correction
    enters the fit; no study weights exist. With one study tau2 is not identifiable: it is
    set to 0 with a warning (metafor refuses k = 1). If no study has an event, or every
    study has only events, the logit estimate is infinite: ConvergenceError.
    """
    if nodes < 1:
        raise InputDataError(f"quadrature nodes must be at least 1, not {nodes}")
    if not 0 < level < 1:
        raise InputDataError(f"confidence level must be between 0 and 1, not {level}")
    x, n = _as_counts(events, totals)
    k = x.size
    which = all_or_none(events, totals)
    if which is not None:
        raise ConvergenceError(
            f"the GLMM cannot be fitted: {which}, so the logit-scale estimate is infinite; "
            f"{ALL_OR_NONE_ADVICE}: {naive_pooling(events, totals, level).describe()}"
        )
    if np.all((x == 0) | (x == n)):
        raise ConvergenceError(
            "the GLMM cannot be fitted: every study has either no events or only events, so "
            f"tau2 grows without bound; {NO_CORRECTION_ADVICE}"
        )
    model = GroupedBinomial(x, n, np.ones((k, 1)), np.arange(k), nodes)
    if k == 1:
        prop = x[0] / n[0]
        mu = math.log(prop / (1 - prop))
        loglik = float(model.loglik(np.array([[mu, 0.0]]))[0])
        note = "GLMM with one study: tau2 cannot be estimated and is set to 0"
        return GLMMFit(
            mu=mu, se=1 / math.sqrt(n[0] * prop * (1 - prop)), tau2=0.0, loglik=loglik,
            nodes=nodes, converged=True, iterations=0, retried=False, q=None, q_df=None,
            q_pvalue=None, i2=None, h2=None, warnings=(note,), level=level,
        )  # fmt: skip
    fit = fit_ml(model)
    from scipy.special import chdtrc

    q, saturated_loglik = _saturated_fit(x, n)
    q_lrt = _heterogeneity_lrt(x, n, saturated_loglik)
    vt = _typical_variance(x, n)
    return GLMMFit(
        mu=float(fit.beta[0]),
        se=float(math.sqrt(fit.cov_beta[0, 0])),
        tau2=fit.tau2,
        loglik=fit.loglik,
        nodes=nodes,
        converged=fit.converged,
        iterations=fit.iterations,
        retried=fit.retried,
        q=q,
        q_df=k - 1,
        q_pvalue=float(chdtrc(k - 1, q)),
        i2=100 * fit.tau2 / (vt + fit.tau2),
        h2=fit.tau2 / vt + 1,
        warnings=fit.warnings,
        level=level,
        q_lrt=q_lrt,
        q_lrt_pvalue=float(chdtrc(k - 1, q_lrt)),
    )
