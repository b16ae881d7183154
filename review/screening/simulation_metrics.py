"""How well a screening order finds the relevant records (pure): WSS, RRF, ATD, recall curve.

Every function takes ``labels``: the true labels (1 relevant, 0 not) of the records in the
order they were screened, the prior records left out, every remaining record present (a
run that stopped early is padded with 0s, as asreview-insights pads it). The definitions
are asreview-insights 1.6.1's (``asreviewcontrib/insights/algorithms.py`` and
``metrics.py``), step for step, so figures compare with published ASReview simulations:

- WSS@r (work saved over sampling): when the first ``k`` relevant records are found, with
  ``k`` the largest count whose recall ``k / R`` is at most ``r``, the share of all records
  that random order would still have had to screen: ``(t_random(k) - t(k)) / N``, where
  ``t(k)`` is the (0-based) index at which the k-th relevant record is screened and
  ``t_random(k)`` the first index where ``round(linspace(0, R, N))`` reaches ``k``
  (Cohen et al. 2006, as asreview-insights computes it).
- RRF@p (relevant records found): the recall after the first ``floor(p * N)`` records (by
  asreview-insights' ``recall`` at ``x = p``), 0 when that is no record.
- ATD (average time to discovery): the mean over relevant records of their 1-based position
  in the screening order (asreview-insights' ``average_time_to_discovery``; Ferdinands et
  al. 2023 divide it by N, given here as ``atd_share``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from review.errors import SimulationError


@dataclass(frozen=True)
class OrderMetrics:
    """The figures of one screening order (see the module docstring)."""

    n_records: int
    n_relevant: int
    wss95: float
    wss100: float
    rrf10: float
    atd: float

    @property
    def atd_share(self) -> float:
        """ATD as a share of the records screened (Ferdinands et al. 2023)."""
        return self.atd / self.n_records


def _checked(labels: Sequence[int | bool]) -> list[int]:
    values = [int(v) for v in labels]
    if any(v not in (0, 1) for v in values):
        raise SimulationError("labels must be 0 or 1")
    if not any(values):
        raise SimulationError("the screening order holds no relevant record")
    return values


def _found_at(values: Sequence[int]) -> list[int]:
    """0-based index at which the 1st, 2nd, ... relevant record is screened."""
    return [i for i, v in enumerate(values) if v]


def _random_found_at(n_records: int, n_relevant: int) -> list[int]:
    """asreview-insights' random baseline: the first index where
    ``round(linspace(0, R, N))`` reaches k, for k = 1..R (numpy's floats and rounding, so
    that half-way cases fall as they fall there)."""
    import numpy as np

    expected = np.round(np.linspace(0, n_relevant, n_records))
    return [int(i) for i in np.searchsorted(expected, np.arange(1, n_relevant + 1))]


def wss(labels: Sequence[int | bool], recall: float) -> float:
    """Work saved over sampling at ``recall`` (0 < recall <= 1); see the module docstring.
    When no count k has ``k / R <= recall`` (one relevant record and recall < 1), k is R:
    asreview-insights' index -1 falls on the last count."""
    values = _checked(labels)
    n, r = len(values), sum(values)
    k = _largest_count_within(r, recall) or r
    return (_random_found_at(n, r)[k - 1] - _found_at(values)[k - 1]) / n


def _largest_count_within(n_relevant: int, recall: float) -> int:
    """The largest k with ``k / R <= recall``, in floats as asreview-insights computes it
    (``searchsorted(arange(1, R + 1) / R, recall, side='right')``)."""
    return sum(1 for k in range(1, n_relevant + 1) if k / n_relevant <= recall)


def rrf(labels: Sequence[int | bool], screened: float) -> float:
    """Share of the relevant records found after screening the share ``screened`` of all."""
    values = _checked(labels)
    n, r = len(values), sum(values)
    m = sum(1 for i in range(1, n + 1) if i / n <= screened)
    return sum(values[:m]) / r


def atd(labels: Sequence[int | bool]) -> float:
    """Average time to discovery: mean 1-based position of the relevant records."""
    found = _found_at(_checked(labels))
    return sum(i + 1 for i in found) / len(found)


def recall_curve(labels: Sequence[int | bool]) -> tuple[float, ...]:
    """Recall after each record screened: the i-th value is the share of the relevant
    records among the first i + 1 (asreview-insights' ``_recall_values``)."""
    values = _checked(labels)
    r = sum(values)
    found = 0
    curve: list[float] = []
    for v in values:
        found += v
        curve.append(found / r)
    return tuple(curve)


def order_metrics(labels: Sequence[int | bool]) -> OrderMetrics:
    """WSS@95, WSS@100, RRF@10 and ATD of one screening order."""
    values = _checked(labels)
    return OrderMetrics(
        n_records=len(values),
        n_relevant=sum(values),
        wss95=wss(values, 0.95),
        wss100=wss(values, 1.0),
        rrf10=rrf(values, 0.1),
        atd=atd(values),
    )
