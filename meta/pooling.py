"""Pooled proportions: two-stage inverse-variance models and the binomial-normal GLMM.

The two-stage model follows metafor's ``rma.uni`` + ``predict`` + ``confint`` (Viechtbauer
2010): weights 1/(v + tau2); Wald (z) intervals or Hartung-Knapp-Sidik-Jonkman (``knha``;
Hartung & Knapp 2001, Sidik & Jonkman 2002) with t on k - 1 df; the prediction interval
beta +/- crit * sqrt(se^2 + tau2) with the SAME critical value as the confidence interval,
i.e. normal for z and t with k - 1 df for knha (metafor 3.8's ``predict`` default; we do
not use the t on k - 2 df of Higgins, Thompson & Spiegelhalter 2009); Cochran's
Q; I2 = tau2 / (tau2 + typical within-study variance) and H2 = (tau2 + vt) / vt as metafor
(not meta's Q-based I2), except for EE, where metafor (and we) use (Q - df) / Q and Q / df;
and the Q-profile interval for tau2 (Viechtbauer 2007). EE reports tau2 = 0, the value its
model fixes (metafor's ``fit$tau2``), with no interval and no prediction interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from meta.counts import StudyCounts
from meta.errors import InputDataError
from meta.measures import PFT_WARNING, back_transform, check_cc, check_measure, escalc, expit
from meta.measures import harmonic_mean as _harmonic_mean
from meta.results import PoolResult, StudyResult
from meta.study_ci import all_or_none, check_level, check_study_ci, naive_pooling, proportion_cis
from meta.tau2 import estimate_tau2, q_statistic, qprofile_ci, typical_variance
from meta.types import METHODS, TESTS, CCMode, Measure, Method, StudyCIMethod, Tau2Method, Test

ONE_STUDY_WARNING = (
    "only one study: the pooled result is that study's own estimate with a Wald interval; "
    "no heterogeneity or prediction interval can be estimated"
)
KNHA_EE_WARNING = "Knapp & Hartung method is not meant to be used with an EE (common-effect) model"
GLMM_MEDIAN_NOTE = (
    "GLMM: the estimate is the median proportion, expit of the mean logit, not the mean proportion"
)
GLMM_MEASURE_WARNING = "measure {measure} ignored: the GLMM pools logits (PLO)"
ALL_OR_NONE_WARNING = (
    "{which}: the pooled estimate and its interval {basis}; report the summed counts "
    "instead: {naive}"
)
GLMM_WALD_NOTE = (
    "GLMM: studies with 0% or 100% make the Wald-type Q small (their logits have huge "
    "variances); the likelihood-ratio test (LRT) is the better guide to heterogeneity"
)
GLMM_CC_WARNING = (
    "continuity correction (cc {cc:g}, cc_mode {cc_mode}) ignored: the GLMM models the counts "
    "and needs none"
)


@dataclass(frozen=True)
class _Options:
    measure: Measure
    method: Method
    test: Test
    level: float
    study_ci: StudyCIMethod
    cc: float
    cc_mode: CCMode
    nodes: int


def pool(
    counts: StudyCounts,
    *,
    measure: Measure = "PLO",
    method: Method = "GLMM",
    test: Test = "z",
    level: float = 0.95,
    study_ci: StudyCIMethod = "CP",
    cc: float = 0.5,
    cc_mode: CCMode = "only0",
    nodes: int = 7,
) -> PoolResult:
    """Pool per-study proportions by ``method`` (a tau2 estimator, or GLMM).

    Two-stage methods transform with ``measure`` (continuity correction ``cc`` as
    metafor's escalc ``add`` in mode ``cc_mode``; PAS and PFT get none in the default mode
    ``only0``, see meta.measures) and pool by inverse variance; GLMM fits the
    binomial-normal model (Stijnen, Hamza & Ozdemir 2010) by maximum likelihood and
    always works on the logit scale, without continuity correction or study weights.
    """
    options = _check_options(counts, measure, method, test, level, study_ci, cc, cc_mode, nodes)
    if options.method == "GLMM":
        return _pool_glmm(counts, options)
    return _pool_two_stage(counts, options)


def _check_options(
    counts: StudyCounts,
    measure: str,
    method: str,
    test: str,
    level: float,
    study_ci: str,
    cc: float,
    cc_mode: str,
    nodes: int,
) -> _Options:
    if not isinstance(counts, StudyCounts):
        raise InputDataError("pool() needs StudyCounts; build them with meta.counts.make_counts")
    if counts.k == 0:
        raise InputDataError("no studies to pool: give at least one study's events and total")
    checked_method = next((m for m in METHODS if m == method), None)
    if checked_method is None:
        raise InputDataError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    checked_test = next((t for t in TESTS if t == test), None)
    if checked_test is None:
        raise InputDataError(f"unknown test {test!r}; use one of {', '.join(TESTS)}")
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise InputDataError(f"quadrature nodes must be a whole number >= 1, not {nodes!r}")
    return _Options(
        measure=check_measure(measure),
        method=checked_method,
        test=checked_test,
        level=check_level(level),
        study_ci=check_study_ci(study_ci),
        cc=float(cc),
        cc_mode=check_cc(cc, cc_mode),
        nodes=nodes,
    )


def _critical(test: Test, k: int, level: float) -> float:
    """Normal quantile for z; t quantile with k - 1 df for knha (metafor's ddf = k - p)."""
    from scipy.special import ndtri, stdtrit

    alpha = 1 - level
    if test == "knha" and k > 1:
        return float(-stdtrit(k - 1, alpha / 2))
    return float(-ndtri(alpha / 2))


def _study_results(
    counts: StudyCounts,
    options: _Options,
    weights: list[float] | None,
    yi: tuple[float, ...] | None,
    vi: tuple[float, ...] | None,
) -> tuple[StudyResult, ...]:
    results = []
    intervals = proportion_cis(counts.events, counts.totals, options.study_ci, options.level)
    for i, (label, e, n) in enumerate(
        zip(counts.studies, counts.events, counts.totals, strict=True)
    ):
        lower, upper = intervals[i]
        results.append(
            StudyResult(
                study=label,
                events=e,
                total=n,
                proportion=e / n,
                ci_lower=lower,
                ci_upper=upper,
                weight=None if weights is None else weights[i],
                yi=None if yi is None else yi[i],
                vi=None if vi is None else vi[i],
                subgroup=counts.subgroups[i],
            )
        )
    return tuple(results)


def _pool_two_stage(counts: StudyCounts, options: _Options) -> PoolResult:
    import numpy as np
    from scipy.special import chdtrc

    which = all_or_none(counts.events, counts.totals)
    naive = None if which is None else naive_pooling(counts.events, counts.totals, options.level)
    try:
        effects = escalc(
            counts.events,
            counts.totals,
            options.measure,
            cc=options.cc,
            cc_mode=options.cc_mode,
            studies=counts.studies,
        )
    except InputDataError as exc:
        if naive is None:
            raise
        raise InputDataError(f"{exc}: {naive.describe()}") from None
    y = np.asarray(effects.yi)
    v = np.asarray(effects.vi)
    k = counts.k
    notes: list[str] = []
    n_harmonic = _harmonic_mean(counts.totals)
    if options.measure == "PFT":
        notes.append(PFT_WARNING.format(n=n_harmonic))
    n_corrected = sum(effects.corrected)
    if n_corrected:
        notes.append(
            f"continuity correction {effects.cc:g} added to both cells of {n_corrected} "
            f"stud{'y' if n_corrected == 1 else 'ies'} (cc_mode {effects.cc_mode})"
        )
    if which is not None and naive is not None:
        basis = (
            "come from the continuity correction, not from the data"
            if n_corrected
            else f"rest on a normal approximation at {'0%' if naive.events == 0 else '100%'}, "
            "which such data cannot support"
        )
        notes.append(ALL_OR_NONE_WARNING.format(which=which, basis=basis, naive=naive.describe()))
    method: Tau2Method = options.method  # type: ignore[assignment]  # GLMM handled earlier
    fit = estimate_tau2(y, v, method)
    notes.extend(fit.warnings)
    tau2 = fit.tau2
    w = 1 / (v + tau2)
    beta = float(np.sum(w * y) / np.sum(w))
    variance = 1 / float(np.sum(w))
    if options.test == "knha" and k > 1:
        if method == "EE":
            notes.append(KNHA_EE_WARNING)
        rss = float(np.sum(w * (y - beta) ** 2))
        variance *= 0.0 if rss <= 2.220446049250313e-16 else rss / (k - 1)
    se = math.sqrt(variance)
    crit = _critical(options.test, k, options.level)

    def back(x: float) -> float:
        return back_transform(x, options.measure, n_harmonic)

    weights = [float(x) for x in 100 * w / np.sum(w)]
    studies = _study_results(counts, options, weights, effects.yi, effects.vi)
    if k == 1:
        notes.insert(0, ONE_STUDY_WARNING)
        crit = _critical("z", 1, options.level)
        return PoolResult(
            k=1,
            measure=options.measure,
            method=options.method,
            test=options.test,
            level=options.level,
            estimate=back(beta),
            ci_lower=back(beta - crit * se),
            ci_upper=back(beta + crit * se),
            pi_lower=None,
            pi_upper=None,
            estimate_transformed=beta,
            se=se,
            tau2=0.0 if method == "EE" else None,
            tau2_ci_lower=None,
            tau2_ci_upper=None,
            i2=None,
            h2=None,
            q=None,
            q_df=None,
            q_pvalue=None,
            studies=studies,
            warnings=tuple(notes),
            study_ci=options.study_ci,
        )
    q = max(0.0, q_statistic(y, v))
    q_pvalue = float(chdtrc(k - 1, q))
    if method == "EE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
        pi: tuple[float | None, float | None] = (None, None)
        tau2_ci: tuple[float | None, float | None] = (None, None)
    else:
        vt = typical_variance(v)
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
        half = crit * math.sqrt(variance + tau2)
        pi = (back(beta - half), back(beta + half))
        tau2_ci = qprofile_ci(y, v, options.level, tau2)
    return PoolResult(
        k=k,
        measure=options.measure,
        method=options.method,
        test=options.test,
        level=options.level,
        estimate=back(beta),
        ci_lower=back(beta - crit * se),
        ci_upper=back(beta + crit * se),
        pi_lower=pi[0],
        pi_upper=pi[1],
        estimate_transformed=beta,
        se=se,
        tau2=tau2,  # 0 for EE, which fixes it (as metafor's rma(method = "EE"))
        tau2_ci_lower=tau2_ci[0],
        tau2_ci_upper=tau2_ci[1],
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_pvalue=q_pvalue,
        studies=studies,
        warnings=tuple(notes),
        study_ci=options.study_ci,
    )


def _pool_glmm(counts: StudyCounts, options: _Options) -> PoolResult:
    """GLMM: CI expit(mu +/- crit se), PI expit(mu +/- crit sqrt(tau2 + se^2)).

    crit is normal for z, t with k - 1 df for knha (as metafor's rma.glmm(test = "t")).
    """
    from meta.glmm import fit_glmm

    notes: list[str] = []
    if options.measure != "PLO":
        notes.append(GLMM_MEASURE_WARNING.format(measure=options.measure))
    if (options.cc, options.cc_mode) != (0.5, "only0"):  # anything but the defaults was asked for
        notes.append(GLMM_CC_WARNING.format(cc=options.cc, cc_mode=options.cc_mode))
    k = counts.k
    studies = _study_results(counts, options, None, None, None)
    fit = fit_glmm(counts.events, counts.totals, nodes=options.nodes, level=options.level)
    notes.append(GLMM_MEDIAN_NOTE)
    notes.extend(fit.warnings)
    crit = _critical(options.test, k, options.level)
    mu, se, tau2 = float(fit.mu), float(fit.se), float(fit.tau2)
    one = k == 1
    if one:
        notes.insert(0, ONE_STUDY_WARNING)
    elif any(e in (0, n) for e, n in zip(counts.events, counts.totals, strict=True)):
        notes.append(GLMM_WALD_NOTE)
    half = crit * math.sqrt(tau2 + se * se)
    return PoolResult(
        k=k,
        measure="PLO",
        method="GLMM",
        test=options.test,
        level=options.level,
        estimate=expit(mu),
        ci_lower=expit(mu - crit * se),
        ci_upper=expit(mu + crit * se),
        pi_lower=None if one else expit(mu - half),
        pi_upper=None if one else expit(mu + half),
        estimate_transformed=mu,
        se=se,
        tau2=None if one else tau2,
        tau2_ci_lower=None,
        tau2_ci_upper=None,
        i2=None if one else _maybe(fit.i2),
        h2=None if one else _maybe(fit.h2),
        q=None if one else _maybe(fit.q),
        q_df=None if one else fit.q_df,
        q_pvalue=None if one else _maybe(fit.q_pvalue),
        studies=studies,
        warnings=tuple(notes),
        study_ci=options.study_ci,
        q_lrt=None if one else _maybe(fit.q_lrt),
        q_lrt_pvalue=None if one else _maybe(fit.q_lrt_pvalue),
    )


def _maybe(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
