"""Effect measures for single proportions, as metafor's ``escalc`` (Viechtbauer 2010).

PR raw proportion, PLN log, PLO logit, PAS arcsine square root (Anscombe 1948) and PFT
Freeman-Tukey double arcsine (Freeman & Tukey 1950), with metafor's continuity correction
and the matching back-transformations (PFT by the harmonic mean of n, Miller 1978).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from meta.errors import InputDataError
from meta.types import CC_MODES, MEASURES, CCMode, Measure

#: Measures that get no continuity correction under the default mode ``only0``
#: (metafor's escalc sets ``add = 0`` for them unless told otherwise).
UNCORRECTED_BY_DEFAULT: tuple[Measure, ...] = ("PAS", "PFT")

PFT_WARNING = (
    "PFT back-transformation uses the harmonic mean of the study sizes (n = {n:.4g}; "
    "Miller 1978) and can be seriously misleading when study sizes differ "
    "(Schwarzer et al. 2019); compare with PLO or GLMM in a sensitivity analysis"
)


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes ``yi`` with sampling variances ``vi`` on a measure's scale.

    ``corrected`` marks the studies that received the continuity correction ``cc``.
    """

    measure: Measure
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    corrected: tuple[bool, ...]
    cc: float
    cc_mode: CCMode

    @property
    def k(self) -> int:
        return len(self.yi)


def check_measure(measure: str) -> Measure:
    """The measure name, or InputDataError listing the valid ones."""
    for name in MEASURES:
        if measure == name:
            return name
    raise InputDataError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")


def check_cc(cc: float, cc_mode: str) -> CCMode:
    """Validate the continuity correction value and mode; returns the mode."""
    if not (isinstance(cc, int | float) and math.isfinite(cc) and cc >= 0):
        raise InputDataError(f"continuity correction must be a number >= 0, not {cc!r}")
    for name in CC_MODES:
        if cc_mode == name:
            return name
    raise InputDataError(
        f"unknown continuity correction mode {cc_mode!r}; use one of {', '.join(CC_MODES)}"
    )


def correction_flags(
    events: Sequence[int], totals: Sequence[int], measure: Measure, cc: float, cc_mode: CCMode
) -> tuple[bool, ...]:
    """Which studies get ``cc`` added to both cells, as metafor's escalc ``to=`` argument.

    ``only0``: studies with 0 or all events (not for PAS/PFT, metafor's default);
    ``if0all``: every study when any has 0 or all events; ``all``: every study.
    """
    k = len(events)
    if cc_mode == "none" or cc == 0:
        return (False,) * k
    if cc_mode == "all":
        return (True,) * k
    extreme = tuple(e == 0 or e == n for e, n in zip(events, totals, strict=True))
    if cc_mode == "if0all":
        return (any(extreme),) * k
    if measure in UNCORRECTED_BY_DEFAULT:
        return (False,) * k
    return extreme


def escalc(
    events: Sequence[int],
    totals: Sequence[int],
    measure: Measure = "PLO",
    *,
    cc: float = 0.5,
    cc_mode: CCMode = "only0",
    studies: Sequence[str] | None = None,
) -> EffectSizes:
    """Effect sizes and sampling variances as metafor's ``escalc`` (vtype ``LS``).

    PR: p, p(1-p)/n; PLN: log p, 1/x - 1/n; PLO: logit p, 1/x + 1/(n-x);
    PAS: asin(sqrt p), 1/(4n); PFT: (asin sqrt(x/(n+1)) + asin sqrt((x+1)/(n+1)))/2,
    1/(4n+2). Raises InputDataError when a study's value is infinite or its variance
    zero (0 or all events without a continuity correction).
    """
    measure = check_measure(measure)
    cc_mode = check_cc(cc, cc_mode)
    labels = (
        list(studies) if studies is not None else [f"Study {i + 1}" for i in range(len(events))]
    )
    flags = correction_flags(events, totals, measure, cc, cc_mode)
    yi: list[float] = []
    vi: list[float] = []
    for label, e, n, flag in zip(labels, events, totals, flags, strict=True):
        x = e + cc if flag else float(e)
        m = (n - e) + cc if flag else float(n - e)
        y, v = _one(measure, x, m)
        if not (math.isfinite(y) and math.isfinite(v) and v > 0):
            raise InputDataError(
                f"study {label!r}: {e} events of {n} give no finite {measure} value with "
                f"positive variance; {_no_value_advice(events, totals)}"
            )
        yi.append(y)
        vi.append(v)
    return EffectSizes(measure, tuple(yi), tuple(vi), flags, float(cc), cc_mode)


