"""Identification counts from cluster membership (pure)."""

from __future__ import annotations

from review.dedup.clusters import Membership
from review.prisma.counts import identification_counts


def test_duplicates_removed_are_the_records_that_are_not_primaries() -> None:
    membership = Membership.from_rows(
        [1, 2, 3, 4, 5], [(1, 1, True), (3, 1, False), (4, 1, False), (5, 2, False)]
    )
    counts = identification_counts([("embase", 2), ("pubmed", 3)], membership, pairs_queued=4)
    assert counts.records_identified == 5
    assert counts.duplicates_removed == 3  # records 3, 4 (cluster 1) and 5 (cluster 2)
    assert counts.records_after_dedup == 2
    assert counts.clusters == 2
    assert counts.as_dict() == {
        "records_per_source": {"embase": 2, "pubmed": 3},
        "records_identified": 5,
        "clusters": 2,
        "duplicates_removed": 3,
        "records_after_dedup": 2,
        "pairs_queued": 4,
    }
