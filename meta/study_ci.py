"""Confidence intervals for one study's proportion (Newcombe 1998; Brown, Cai & DasGupta 2001).

Names as R's meta package ``method.ci``: CP Clopper-Pearson (exact, the default),
WS Wilson score, AC Agresti-Coull, SA simple asymptotic (Wald).
"""

from __future__ import annotations

import math

from meta.errors import InputDataError
from meta.types import STUDY_CI_METHODS, StudyCIMethod


def check_study_ci(method: str) -> StudyCIMethod:
    """The interval method's name, or InputDataError listing the valid ones."""
    for name in STUDY_CI_METHODS:
        if method == name:
            return name
    raise InputDataError(
        f"unknown study interval method {method!r}; use one of {', '.join(STUDY_CI_METHODS)}"
    )


def check_level(level: float) -> float:
    """The confidence level as a fraction strictly between 0 and 1."""
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise InputDataError(f"confidence level must be between 0 and 1 (e.g. 0.95), not {level!r}")
    return float(level)


def proportion_ci(
    events: int, total: int, method: StudyCIMethod = "CP", level: float = 0.95
) -> tuple[float, float]:
    """Interval for events/total; all methods clipped to [0, 1] (as R's meta package)."""
    from scipy import stats

    method = check_study_ci(method)
    level = check_level(level)
    if total <= 0 or not 0 <= events <= total:
        raise InputDataError(f"cannot compute an interval for {events} events of {total}")
    alpha = 1 - level
    x, n = events, total
    p = x / n
    if method == "CP":
        # Clopper & Pearson (1934) via beta quantiles, as R's binom.test
        lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
        upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
        return lower, upper
    z = float(stats.norm.isf(alpha / 2))
    if method == "WS":
        # Wilson (1927) score interval, as R's prop.test(correct = FALSE)
        centre = p + z * z / (2 * n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        denominator = 1 + z * z / n
        return max(0.0, (centre - half) / denominator), min(1.0, (centre + half) / denominator)
    if method == "AC":
        # Agresti & Coull (1998): Wald interval around (x + z^2/2) / (n + z^2)
        n_tilde = n + z * z
        p_tilde = (x + z * z / 2) / n_tilde
        half = z * math.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
        return max(0.0, p_tilde - half), min(1.0, p_tilde + half)
    half = z * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)
