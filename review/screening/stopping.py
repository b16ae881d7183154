"""When to stop screening (pure): the statistical stopping criterion of Callaghan and
Müller-Hansen 2020 (Syst Rev 9:273, doi:10.1186/s13643-020-01521-4) with two heuristics
beside it, N irrelevant records in a row and the checkable part of SAFE (Boetje and van de
Schoot 2024, Syst Rev 13:81).

The statistical rule. Records are screened in order of predicted relevance until, at some
point, the reviewer draws the records still unscreened (the *urn*, ``n_urn`` of them) in
random order and screens them one by one. With ``relevant_ranked`` relevant records found
before the draw and ``relevant_sample`` among the ``n_sample`` random ones screened so far,
the null hypothesis is "recall is below the target". Recall is
``relevant_found / (relevant_ranked + K)`` where ``K`` is the number of relevant records
the urn held; it is below ``recall`` exactly when ``K >= k_target`` with
``k_target = floor(relevant_found / recall - relevant_ranked) + 1``, the smallest such ``K``.
The number of relevant records in a random sample of ``n_sample`` from an urn of ``n_urn``
holding ``K`` is hypergeometric, and ``P(X <= relevant_sample)`` falls as ``K`` grows, so
the p-value of H0 is that probability at ``K = k_target``. H0 is rejected (the target is met
at the stated confidence) when ``p < 1 - confidence``.

Random records still to screen: the smallest further number ``m`` such that, should all
``m`` prove irrelevant, ``p`` would fall below ``1 - confidence``. A relevant one found in
the sample raises ``k_target`` and so the count, which is re-computed after each decision.

Using it. The sequence of decisions is in screening order; positions from
``random_sample_start`` on are the random sample, drawn uniformly from the records that were
unscreened at that point. In a real review that is the moment ``casepool screen
stop-check`` drew (and recorded) the sample. In a simulation, the simulator screens in
ranked order until the run-length heuristic first fires (``switch_point``: the ranker has
stopped finding relevant records) and then screens the rest in a random order; that keeps
the ranked phase's saving and leaves the random phase only to confirm. The test is valid
wherever the switch falls, as long as the choice of the switch does not look at the
random sample. Records screened after the draw but outside the sample are not counted by
the test; they can only raise the true recall, so leaving them out is conservative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from review.errors import StoppingError

RECALL = 0.95
CONFIDENCE = 0.95
RUN_LENGTH = 50
SAFE_MIN_FRACTION = 0.10
SAFE_RELEVANT_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class RunLength:
    """The heuristic "stop after ``n`` irrelevant records in a row" (ASReview's
    data-driven rule): the current run of irrelevant decisions at the end of the order."""

    n: int
    run: int
    fired: bool


@dataclass(frozen=True, slots=True)
class SafeCheck:
    """The checkable part of phase A of SAFE (Boetje and van de Schoot 2024): at least
    ``min_fraction`` of the records screened, at least ``relevant_factor`` times the
    estimated number of relevant records screened (the estimate comes from the random set
    of phase S; None when none was screened, and then that condition is not met), and the
    run-length heuristic fired. The rest of SAFE is a human step and is listed in
    ``human_steps``, never counted as passed."""

    min_fraction: float
    screened_fraction: float
    fraction_met: bool
    estimated_relevant: float | None
    relevant_factor: float
    screened_enough_for_estimate: bool
    run_length_met: bool
    checkable_met: bool
    human_steps: tuple[str, ...]


SAFE_HUMAN_STEPS: tuple[str, ...] = (
    "S: screen a random set first, so that the number of relevant records can be estimated",
    "A: every key paper named in advance has been found and marked relevant",
    "F: switch to a different model and screen again until the run-length rule fires",
    "E: a second screener checks the top-ranked excluded records and the key papers' citations",
)


@dataclass(frozen=True, slots=True)
class StopCheck:
    """The stopping rule evaluated on one screening order, with the heuristics beside it.

    ``p_value`` is that of H0 "recall < ``recall``" (1.0 before any random record is
    screened, 0.0 when every record has been screened); ``target_met`` is
    ``p_value < 1 - confidence``; ``more_to_screen`` is how many further random records,
    all irrelevant, would make it so (0 once met). ``reason`` says in words why the numbers
    are what they are when a case is special (every record screened, no sample yet)."""

    recall: float
    confidence: float
    n_total: int
    n_screened: int
    relevant_found: int
    random_sample_start: int | None
    n_ranked: int
    relevant_ranked: int
    n_urn: int
    n_sample: int
    relevant_sample: int
    k_target: int
    p_value: float
    target_met: bool
    more_to_screen: int
    reason: str | None
    run_length: RunLength
    safe: SafeCheck

    @property
    def alpha(self) -> float:
        """The level the p-value must fall below: 1 - confidence."""
        return _alpha(self.confidence)


_TIE = 1e-12
"""A p-value within this of alpha counts as equal (not below): a tie such as 5/100 against
0.05 must not pass or fail by floating-point noise."""


def _alpha(confidence: float) -> float:
    from fractions import Fraction

    return float(1 - Fraction(str(confidence)))


def _below(p: float, alpha: float) -> bool:
    return p < alpha - _TIE


def _check_unit(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 < value < 1.0) or math.isnan(value):
        raise StoppingError(f"{name} must be between 0 and 1 (exclusive), got {value}")


def k_target(relevant_found: int, relevant_ranked: int, recall: float) -> int:
    """Smallest number of relevant records in the urn with which recall would be below the
    target: ``floor(relevant_found / recall - relevant_ranked) + 1`` (Callaghan and
    Müller-Hansen 2020, K_tar). Computed in exact fractions of the recall as written, so a
    boundary such as ``19 / 0.95`` is exactly 20 and never 19.999..."""
    from fractions import Fraction

    bound = Fraction(relevant_found) / Fraction(str(recall)) - relevant_ranked
    return math.floor(bound) + 1


def hypergeometric_p(*, n_urn: int, k_target: int, n_sample: int, relevant_sample: int) -> float:
    """``P(X <= relevant_sample)`` for X hypergeometric: ``n_sample`` draws without
    replacement from ``n_urn`` records of which ``k_target`` are relevant. 0 when the urn
    cannot hold ``k_target`` relevant records (H0 is impossible)."""
    if k_target > n_urn:
        return 0.0
    if n_sample == 0:
        return 1.0
    from scipy.stats import hypergeom

    p = float(hypergeom.cdf(relevant_sample, n_urn, k_target, n_sample))
    return min(1.0, max(0.0, p))


def _more_to_screen(
    *, n_urn: int, k_tar: int, n_sample: int, relevant_sample: int, alpha: float
) -> int:
    """Smallest m >= 0 with p(n_sample + m) < alpha: binary search, p falls as n grows."""

    def p(m: int) -> float:
        return hypergeometric_p(
            n_urn=n_urn, k_target=k_tar, n_sample=n_sample + m, relevant_sample=relevant_sample
        )

    if _below(p(0), alpha):
        return 0
    lo, hi = 0, n_urn - n_sample  # p(hi) is 0: the whole urn screened leaves no doubt
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _below(p(mid), alpha):
            hi = mid
        else:
            lo = mid
    return hi


def run_length(decisions_in_order: Sequence[bool], n: int = RUN_LENGTH) -> RunLength:
    """The run of irrelevant decisions at the end of the order, and whether it reached n."""
    if not isinstance(n, int) or n < 1:
        raise StoppingError(f"the run length must be a whole number of at least 1, got {n}")
    run = 0
    for decision in reversed(decisions_in_order):
        if decision:
            break
        run += 1
    return RunLength(n=n, run=run, fired=run >= n)


def switch_point(decisions_in_order: Sequence[bool], n: int = RUN_LENGTH) -> int | None:
    """Where a simulation switches from ranked to random screening: the position after the
    first run of ``n`` irrelevant decisions in a row (None if there is none yet)."""
    run_length(decisions_in_order[:0], n)  # validates n
    run = 0
    for position, decision in enumerate(decisions_in_order):
        run = 0 if decision else run + 1
        if run >= n:
            return position + 1
    return None


def safe_check(
    decisions_in_order: Sequence[bool],
    n_total: int,
    *,
    run_length_n: int = RUN_LENGTH,
    min_fraction: float = SAFE_MIN_FRACTION,
    relevant_factor: float = SAFE_RELEVANT_FACTOR,
    prevalence_estimate: float | None = None,
) -> SafeCheck:
    """Phase A's countable conditions of SAFE. ``prevalence_estimate`` is the share of
    relevant records in SAFE's initial random set (phase S), if one was screened."""
    _check_unit("the SAFE minimum fraction", min_fraction)
    if prevalence_estimate is not None and not 0.0 <= prevalence_estimate <= 1.0:
        raise StoppingError(
            f"the prevalence estimate must be between 0 and 1, got {prevalence_estimate}"
        )
    screened = len(decisions_in_order)
    fraction = screened / n_total if n_total else 1.0
    estimated = None if prevalence_estimate is None else prevalence_estimate * n_total
    enough = estimated is not None and screened >= relevant_factor * estimated
    run = run_length(decisions_in_order, run_length_n)
    fraction_met = fraction >= min_fraction
    return SafeCheck(
        min_fraction=min_fraction,
        screened_fraction=fraction,
        fraction_met=fraction_met,
        estimated_relevant=estimated,
        relevant_factor=relevant_factor,
        screened_enough_for_estimate=enough,
        run_length_met=run.fired,
        checkable_met=fraction_met and enough and run.fired,
        human_steps=SAFE_HUMAN_STEPS,
    )


