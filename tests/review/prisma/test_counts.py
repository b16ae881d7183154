"""The PRISMA flow of reviews screened at random through the real store and library API:
every box follows from the one above, the records identified are the records stored, and
the diagram shows the flow's numbers."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from prisma_flows import expected_numbers, identities_hold, numbers, screen_at_random

from review.api import Review
from review.prisma.layout import layout

PROTOCOL = Path(__file__).resolve().parents[3] / "protocols" / "rtx-ssc-calcinosis.toml"


def check(review_dir: Path) -> None:
    with Review.open(review_dir) as review:
        flow, blind = review.screening.flow()
        stored = review.clusters()
    assert blind == ()
    identities_hold(flow)
    assert flow.identified + flow.other_identified == len(stored.cluster_of)
    assert flow.records_screened + flow.other_sought + flow.other_screened_out + (
        flow.other_awaiting_screening
    ) == len(stored.primary_of)
    assert {s.name for s in flow.sources} <= {"pubmed", "embase", "local-series", "reference-lists"}
    assert all(s.left == (s.name in ("pubmed", "embase")) for s in flow.sources)
    plan = layout(flow)
    assert numbers(line for box in plan.boxes for line in box.lines) == expected_numbers(flow)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25))
def test_randomly_screened_reviews_keep_the_flows_identities(seed: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        review_dir = Path(folder) / "review"
        Review.create(review_dir, PROTOCOL)
        screen_at_random(review_dir, seed, n)
        check(review_dir)


def test_a_randomly_screened_review_keeps_the_identities_on_each_store(review_dir: Path) -> None:
    screen_at_random(review_dir, seed=20_26, n=30)
    check(review_dir)
