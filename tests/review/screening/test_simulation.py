"""Replaying a labelled data set (pure): ASReview's priors and order, no leakage, stopping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from review.errors import SimulationError
from review.screening.ranking import Ranker, Ranking
from review.screening.simulation import (
    StopSettings,
    draw_priors,
    random_order,
    simulate,
    stop_outcomes,
)
from review.screening.simulation_data import LabelledData, read_labelled

DATA = Path(__file__).resolve().parents[2] / "data" / "screening"
FIXTURE = DATA / "urinary_incontinence_40.csv"


@pytest.fixture(scope="module")
def data() -> LabelledData:
    return read_labelled(FIXTURE.read_bytes(), FIXTURE.name)


def test_elas_u4_replays_asreview_simulate_exactly(data: LabelledData) -> None:
    """The priors ``asreview simulate --prior-seed S`` drew, the order elas_u4 screened in,
    and insights' figures, for seeds 0-4 (tests/data/screening/make_asreview_reference.py)."""
    runs = json.loads((DATA / "asreview_reference.json").read_text())["runs"]
    ranker = Ranker(data.texts, model="elas-u4")
    for run in runs:
        ours = simulate(ranker, data.labels, seed=run["seed"])
        assert ours.priors == tuple(run["priors"])
        assert ours.order == tuple(run["order"])
        assert ours.metrics.wss95 == pytest.approx(run["wss95"], abs=1e-12)
        assert ours.metrics.wss100 == pytest.approx(run["wss100"], abs=1e-12)
        assert ours.metrics.rrf10 == pytest.approx(run["rrf10"], abs=1e-12)


def test_same_seed_same_run_and_another_seed_other_priors(data: LabelledData) -> None:
    ranker = Ranker(data.texts)
    first = simulate(ranker, data.labels, seed=3)
    assert simulate(Ranker(data.texts), data.labels, seed=3) == first
    other = simulate(ranker, data.labels, seed=4)
    assert other.priors != first.priors
    # a run after another on the same ranker is the run on its own (its fits start afresh)
    assert simulate(ranker, data.labels, seed=3) == first


class Spy:
    """A ranker that records every label set it is trained on."""

    def __init__(self, ranker: Ranker) -> None:
        self.ranker = ranker
        self.calls: list[dict[int, bool]] = []

    def rank(self, labels: Mapping[int, bool]) -> Ranking:
        self.calls.append(dict(labels))
        return self.ranker.rank(labels)

    def forget(self) -> None:
        self.ranker.forget()


def test_the_model_only_ever_sees_the_labels_of_records_already_screened(
    data: LabelledData,
) -> None:
    spy = Spy(Ranker(data.texts))
    run = simulate(spy, data.labels, seed=0)
    screened = list(run.priors)
    for call, next_record in zip(spy.calls, run.order, strict=True):
        assert list(call) == screened  # the priors and the order so far, nothing else
        assert all(call[p] == data.labels[p] for p in call)
        assert next_record not in call
        screened.append(next_record)


def test_without_an_exclude_prior_records_are_screened_top_down_until_the_model_can_fit(
    data: LabelledData,
) -> None:
    spy = Spy(Ranker(data.texts))
    run = simulate(spy, data.labels, seed=0, n_prior_included=1, n_prior_excluded=0)
    first_exclude = next(i for i, v in enumerate(data.labels) if not v and i not in run.priors)
    head = [i for i in range(first_exclude + 1) if i not in run.priors]
    assert list(run.order[: len(head)]) == head  # ASReview's TopDown until IsFittable
    assert len(spy.calls) == len(run.order) - len(head)


def test_priors_are_drawn_as_asreview_draws_them() -> None:
    # asreview/simulation/cli.py: check_random_state(prior_seed).choice(included, n_in,
    # replace=False), then a fresh check_random_state(prior_seed).choice(excluded, ...)
    import numpy as np

    labels = [True, False, True, False, False, True, False]
    expected_in = np.random.RandomState(0).choice([0, 2, 5], 2, replace=False).tolist()
    expected_ex = np.random.RandomState(0).choice([1, 3, 4, 6], 1, replace=False).tolist()
    assert draw_priors(labels, 2, 1, 0) == (*expected_in, *expected_ex)


