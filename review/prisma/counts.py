"""PRISMA 2020 flow counts from the store's facts (pure): what was identified, per source,
and what deduplication removed (``identification_counts``, what ``casepool dedup``
reports), and the whole flow through screening (``prisma_flow``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from review.dedup.clusters import Membership
from review.prisma.flow import LEFT_KINDS, PrismaFlow, ReasonCount, SourceCount, SourceKind
from review.screening.state import StageOutcome


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


def prisma_flow(
    record_sources: Mapping[int, str],
    kinds: Mapping[str, SourceKind],
    membership: Membership,
    screened: Mapping[int, StageOutcome],
    assessed: Mapping[int, tuple[StageOutcome, str | None]],
    retrieval: Mapping[int, str],
    study_of: Mapping[int, int],
    reasons: Sequence[tuple[str, str]],
) -> PrismaFlow:
    """The whole PRISMA 2020 flow from the facts (see ``review.prisma.flow``).

    ``record_sources``: each live record's source; ``kinds``: each source's kind (a source
    not named is a database); ``screened``: each cluster's title/abstract outcome
    (``advanced``, ``excluded`` or ``awaiting``); ``assessed``: the full-text outcome of
    each cluster with a full-text decision and, if excluded, its reason code;
    ``retrieval``: ``retrieved`` or ``not_retrieved`` for clusters whose full text was
    looked for; ``study_of``: each
    cluster's study; ``reasons``: the protocol's (code, label) in order.

    A cluster with any record from a database or register is counted in the left column,
    and its records from other methods as removed there (already found); a cluster of
    records from other methods only is the right column's. A report with a full-text
    decision or a retrieved full text is assessed; one without either waits for retrieval.
    """
    source_kind = {name: kinds.get(name, "database") for name in set(record_sources.values())}
    per_source: dict[str, int] = {}
    for source in record_sources.values():
        per_source[source] = per_source.get(source, 0) + 1
    sources = tuple(
        SourceCount(name, source_kind[name], n)
        for name, n in sorted(per_source.items(), key=lambda kv: (kv[0] != "pubmed", kv[0]))
    )
    left_clusters: list[int] = []
    right_clusters: list[int] = []
    duplicates = other_removed = 0
    for cluster, members in membership.groups().items():
        left = [m for m in members if source_kind[record_sources[m]] in LEFT_KINDS]
        if left:
            left_clusters.append(cluster)
            duplicates += len(left) - 1
            other_removed += len(members) - len(left)
        else:
            right_clusters.append(cluster)
            other_removed += len(members) - 1
    left_part = _column(left_clusters, screened, assessed, retrieval, reasons)
    right_part = _column(right_clusters, screened, assessed, retrieval, reasons)
    included = left_part.included + right_part.included
    return PrismaFlow(
        sources=sources,
        duplicates=duplicates,
        excluded_automatic=0,
        excluded_other=0,
        records_screened=len(left_clusters),
        records_excluded=left_part.screened_out,
        records_awaiting=left_part.awaiting_screening,
        dbr_sought=len(left_part.sought),
        dbr_not_retrieved=left_part.not_retrieved,
        dbr_awaiting_retrieval=left_part.awaiting_retrieval,
        dbr_assessed=left_part.assessed,
        dbr_excluded=left_part.excluded,
        dbr_awaiting=left_part.awaiting,
        dbr_included=len(left_part.included),
        other_removed=other_removed,
        other_screened_out=right_part.screened_out,
        other_awaiting_screening=right_part.awaiting_screening,
        other_sought=len(right_part.sought),
        other_not_retrieved=right_part.not_retrieved,
        other_awaiting_retrieval=right_part.awaiting_retrieval,
        other_assessed=right_part.assessed,
        other_excluded=right_part.excluded,
        other_awaiting=right_part.awaiting,
        other_included=len(right_part.included),
        new_studies=len({study_of.get(c, c) for c in included}),
        new_reports=len(included),
    )


@dataclass(frozen=True, slots=True)
class _Column:
    screened_out: int
    awaiting_screening: int
    sought: list[int]
    not_retrieved: int
    awaiting_retrieval: int
    assessed: int
    excluded: tuple[ReasonCount, ...]
    awaiting: int
    included: list[int]


def _column(
    clusters: Sequence[int],
    screened: Mapping[int, StageOutcome],
    assessed: Mapping[int, tuple[StageOutcome, str | None]],
    retrieval: Mapping[int, str],
    reasons: Sequence[tuple[str, str]],
) -> _Column:
    outcome = [screened.get(c, "awaiting") for c in clusters]
    sought = [c for c, o in zip(clusters, outcome, strict=True) if o == "advanced"]
    not_retrieved = {c for c in sought if retrieval.get(c) == "not_retrieved"}
    looked_at = [
        c
        for c in sought
        if retrieval.get(c) != "not_retrieved"
        and (retrieval.get(c) == "retrieved" or c in assessed)
    ]
    by_reason: dict[str, int] = {}
    included: list[int] = []
    awaiting = 0
    for cluster in looked_at:
        result, reason = assessed.get(cluster, ("awaiting", None))
        if result == "excluded":
            key = reason or ""
            by_reason[key] = by_reason.get(key, 0) + 1
        elif result == "included":
            included.append(cluster)
        else:
            awaiting += 1
    labels = dict(reasons)
    order = [code for code, _ in reasons] + sorted(set(by_reason) - set(labels))
    excluded = tuple(
        ReasonCount(code, labels.get(code, code or "no reason given"), by_reason[code])
        for code in order
        if by_reason.get(code)
    )
    return _Column(
        screened_out=outcome.count("excluded"),
        awaiting_screening=outcome.count("awaiting"),
        sought=sought,
        not_retrieved=len(not_retrieved),
        awaiting_retrieval=len(sought) - len(not_retrieved) - len(looked_at),
        assessed=len(looked_at),
        excluded=excluded,
        awaiting=awaiting,
        included=included,
    )
