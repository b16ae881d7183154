"""WSS, RRF, ATD and the recall curve against hand-computed cases and asreview-insights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.errors import SimulationError
from review.screening.simulation_metrics import (
    atd,
    order_metrics,
    recall_curve,
    rrf,
    wss,
)

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "screening" / "insights_reference.json"

# N = 10 records, R = 2 relevant, found at 0-based indexes 0 and 2.
# Random baseline: round(linspace(0, 2, 10)) = round([0, .22, .44, .67, .89, 1.11, 1.33,
# 1.56, 1.78, 2]) = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]: it reaches 1 at index 3, 2 at index 7.
# WSS@100: k = 2: (7 - 2) / 10 = 0.5.  WSS@95: the largest k with k / 2 <= 0.95 is 1:
# (3 - 0) / 10 = 0.3.  RRF@10: the first floor(0.1 * 10) = 1 record holds 1 of the 2: 0.5.
# ATD: positions 1 and 3, mean 2.0.
TEN = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]


def test_wss_rrf_atd_of_a_hand_computed_order() -> None:
    assert wss(TEN, 1.0) == pytest.approx(0.5)
    assert wss(TEN, 0.95) == pytest.approx(0.3)
    assert rrf(TEN, 0.1) == pytest.approx(0.5)
    assert atd(TEN) == pytest.approx(2.0)
    m = order_metrics(TEN)
    assert (m.n_records, m.n_relevant) == (10, 2)
    assert (m.wss95, m.wss100, m.rrf10, m.atd) == pytest.approx((0.3, 0.5, 0.5, 2.0))
    assert m.atd_share == pytest.approx(0.2)


def test_wss_below_random_is_negative_and_half_way_rounds_to_even() -> None:
    # N = 5, R = 2: linspace(0, 2, 5) = [0, .5, 1, 1.5, 2] rounds (half to even) to
    # [0, 0, 1, 2, 2]: random reaches 1 at index 2 and 2 at index 3. Found at 1 and 4:
    # WSS@100 = (3 - 4) / 5 = -0.2; WSS@95 (k = 1) = (2 - 1) / 5 = 0.2.
    labels = [0, 1, 0, 0, 1]
    assert wss(labels, 1.0) == pytest.approx(-0.2)
    assert wss(labels, 0.95) == pytest.approx(0.2)


def test_one_relevant_record_wss95_is_wss100_and_rrf_of_no_record_is_zero() -> None:
    # N = 4, R = 1: round(linspace(0, 1, 4)) = [0, 0, 1, 1]: random finds it at index 2.
    # Found at 0: WSS = 2 / 4. No k has k / 1 <= 0.95, so WSS@95 takes k = R (as insights'
    # index -1 does). RRF@10: floor(0.1 * 4) = 0 records screened: recall 0.
    labels = [1, 0, 0, 0]
    assert wss(labels, 0.95) == wss(labels, 1.0) == pytest.approx(0.5)
    assert rrf(labels, 0.1) == 0.0
    assert atd(labels) == 1.0


def test_recall_curve_counts_each_screened_record() -> None:
    assert recall_curve(TEN) == (0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert recall_curve([False, True]) == (0.0, 1.0)


def test_metrics_match_asreview_insights_on_random_orders() -> None:
    """40 orders whose figures asreview-insights 1.6.1 computed itself
    (tests/data/screening/make_insights_reference.py)."""
    cases = json.loads(REFERENCE.read_text())["cases"]
    assert len(cases) >= 40
    for case in cases:
        m = order_metrics(case["labels"])
        assert m.wss95 == pytest.approx(case["wss95"], abs=1e-12), case["labels"]
        assert m.wss100 == pytest.approx(case["wss100"], abs=1e-12), case["labels"]
        assert m.rrf10 == pytest.approx(case["rrf10"], abs=1e-12), case["labels"]
        assert m.atd == pytest.approx(case["atd"], abs=1e-12), case["labels"]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 0, 0], "the screening order holds no relevant record"),
        ([], "the screening order holds no relevant record"),
        ([0, 2, 1], "labels must be 0 or 1"),
    ],
)
def test_metrics_refuse_orders_without_a_relevant_record(labels: list[int], message: str) -> None:
    with pytest.raises(SimulationError) as caught:
        order_metrics(labels)
    assert str(caught.value) == message