@pytest.mark.parametrize(
    ("n_in", "n_ex", "message"),
    [
        (7, 1, "7 relevant priors asked for, but the data has 6 relevant records"),
        (1, 35, "35 irrelevant priors asked for, but the data has 34 irrelevant records"),
        (-1, 1, "the number of relevant priors cannot be negative (-1)"),
        (
            6,
            1,
            "every one of the 6 relevant records is a prior; there is nothing left to find "
            "(ask for fewer relevant priors)",
        ),
    ],
)
def test_impossible_priors_are_refused(
    data: LabelledData, n_in: int, n_ex: int, message: str
) -> None:
    with pytest.raises(SimulationError) as caught:
        simulate(
            Ranker(data.texts), data.labels, seed=0, n_prior_included=n_in, n_prior_excluded=n_ex
        )
    assert str(caught.value) == message


def test_random_order_leaves_out_the_priors_and_is_seeded() -> None:
    labels = [True, False] * 10
    order = random_order(labels, (0, 1), 5)
    assert sorted(order) == list(range(2, 20))
    assert random_order(labels, (0, 1), 5) == order != random_order(labels, (0, 1), 6)


def test_run_length_and_safe_stop_where_counted_by_hand() -> None:
    # 20 records, 3 relevant at positions 0, 1 and 9; run length 3, SAFE needs 50% screened.
    # The first run of 3 irrelevant ends at position 4 (records 2, 3, 4): run-length stops
    # after 5 records with 2 of 3 found. SAFE: the run must end at 10 records or later; the
    # run of 3 after the relevant record 9 ends at position 12: 13 records, all 3 found.
    decisions = [True, True, False, False, False, False, False, False, False, True] + [False] * 10
    settings = StopSettings(run_length=3, safe_min_fraction=0.5)
    stops = {s.rule: s for s in stop_outcomes(decisions, 3, seed=0, settings=settings)}
    assert (stops["run-length"].screened, stops["run-length"].recall) == (5, pytest.approx(2 / 3))
    assert stops["run-length"].work_saved == pytest.approx(15 / 20)
    assert (stops["safe"].screened, stops["safe"].recall) == (13, 1.0)
    assert stops["safe"].work_saved == pytest.approx(7 / 20)


def test_statistical_rule_stops_where_the_hypergeometric_test_first_rejects() -> None:
    """Every relevant record among the first 10 of 1,000, run length 10: the switch is at 20.
    Random phase: the urn holds the 980 left, k_target = floor(10 / 0.95 - 10) + 1 = 1, and
    P(X <= 0) for one relevant record among 980 after n draws is (980 - n) / 980, below 0.05
    first at n = 932 (48 / 980 = 0.049); so it stops after 20 + 932 records with recall 1."""
    decisions = [True] * 10 + [False] * 990
    settings = StopSettings(run_length=10)
    stops = {s.rule: s for s in stop_outcomes(decisions, 10, seed=1, settings=settings)}
    assert stops["run-length"].screened == 20
    assert stops["statistical"].screened == 952
    assert stops["statistical"].recall == 1.0
    assert stops["statistical"].work_saved == pytest.approx(48 / 1000)


def test_statistical_rule_checks_after_each_relevant_record_in_the_sample() -> None:
    """The same stop as testing after every single record (the jumps skip nothing)."""
    from review.screening import stopping

    decisions = [True] * 30 + [False] * 20 + [True, False] * 5 + [False] * 440
    settings = StopSettings(run_length=20)
    stops = {s.rule: s for s in stop_outcomes(decisions, 35, seed=2, settings=settings)}
    import numpy as np

    switch = 50
    rest = decisions[switch:]
    shuffled = [rest[i] for i in np.random.RandomState(2).permutation(len(rest))]
    sequence = decisions[:switch] + shuffled
    first = next(
        n
        for n in range(switch, len(sequence) + 1)
        if n == len(sequence)
        or stopping.stop_check(sequence[:n], len(sequence), random_sample_start=switch).target_met
    )
    assert stops["statistical"].screened == first