def stop_check(
    decisions_in_order: Sequence[bool],
    n_total: int,
    *,
    recall: float = RECALL,
    confidence: float = CONFIDENCE,
    random_sample_start: int | None = None,
    run_length_n: int = RUN_LENGTH,
    safe_min_fraction: float = SAFE_MIN_FRACTION,
    prevalence_estimate: float | None = None,
) -> StopCheck:
    """Evaluate the stopping rule after ``decisions_in_order`` (True = relevant) out of
    ``n_total`` records; positions from ``random_sample_start`` on are the random sample
    (None: no sample drawn yet). See the module docstring for the test and its use."""
    _check_unit("recall", recall)
    _check_unit("confidence", confidence)
    if not isinstance(n_total, int) or n_total < 0:
        raise StoppingError(f"the number of records must be a whole number >= 0, got {n_total}")
    screened = len(decisions_in_order)
    if screened > n_total:
        raise StoppingError(
            f"{screened} records are screened but the pool has only {n_total}: "
            "the number of records must count every record of the stage"
        )
    if random_sample_start is not None and not 0 <= random_sample_start <= screened:
        raise StoppingError(
            f"the random sample cannot start at position {random_sample_start}: "
            f"it must be between 0 and the {screened} records screened"
        )
    start = screened if random_sample_start is None else random_sample_start
    ranked = decisions_in_order[:start]
    sample = decisions_in_order[start:]
    relevant_ranked = sum(1 for d in ranked if d)
    relevant_sample = sum(1 for d in sample if d)
    relevant_found = relevant_ranked + relevant_sample
    n_urn = n_total - start
    k_tar = k_target(relevant_found, relevant_ranked, recall)
    alpha = _alpha(confidence)
    reason: str | None = None
    if screened == n_total:
        p, more = 0.0, 0
        reason = "every record has been screened: recall is known, not estimated"
    else:
        p = hypergeometric_p(
            n_urn=n_urn, k_target=k_tar, n_sample=len(sample), relevant_sample=relevant_sample
        )
        more = _more_to_screen(
            n_urn=n_urn,
            k_tar=k_tar,
            n_sample=len(sample),
            relevant_sample=relevant_sample,
            alpha=alpha,
        )
        if not sample:
            reason = "no random record screened yet: the test needs a random sample"
        if relevant_found == 0:
            reason = (
                "no relevant record found yet: the test asks whether any relevant record "
                "is left among the unscreened"
            )
    return StopCheck(
        recall=recall,
        confidence=confidence,
        n_total=n_total,
        n_screened=screened,
        relevant_found=relevant_found,
        random_sample_start=random_sample_start,
        n_ranked=len(ranked),
        relevant_ranked=relevant_ranked,
        n_urn=n_urn,
        n_sample=len(sample),
        relevant_sample=relevant_sample,
        k_target=k_tar,
        p_value=p,
        target_met=_below(p, alpha),
        more_to_screen=more,
        reason=reason,
        run_length=run_length(decisions_in_order, run_length_n),
        safe=safe_check(
            decisions_in_order,
            n_total,
            run_length_n=run_length_n,
            min_fraction=safe_min_fraction,
            prevalence_estimate=prevalence_estimate,
        ),
    )


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def methods_text(check: StopCheck) -> str:
    """One sentence for a report's methods: the rule, its parameters and the outcome."""
    rule = (
        "The statistical stopping criterion of Callaghan and Müller-Hansen (2020) was "
        f"applied: a hypergeometric test of the hypothesis that recall is below "
        f"{_pct(check.recall)}, rejected when p < {check.alpha:.2g} "
        f"({_pct(check.confidence)} confidence)"
    )
    if check.n_screened == check.n_total:
        return f"{rule}; every one of the {check.n_total:,} records was screened."
    ranked = (
        f"{check.n_ranked:,} of {check.n_total:,} records were screened in order of "
        f"predicted relevance ({check.relevant_ranked:,} relevant)"
    )
    if check.n_sample == 0:
        return f"{rule}; {ranked} and no random sample has been screened yet."
    sample = (
        f"then a random sample of {check.n_sample:,} of the {check.n_urn:,} remaining "
        f"records ({check.relevant_sample:,} relevant)"
    )
    verdict = (
        f"the hypothesis was rejected ({_p(check.p_value)})"
        if check.target_met
        else f"the hypothesis could not be rejected ({_p(check.p_value)})"
    )
    return f"{rule}; {ranked}, {sample}; {verdict}."
