"""The protocol's analysis plan on the worked example's counts: primary, subgroups and the
sensitivity analyses in the plan's order, through the review handle."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta.counts import make_counts
from meta.pooling import pool
from review.api import Review
from review.errors import ProtocolError

STUDIES = ["Narváez 2019", "Daoussis 2012", "Poormoghim 2016"]
CLINICAL = make_counts([4, 1, 0], [8, 1, 1], STUDIES)
FIELDS = {"source_type": ["local series", "published", "published"]}


def test_the_plan_pools_the_primary_model_and_every_planned_analysis(review_dir: Path) -> None:
    with Review.open(review_dir) as review:
        result = review.pool_plan(CLINICAL, outcome="clinical_response", study_fields=FIELDS)
        plan = review.protocol.analysis
    assert result.primary == pool(CLINICAL, method="GLMM", measure="PLO")
    labels = [row.label for row in result.sensitivity.rows]
    assert labels[:5] == [s.label for s in plan.sensitivity[:5]]
    assert labels[5:8] == [f"Leave out {name}" for name in STUDIES]
    assert labels[8:] == [
        "Without single-case reports (n = 1)",
        "Published cases only (without the local series)",
    ]
    reml = result.sensitivity.rows[0]
    assert (reml.method, reml.measure, reml.test) == ("REML", "PLO", "z")
    assert reml.estimate == pytest.approx(pool(CLINICAL, method="REML").estimate)
    published = result.sensitivity.rows[-1]
    assert published.k == 2 and published.failed  # 1/1 and 0/1: no finite GLMM fit


def test_a_subgroup_without_values_is_reported_not_dropped(review_dir: Path) -> None:
    with Review.open(review_dir) as review:
        result = review.pool_plan(CLINICAL, study_fields=FIELDS)
    by_variable = {c.variable: c for c in result.subgroups}
    assert list(by_variable) == ["source_type", "design"]
    assert by_variable["design"].result is None
    assert by_variable["design"].error == (
        "no values of the study field 'design' for these studies"
    )
    source = by_variable["source_type"]  # 'published' is 1/1 and 0/1: no GLMM fit
    assert source.error is None and source.result is not None
    assert [name for name, _ in source.result.groups] == ["local series"]
    assert [f.name for f in source.result.failed] == ["published"]
    assert source.result.failed[0].error.startswith("the GLMM cannot be fitted: ")
    assert source.result.q_between is None


def test_an_unknown_outcome_names_the_known_ones(review_dir: Path) -> None:
    with Review.open(review_dir) as review, pytest.raises(ProtocolError) as caught:
        review.pool_plan(CLINICAL, outcome="pain")
    assert str(caught.value) == (
        "no outcome 'pain' in the protocol (known: clinical_response, radiological_response, "
        "adverse_events)"
    )