def _no_value_advice(events: Sequence[int], totals: Sequence[int]) -> str:
    """What to do when a study has no finite value: a continuity correction, a measure that
    needs none, or the GLMM; but when no study has an event (or every patient had it) each of
    those would make a result up, and the summed counts are what remains to report."""
    from meta.study_ci import all_or_none

    which = all_or_none(events, totals)
    if which is not None:
        return (
            f"{which}, so no model estimates a proportion from these data (a continuity "
            "correction would invent the events); report the summed counts with their exact "
            "interval instead"
        )
    return (
        "use a continuity correction (e.g. --cc 0.5 --cc-mode only0), measure PAS or PFT, "
        "or method GLMM"
    )


def _one(measure: Measure, x: float, m: float) -> tuple[float, float]:
    n = x + m
    p = x / n
    if measure == "PR":
        return p, p * (1 - p) / n
    if measure == "PLN":
        if x == 0:
            return -math.inf, math.inf
        return math.log(p), 1 / x - 1 / n
    if measure == "PLO":
        if x == 0 or m == 0:
            return (-math.inf if x == 0 else math.inf), math.inf
        return math.log(p / (1 - p)), 1 / x + 1 / m
    if measure == "PAS":
        return math.asin(math.sqrt(p)), 1 / (4 * n)
    return pft(x, n), 1 / (4 * n + 2)


def pft(x: float, n: float) -> float:
    """Freeman-Tukey double arcsine of x events out of n (Freeman & Tukey 1950)."""
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def harmonic_mean(totals: Sequence[float]) -> float:
    """Harmonic mean of the study sizes, the n of Miller's (1978) PFT back-transformation."""
    return len(totals) / sum(1 / n for n in totals)


def ipft(value: float, n: float) -> float:
    """Inverse Freeman-Tukey transformation for sample size n (Miller 1978, eq. 6).

    Values beyond the transform of 0 or 1 events map to 0 or 1, as metafor's transf.ipft.
    """
    if value > 0.5 * (math.asin(math.sqrt(n / (n + 1))) + math.pi / 2):
        return 1.0
    if value < 0.5 * math.asin(math.sqrt(1 / (n + 1))):
        return 0.0
    s = math.sin(2 * value)
    inner = 1 - (s + (s - 1 / s) / n) ** 2
    sign = math.copysign(1.0, math.cos(2 * value)) if math.cos(2 * value) != 0 else 0.0
    return 0.5 * (1 - sign * math.sqrt(max(inner, 0.0)))


def back_transform(value: float, measure: Measure, n_harmonic: float | None = None) -> float:
    """A value on the measure's scale as a proportion, as metafor's ``transf.*`` functions.

    PR identity, PLN exp, PLO expit, PAS sin^2 (clamped to [0, 1] beyond [0, pi/2]),
    PFT Miller's inverse with the harmonic mean of n. PR and PLN are not clamped, so an
    interval can leave [0, 1] as in metafor.
    """
    if measure == "PR":
        return value
    if measure == "PLN":
        return math.exp(value)
    if measure == "PLO":
        return expit(value)
    if measure == "PAS":
        if value < 0:
            return 0.0
        if value > math.pi / 2:
            return 1.0
        return math.sin(value) ** 2
    if n_harmonic is None:
        raise InputDataError("PFT back-transformation needs the harmonic mean of the study sizes")
    return ipft(value, n_harmonic)


def expit(value: float) -> float:
    """Inverse logit, without overflow for large |value|."""
    if value >= 0:
        return 1 / (1 + math.exp(-value))
    z = math.exp(value)
    return z / (1 + z)
