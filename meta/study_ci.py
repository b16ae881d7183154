"""Confidence intervals for one study's proportion (Newcombe 1998; Brown, Cai & DasGupta 2001).

Names as R's meta package ``method.ci``: CP Clopper-Pearson (exact, the default),
WS Wilson score, AC Agresti-Coull, SA simple asymptotic (Wald).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    return proportion_cis([events], [total], method, level)[0]


def proportion_cis(
    events: Sequence[int], totals: Sequence[int], method: StudyCIMethod = "CP", level: float = 0.95
) -> list[tuple[float, float]]:
    """Intervals for many studies at once (vectorised, so k = 1000 stays fast)."""
    import numpy as np
    from scipy import special

    method = check_study_ci(method)
    level = check_level(level)
    x = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    if x.shape != n.shape or np.any(n <= 0) or np.any(x < 0) or np.any(x > n):
        raise InputDataError("study intervals need 0 <= events <= total and total >= 1")
    alpha = 1 - level
    p = x / n
    if method == "CP":
        # Clopper & Pearson (1934) by beta quantiles, as R's binom.test
        with np.errstate(all="ignore"):
            lower = np.where(x == 0, 0.0, special.betaincinv(x, n - x + 1, alpha / 2))
            upper = np.where(x == n, 1.0, special.betaincinv(x + 1, n - x, 1 - alpha / 2))
    else:
        z = float(-special.ndtri(alpha / 2))
        if method == "WS":
            # Wilson (1927) score interval, as R's prop.test(correct = FALSE)
            centre = p + z * z / (2 * n)
            half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            denominator = 1 + z * z / n
            lower, upper = (centre - half) / denominator, (centre + half) / denominator
        elif method == "AC":
            # Agresti & Coull (1998): Wald interval around (x + z^2/2) / (n + z^2)
            n_tilde = n + z * z
            p_tilde = (x + z * z / 2) / n_tilde
            half = z * np.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
            lower, upper = p_tilde - half, p_tilde + half
        else:
            half = z * np.sqrt(p * (1 - p) / n)
            lower, upper = p - half, p + half
    lower = np.clip(lower, 0.0, 1.0)
    upper = np.clip(upper, 0.0, 1.0)
    return [(float(lo), float(hi)) for lo, hi in zip(lower, upper, strict=True)]


@dataclass(frozen=True)
class NaivePooling:
    """All patients of all studies counted as one sample, with the exact (Clopper-Pearson)
    interval of the summed counts. It ignores differences between studies (naive pooling),
    which is what remains to report when no study has an event, or every patient had it:
    every model then rests on a continuity correction or a normal approximation at 0% or
    100% (e.g. REML on 0/4, 0/4, 0/4 gives 10.0% [2.0, 37.5] with the default correction,
    arcsine 0.0% [0.0, 7.8]; the exact interval of 0/12 is [0.0, 26.5])."""

    events: int
    total: int
    ci_lower: float
    ci_upper: float
    level: float

    @property
    def proportion(self) -> float:
        return self.events / self.total

    def describe(self) -> str:
        """'0/12 = 0.0% [0.0, 26.5], the exact Clopper-Pearson 95% interval (naive pooling,
        which ignores differences between studies)'."""
        level = f"{100 * self.level:g}%"
        return (
            f"{self.events}/{self.total} = {100 * self.proportion:.1f}% "
            f"[{100 * self.ci_lower:.1f}, {100 * self.ci_upper:.1f}], the exact Clopper-Pearson "
            f"{level} interval (naive pooling, which ignores differences between studies)"
        )


def naive_pooling(
    events: Sequence[int], totals: Sequence[int], level: float = 0.95
) -> NaivePooling:
    """The summed counts with their Clopper-Pearson interval (see :class:`NaivePooling`)."""
    x, n = int(sum(events)), int(sum(totals))
    lower, upper = proportion_ci(x, n, "CP", level)
    return NaivePooling(x, n, lower, upper, check_level(level))


def all_or_none(events: Sequence[int], totals: Sequence[int]) -> str | None:
    """'no study has any event' or 'every patient had the event' when the data are so (no
    model can estimate a proportion from them without inventing events), else None."""
    if all(e == 0 for e in events):
        return "no study has any event"
    if all(e == n for e, n in zip(events, totals, strict=True)):
        return "every patient had the event"
    return None
