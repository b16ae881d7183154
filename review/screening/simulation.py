"""Replaying a labelled data set as a screener would meet it (pure), as ``asreview simulate``
does, to measure a ranking model and the stopping rules.

One run, given a seed:

1. Priors are drawn as ASReview 2.x draws them for ``--n-prior-included I
   --n-prior-excluded E --prior-seed SEED`` (``asreview/simulation/cli.py``):
   ``RandomState(SEED).choice(included_positions, I, replace=False)``, then a fresh
   ``RandomState(SEED).choice(excluded_positions, E, replace=False)``; includes first.
   Positions are row numbers in the file's order, as ASReview's record ids are.
2. While the labels hold no include or no exclude, records are screened top-down in file
   order (ASReview's ``TopDown`` querier until ``IsFittable``).
3. Then, after every single decision, the model is retrained on every decision so far and
   the most relevant unscreened record is screened next (ASReview's ``max`` querier with
   one record per query), until the last relevant record is found (ASReview's default
   stopper). The rest are irrelevant, so the order is padded with them for the metrics, as
   asreview-insights pads it.

The stopping rules replay the same order. The run-length rule (N irrelevant in a row) stops
where the run first reaches N; the checkable part of SAFE (Boetje and van de Schoot 2024;
no random set of phase S is screened in a simulation, so its relevant-count condition is
left out) stops at the first point that also has 10% of the records screened. The
statistical rule (Callaghan and Müller-Hansen 2020, ``review.screening.stopping``) switches
at the run-length point to a random order of the records left (drawn with the run's seed)
and stops as soon as its hypergeometric test rejects "recall < target" at the confidence
asked; between relevant records it jumps ahead by the number of records the test says are
still needed, which gives the same stopping point as testing after every record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from review.errors import SimulationError
from review.screening.ranking import Ranking
from review.screening.simulation_metrics import OrderMetrics, order_metrics


class SupportsRank(Protocol):
    """What the simulation needs of a ranker (``review.screening.ranking.Ranker``)."""

    def rank(self, labels: Mapping[int, bool]) -> Ranking: ...

    def forget(self) -> None:
        """Drop any state from the run before (each run starts from nothing)."""


@dataclass(frozen=True)
class StopOutcome:
    """Where one stopping rule stopped: records screened (priors included), the recall
    reached then and the work saved (the share of records left unscreened)."""

    rule: str
    screened: int
    recall: float
    work_saved: float


@dataclass(frozen=True)
class SimulationRun:
    """One replay: the priors, the screening order after them (to the last relevant record),
    the true labels in that order padded with the irrelevant rest, and the figures."""

    seed: int
    priors: tuple[int, ...]
    order: tuple[int, ...]
    labels: tuple[int, ...]
    metrics: OrderMetrics
    stops: tuple[StopOutcome, ...]

    def stop(self, rule: str) -> StopOutcome:
        """The outcome of the stopping rule named ``rule``."""
        return next(s for s in self.stops if s.rule == rule)


@dataclass(frozen=True)
class StopSettings:
    """The stopping rules' parameters: target recall and confidence of the statistical rule,
    the run length N of the heuristic, SAFE's minimum share screened."""

    recall: float = 0.95
    confidence: float = 0.95
    run_length: int = 50
    safe_min_fraction: float = 0.10


STOP_RULES = ("statistical", "run-length", "safe")


def draw_priors(
    labels: Sequence[bool], n_included: int, n_excluded: int, seed: int
) -> tuple[int, ...]:
    """Prior positions as ``asreview simulate --prior-seed seed`` draws them (module
    docstring, step 1)."""
    import numpy as np

    truth = np.asarray(labels, dtype=bool)
    chosen: list[int] = []
    for wanted, pool, kind in (
        (n_included, np.flatnonzero(truth), "relevant"),
        (n_excluded, np.flatnonzero(~truth), "irrelevant"),
    ):
        if wanted < 0:
            raise SimulationError(f"the number of {kind} priors cannot be negative ({wanted})")
        if wanted > len(pool):
            raise SimulationError(
                f"{wanted} {kind} priors asked for, but the data has {len(pool)} {kind} records"
            )
        if wanted:
            drawn = np.random.RandomState(seed).choice(pool, wanted, replace=False)
            chosen.extend(int(i) for i in drawn)
    return tuple(chosen)


