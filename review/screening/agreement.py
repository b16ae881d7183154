"""Agreement between screening reviewers (pure): percent agreement, Cohen's kappa with its
large-sample confidence interval, PABAK and Gwet's AC1 for each pair of reviewers, and
Fleiss' kappa for three or more.

Ratings are ``{reviewer: {item: category}}``; a pair is compared on the items both rated.
The categories are given, not read off the ratings: at screening they are the decisions a
reviewer can take at the stage (include, exclude, maybe), so ``k`` = 3 for PABAK and AC1
even when no one used ``maybe`` (the chance of agreeing by guessing depends on the choices
offered, not on the choices made). Kappa does not depend on categories no one used.

Where a coefficient is undefined (kappa when chance agreement is 1, i.e. both reviewers
gave every record the same one decision; anything on no records) it is None with the
reason in words, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

from review.errors import ScreeningError
from review.screening.events import Stage

Table = tuple[tuple[int, ...], ...]
Ratings = Mapping[str, Mapping[Any, str]]
"""``{rater: {item: category}}``; items are any hashable key (cluster ids at screening)."""

CONFIDENCE = 0.95
_EPS = 1e-12


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass(frozen=True, slots=True)
class Kappa:
    """Cohen's kappa of a two-way table with its large-sample standard error (Fleiss, Cohen
    and Everitt 1969, Psychol Bull 72:323-327, the variance ``psych::cohen.kappa`` and
    ``statsmodels.stats.inter_rater.cohens_kappa`` report) and the Wald confidence interval
    ``kappa +- z * se``, truncated to [-1, 1] as psych truncates it. ``value`` is None, with
    ``why_undefined``, when chance agreement ``expected`` is 1 or the table is empty."""

    value: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None
    observed: float | None
    expected: float | None
    confidence: float
    why_undefined: str | None = None
    why_no_interval: str | None = None
    """Why kappa has a value but no interval: one reviewer gave every record the same
    decision, so kappa is 0 whatever the other chose and the large-sample variance is 0
    (an interval [0, 0] would claim a precision the data do not have)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "value": _r(self.value),
            "se": _r(self.se),
            "ci_lower": _r(self.ci_lower),
            "ci_upper": _r(self.ci_upper),
            "confidence": self.confidence,
            "expected_agreement": _r(self.expected),
            "why_undefined": self.why_undefined,
            "why_no_interval": self.why_no_interval,
        }


def _check_table(table: Sequence[Sequence[int]]) -> Table:
    rows = tuple(tuple(int(c) for c in row) for row in table)
    k = len(rows)
    if k < 2 or any(len(row) != k for row in rows):
        raise ScreeningError(
            f"an agreement table must be square with 2 or more categories; got {k} rows"
        )
    if any(c < 0 for row in rows for c in row):
        raise ScreeningError("an agreement table holds counts, which cannot be negative")
    return rows


def _margins(rows: Table) -> tuple[int, list[float], list[float], float]:
    n = sum(map(sum, rows))
    k = len(rows)
    first = [sum(rows[i]) / n for i in range(k)]
    second = [sum(rows[i][j] for i in range(k)) / n for j in range(k)]
    observed = sum(rows[i][i] for i in range(k)) / n
    return n, first, second, observed


def cohen_kappa(
    table: Sequence[Sequence[int]],
    confidence: float = CONFIDENCE,
    names: Sequence[str] | None = None,
) -> Kappa:
    """Cohen's kappa (Cohen 1960, Educ Psychol Meas 20:37-46) of a k x k table of counts
    (rows: the first rater's category, columns: the second's), with the standard error of
    Fleiss, Cohen and Everitt (1969), for kappa not assumed 0:

        var = [ sum_i p_ii ((1 - pe) - (p_i. + p_.i)(1 - po))^2
                + (1 - po)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
                - (po pe - 2 pe + po)^2 ] / (n (1 - pe)^4)
    """
    rows = _check_table(table)
    n = sum(map(sum, rows))
    if n == 0:
        return Kappa(None, None, None, None, None, None, confidence, "no records rated by both")
    _, first, second, po = _margins(rows)
    k = len(rows)
    pe = sum(first[i] * second[i] for i in range(k))
    if 1 - pe <= _EPS:
        used = next(i for i in range(k) if first[i] > 0)
        name = names[used] if names is not None else f"category {used + 1} of {k}"
        why = f"both chose {name} for every record, so chance agreement is 1 and kappa is 0/0"
        return Kappa(None, None, None, None, po, pe, confidence, why)
    kappa = (po - pe) / (1 - pe)
    p = [[c / n for c in row] for row in rows]
    diagonal = sum(p[i][i] * ((1 - pe) - (first[i] + second[i]) * (1 - po)) ** 2 for i in range(k))
    off = sum(p[i][j] * (second[i] + first[j]) ** 2 for i in range(k) for j in range(k) if i != j)
    var = (diagonal + (1 - po) ** 2 * off - (po * pe - 2 * pe + po) ** 2) / (n * (1 - pe) ** 4)
    se = math.sqrt(max(var, 0.0))  # a perfect table gives 0 up to rounding
    if se < 1e-6 and abs(kappa) < 1e-6:
        why = (
            "one reviewer gave every record the same decision, so kappa is 0 whatever the "
            "other chose, and it has no interval"
        )
        return Kappa(kappa, se, None, None, po, pe, confidence, why_no_interval=why)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    lower, upper = max(kappa - z * se, -1.0), min(kappa + z * se, 1.0)
    return Kappa(kappa, se, lower, upper, po, pe, confidence)


