"""PRISMA 2020 flow counts from the store's facts (pure): what was identified, per source,
and what deduplication removed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from review.dedup.clusters import Membership


@dataclass(frozen=True, slots=True)
class DedupCounts:
    """Identification counts: records per source, duplicates removed, records left."""

    per_source: tuple[tuple[str, int], ...]
    records_identified: int
    duplicates_removed: int
    records_after_dedup: int
    clusters: int
    pairs_queued: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "records_per_source": dict(self.per_source),
            "records_identified": self.records_identified,
            "clusters": self.clusters,
            "duplicates_removed": self.duplicates_removed,
            "records_after_dedup": self.records_after_dedup,
            "pairs_queued": self.pairs_queued,
        }


def identification_counts(
    per_source: Iterable[tuple[str, int]], membership: Membership, pairs_queued: int
) -> DedupCounts:
    """Records per source (live records), duplicates removed (live records that are not the
    primary of their cluster), records after deduplication, clusters of two or more, and
    pairs still waiting for a person."""
    identified = len(membership.cluster_of)
    primaries = len(membership.primary_of)
    sizes: dict[int, int] = {}
    for cluster_id in membership.cluster_of.values():
        sizes[cluster_id] = sizes.get(cluster_id, 0) + 1
    return DedupCounts(
        per_source=tuple(per_source),
        records_identified=identified,
        duplicates_removed=identified - primaries,
        records_after_dedup=primaries,
        clusters=sum(1 for n in sizes.values() if n > 1),
        pairs_queued=pairs_queued,
    )