def simulate(
    ranker: SupportsRank,
    labels: Sequence[bool],
    *,
    seed: int,
    n_prior_included: int = 1,
    n_prior_excluded: int = 1,
    stop_settings: StopSettings | None = None,
) -> SimulationRun:
    """Replay ``labels`` (one per position of the ranker's texts) with ``ranker``."""
    truth = [bool(v) for v in labels]
    n = len(truth)
    n_relevant = sum(truth)
    priors = draw_priors(truth, n_prior_included, n_prior_excluded, seed)
    if sum(truth[p] for p in priors) == n_relevant:
        raise SimulationError(
            f"every one of the {n_relevant} relevant records is a prior; "
            "there is nothing left to find (ask for fewer relevant priors)"
        )
    ranker.forget()  # a run's numbers never depend on the run before it
    seen: dict[int, bool] = {p: truth[p] for p in priors}
    order: list[int] = []
    found = sum(seen.values())
    top_down = iter(range(n))
    while found < n_relevant:
        if all(seen.values()) or not any(seen.values()):
            position = next(p for p in top_down if p not in seen)
        else:
            position = ranker.rank(dict(seen)).order[0]
        seen[position] = truth[position]
        order.append(position)
        found += truth[position]
    screened_labels = [int(truth[p]) for p in order]
    padded = screened_labels + [0] * (n - len(priors) - len(order))
    settings = stop_settings or StopSettings()
    prior_labels = [truth[p] for p in priors]
    stops = stop_outcomes(
        prior_labels + [bool(v) for v in padded], n_relevant, seed=seed, settings=settings
    )
    return SimulationRun(
        seed=seed,
        priors=priors,
        order=tuple(order),
        labels=tuple(padded),
        metrics=order_metrics(padded),
        stops=stops,
    )


def random_order(labels: Sequence[bool], priors: Sequence[int], seed: int) -> tuple[int, ...]:
    """The records other than the priors in a random order (``RandomState(seed)``): the
    baseline a ranking must beat."""
    import numpy as np

    prior_set = set(priors)
    rest = np.array([i for i in range(len(labels)) if i not in prior_set], dtype=np.int64)
    return tuple(int(i) for i in np.random.RandomState(seed).permutation(rest))


def stop_outcomes(
    decisions: Sequence[bool],
    n_relevant: int,
    *,
    seed: int,
    settings: StopSettings,
) -> tuple[StopOutcome, ...]:
    """Where each stopping rule stops on ``decisions``: the true labels of every record in
    the ranked order (priors first), each record once (module docstring)."""
    from review.screening import stopping

    n = len(decisions)

    def outcome(rule: str, screened: int) -> StopOutcome:
        found = sum(decisions[:screened])
        return StopOutcome(rule, screened, found / n_relevant, 1 - screened / n)

    switch = stopping.switch_point(decisions, settings.run_length)
    run_stop = n if switch is None else switch
    safe_stop = _safe_stop(decisions, settings)
    stat_stop = (
        n if switch is None else _statistical_stop(decisions, switch, seed=seed, settings=settings)
    )
    return (
        outcome("statistical", stat_stop),
        outcome("run-length", run_stop),
        outcome("safe", safe_stop),
    )


def _safe_stop(decisions: Sequence[bool], settings: StopSettings) -> int:
    """The first number screened with the run of irrelevant records at ``run_length`` or
    more and at least ``safe_min_fraction`` of the records screened (n if never)."""
    import math

    n = len(decisions)
    least = math.ceil(settings.safe_min_fraction * n)
    run = 0
    for position, decision in enumerate(decisions):
        run = 0 if decision else run + 1
        if run >= settings.run_length and position + 1 >= least:
            return position + 1
    return n


def _statistical_stop(
    decisions: Sequence[bool], switch: int, *, seed: int, settings: StopSettings
) -> int:
    """Records screened when the hypergeometric test first rejects H0, screening the
    records left after ``switch`` in a random order; n if it never does."""
    import numpy as np

    from review.screening import stopping

    n = len(decisions)
    rest = list(decisions[switch:])
    shuffled = [rest[i] for i in np.random.RandomState(seed).permutation(len(rest))]
    sequence = list(decisions[:switch]) + shuffled
    screened = switch
    while screened < n:
        check = stopping.stop_check(
            sequence[:screened],
            n,
            recall=settings.recall,
            confidence=settings.confidence,
            random_sample_start=switch,
        )
        if check.target_met:
            return screened
        step = max(1, check.more_to_screen)
        ahead = sequence[screened : screened + step]
        # a relevant record inside the step changes the test: look again just after it
        screened += ahead.index(True) + 1 if True in ahead else len(ahead)
    return n