def pabak(observed: float, categories: int) -> float:
    """Prevalence- and bias-adjusted kappa: kappa with chance agreement 1/k, that is
    ``(k po - 1) / (k - 1)``; for two categories ``2 po - 1`` (Byrt, Bishop and Carlin 1993,
    J Clin Epidemiol 46:423-429). Bennett, Alpert and Goldstein's S (1954) for any k."""
    if categories < 2:
        raise ScreeningError("PABAK needs 2 or more categories")
    return (categories * observed - 1) / (categories - 1)


def gwet_ac1(table: Sequence[Sequence[int]]) -> float | None:
    """Gwet's AC1 of a k x k table (Gwet 2008, Br J Math Stat Psychol 61:29-48, with k
    categories): ``(po - pe) / (1 - pe)`` where ``pe = sum_q pi_q (1 - pi_q) / (k - 1)``
    and ``pi_q`` is the mean of the two raters' shares of category q. ``pe`` is at most 1/k,
    so AC1 is defined whenever there is a record; None on an empty table."""
    rows = _check_table(table)
    n = sum(map(sum, rows))
    if n == 0:
        return None
    _, first, second, po = _margins(rows)
    k = len(rows)
    pi = [(first[q] + second[q]) / 2 for q in range(k)]
    pe = sum(x * (1 - x) for x in pi) / (k - 1)
    return (po - pe) / (1 - pe)


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """Agreement of two raters on the items both rated: ``n`` such items, their two-way
    ``table`` (rows: ``raters[0]``'s category, columns: ``raters[1]``'s, in the order of
    ``categories``), observed agreement, Cohen's kappa, PABAK and AC1 (k = the number of
    categories offered)."""

    raters: tuple[str, str]
    categories: tuple[str, ...]
    n: int
    table: Table
    observed: float | None
    kappa: Kappa
    pabak: float | None
    ac1: float | None

    @property
    def percent_agreement(self) -> float | None:
        return None if self.observed is None else 100 * self.observed

    def as_dict(self) -> dict[str, object]:
        return {
            "reviewers": list(self.raters),
            "n": self.n,
            "agreed": sum(self.table[i][i] for i in range(len(self.table))),
            "percent_agreement": _r(self.percent_agreement),
            "kappa": self.kappa.as_dict(),
            "pabak": _r(self.pabak),
            "ac1": _r(self.ac1),
            "categories": list(self.categories),
            "table": [list(row) for row in self.table],
        }


def _check_categories(categories: Sequence[str]) -> tuple[str, ...]:
    cats = tuple(dict.fromkeys(categories))
    if len(cats) < 2:
        raise ScreeningError("agreement needs 2 or more categories")
    return cats


def _category(ratings: Ratings, rater: str, item: Hashable, index: Mapping[str, int]) -> int:
    value = ratings[rater][item]
    if value not in index:
        raise ScreeningError(
            f"{rater}'s rating of {item} is {value!r}, not one of: {', '.join(index)}"
        )
    return index[value]


def pair_agreement(
    ratings: Ratings,
    a: str,
    b: str,
    categories: Sequence[str],
    confidence: float = CONFIDENCE,
) -> PairAgreement:
    """Agreement of raters ``a`` and ``b`` on the items both rated."""
    cats = _check_categories(categories)
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    counts = [[0] * k for _ in range(k)]
    both = [item for item in ratings[a] if item in ratings[b]]
    for item in both:
        counts[_category(ratings, a, item, index)][_category(ratings, b, item, index)] += 1
    table = tuple(tuple(row) for row in counts)
    n = len(both)
    observed = sum(table[i][i] for i in range(k)) / n if n else None
    return PairAgreement(
        raters=(a, b),
        categories=cats,
        n=n,
        table=table,
        observed=observed,
        kappa=cohen_kappa(table, confidence, cats),
        pabak=pabak(observed, k) if observed is not None else None,
        ac1=gwet_ac1(table),
    )


