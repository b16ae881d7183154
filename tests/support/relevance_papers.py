"""A review of two kinds of made-up paper, for relevance order: case reports of calcinosis
treated with rituximab (relevant) and murine lung studies (not)."""

from __future__ import annotations

from pathlib import Path

from stores import add_records

from review.api import Review
from review.records import Author, Record


def _paper(n: int, relevant: bool) -> Record:
    if relevant:
        title = f"Calcinosis cutis in systemic sclerosis treated with rituximab: case {n}"
        abstract = (
            f"A woman with systemic sclerosis and calcinosis cutis (patient {n}) received "
            "rituximab; the calcinosis regressed over twelve months."
        )
    else:
        title = f"Murine model {n} of bleomycin lung fibrosis and macrophage signalling"
        abstract = (
            f"In mice (cohort {n}) bleomycin induced pulmonary fibrosis; macrophage "
            "signalling pathways were profiled by sequencing."
        )
    return Record(
        source="pubmed",
        source_id=f"pubmed-{n}",
        title=title,
        abstract=abstract,
        authors=(Author(last_name=f"Author{n}", initials="A"),),
        journal=f"Journal {n}",
        year=2000 + n,
        pmid=str(20_000_000 + n),
    )


def relevance_review(review_dir: Path, n: int = 12) -> tuple[list[int], list[int]]:
    """Store ``n`` papers, alternately relevant and not, cluster them; return the cluster
    ids of the relevant ones and of the others."""
    add_records(review_dir, "pubmed", [_paper(i, i % 2 == 1) for i in range(1, n + 1)])
    with Review.open(review_dir) as review:
        review.dedup()
        membership = review.clusters()
    by_record = sorted(set(membership.cluster_of.values()))
    relevant = [c for i, c in enumerate(by_record, start=1) if i % 2 == 1]
    other = [c for i, c in enumerate(by_record, start=1) if i % 2 == 0]
    return relevant, other