@dataclass(frozen=True)
class SimulationSummary:
    """Runs over seeds 0..n-1 of one data set and model, with random order beside them."""

    name: str
    model: str
    n_records: int
    n_relevant: int
    n_prior_included: int
    n_prior_excluded: int
    settings: StopSettings
    runs: tuple[SimulationRun, ...]
    random: tuple[OrderMetrics, ...]

    def median(self, metric: str, *, random: bool = False) -> float:
        """The median over seeds of one ``OrderMetrics`` field (of random order if asked)."""
        from statistics import median

        source = self.random if random else tuple(r.metrics for r in self.runs)
        return float(median(getattr(m, metric) for m in source))

    def stop_summary(self, rule: str) -> dict[str, float | int]:
        """How one stopping rule did over the runs: runs reaching the target recall, the
        median recall, work saved and records screened when it stopped."""
        from statistics import median

        stops = [run.stop(rule) for run in self.runs]
        reached = sum(1 for s in stops if s.recall >= self.settings.recall - 1e-12)
        return {
            "runs": len(stops),
            "reached_target": reached,
            "below_target": len(stops) - reached,
            "median_recall": float(median(s.recall for s in stops)),
            "median_work_saved": float(median(s.work_saved for s in stops)),
            "median_screened": float(median(s.screened for s in stops)),
        }

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``: settings, medians, each run's figures and stops."""
        metrics = ("wss95", "wss100", "rrf10", "atd")
        return {
            "data": self.name,
            "model": self.model,
            "n_records": self.n_records,
            "n_relevant": self.n_relevant,
            "priors": {"relevant": self.n_prior_included, "irrelevant": self.n_prior_excluded},
            "seeds": [r.seed for r in self.runs],
            "stopping": {
                "recall": self.settings.recall,
                "confidence": self.settings.confidence,
                "run_length": self.settings.run_length,
                "safe_min_fraction": self.settings.safe_min_fraction,
            },
            "median": {m: self.median(m) for m in metrics},
            "random_median": {m: self.median(m, random=True) for m in metrics},
            "stop_rules": {rule: self.stop_summary(rule) for rule in STOP_RULES},
            "runs": [
                {
                    "seed": r.seed,
                    "priors": list(r.priors),
                    **{m: getattr(r.metrics, m) for m in metrics},
                    "stops": {
                        s.rule: {
                            "screened": s.screened,
                            "recall": s.recall,
                            "work_saved": s.work_saved,
                        }
                        for s in r.stops
                    },
                }
                for r in self.runs
            ],
        }


def simulate_seeds(
    ranker: SupportsRank,
    labels: Sequence[bool],
    *,
    name: str,
    model: str,
    seeds: int = 10,
    n_prior_included: int = 1,
    n_prior_excluded: int = 1,
    stop_settings: StopSettings | None = None,
) -> SimulationSummary:
    """``simulate`` with seeds 0..seeds-1 (the prior seed and the model's seed alike, as
    the benchmark passes ``--prior-seed S --seed S`` to ASReview), and random order with the
    same priors and seeds."""
    if seeds < 1:
        raise SimulationError(f"the number of seeds must be at least 1, got {seeds}")
    settings = stop_settings or StopSettings()
    runs = tuple(
        simulate(
            ranker,
            labels,
            seed=seed,
            n_prior_included=n_prior_included,
            n_prior_excluded=n_prior_excluded,
            stop_settings=settings,
        )
        for seed in range(seeds)
    )
    truth = [bool(v) for v in labels]
    random = tuple(
        order_metrics([int(truth[i]) for i in random_order(truth, run.priors, run.seed)])
        for run in runs
    )
    return SimulationSummary(
        name=name,
        model=model,
        n_records=len(truth),
        n_relevant=sum(truth),
        n_prior_included=n_prior_included,
        n_prior_excluded=n_prior_excluded,
        settings=settings,
        runs=runs,
        random=random,
    )