def pairwise_agreement(
    ratings: Ratings, categories: Sequence[str], confidence: float = CONFIDENCE
) -> list[PairAgreement]:
    """Every pair of raters (in name order), with the items both rated; pairs with none
    in common are listed with ``n`` = 0 and no coefficients."""
    return [
        pair_agreement(ratings, a, b, categories, confidence)
        for a, b in combinations(sorted(ratings), 2)
    ]


@dataclass(frozen=True, slots=True)
class FleissKappa:
    """Fleiss' kappa for m raters over the ``n`` items every one of them rated (Fleiss
    1971, Psychol Bull 76:378-382): ``(P - Pe) / (1 - Pe)`` with ``P`` the mean agreement
    among the items' pairs of ratings and ``Pe`` the sum of the squared shares of each
    category over all ratings. None, with the reason, when no item was
    rated by all or every rating is of one category."""

    raters: tuple[str, ...]
    n: int
    value: float | None
    observed: float | None
    expected: float | None
    why_undefined: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "reviewers": list(self.raters),
            "n": self.n,
            "value": _r(self.value),
            "observed_agreement": _r(self.observed),
            "expected_agreement": _r(self.expected),
            "why_undefined": self.why_undefined,
        }


def fleiss_kappa_counts(
    counts: Sequence[Sequence[int]],
    raters: tuple[str, ...] = (),
    names: Sequence[str] | None = None,
) -> FleissKappa:
    """Fleiss' kappa of an items x categories table of counts, each row summing to the
    same number of ratings m >= 2 (the raters may differ from item to item)."""
    rows = [tuple(int(c) for c in row) for row in counts]
    n = len(rows)
    if n == 0:
        return FleissKappa(raters, 0, None, None, None, "no record was rated by all of them")
    m = sum(rows[0])
    if m < 2 or any(sum(row) != m for row in rows) or any(c < 0 for r in rows for c in r):
        raise ScreeningError("Fleiss' kappa needs the same number (2 or more) of ratings per item")
    k = len(rows[0])
    share = [sum(row[j] for row in rows) / (n * m) for j in range(k)]
    agreement = sum((sum(c * c for c in row) - m) / (m * (m - 1)) for row in rows) / n
    expected = sum(s * s for s in share)
    if 1 - expected <= _EPS:
        used = next(j for j in range(k) if share[j] > 0)
        name = names[used] if names is not None else f"category {used + 1} of {k}"
        why = f"every rating is {name}, so chance agreement is 1 and kappa is 0/0"
        return FleissKappa(raters, n, None, agreement, expected, why)
    return FleissKappa(raters, n, (agreement - expected) / (1 - expected), agreement, expected)


def fleiss_kappa(ratings: Ratings, categories: Sequence[str]) -> FleissKappa:
    """Fleiss' kappa of all the raters in ``ratings`` over the items every one rated."""
    cats = _check_categories(categories)
    index = {c: i for i, c in enumerate(cats)}
    raters = tuple(sorted(ratings))
    if len(raters) < 2:
        raise ScreeningError("Fleiss' kappa needs 2 or more raters")
    common = [item for item in ratings[raters[0]] if all(item in ratings[r] for r in raters)]
    rows = []
    for item in common:
        row = [0] * len(cats)
        for rater in raters:
            row[_category(ratings, rater, item, index)] += 1
        rows.append(row)
    return fleiss_kappa_counts(rows, raters, cats)


@dataclass(frozen=True, slots=True)
class StageAgreement:
    """Agreement between the reviewers at one screening stage: each pair on the records
    both decided, and Fleiss' kappa over the records all decided when three or more did."""

    stage: Stage
    categories: tuple[str, ...]
    reviewers: tuple[str, ...]
    pairs: tuple[PairAgreement, ...]
    fleiss: FleissKappa | None

    @property
    def compared(self) -> bool:
        """True when some pair of reviewers has a record in common."""
        return any(p.n for p in self.pairs)

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "categories": list(self.categories),
            "reviewers": list(self.reviewers),
            "confidence": CONFIDENCE,
            "pairs": [p.as_dict() for p in self.pairs],
            "fleiss": self.fleiss.as_dict() if self.fleiss is not None else None,
        }


def stage_agreement(stage: Stage, ratings: Ratings, categories: Sequence[str]) -> StageAgreement:
    """Every pair's agreement at a stage, and Fleiss' kappa for three or more reviewers."""
    pairs = pairwise_agreement(ratings, categories)
    fleiss = fleiss_kappa(ratings, categories) if len(ratings) >= 3 else None
    return StageAgreement(
        stage, _check_categories(categories), tuple(sorted(ratings)), tuple(pairs), fleiss
    )
