"""Reviews ready to screen: distinct records (and, on request, one duplicate pair), stored
and clustered, so a test can decide on stable cluster ids at once."""

from __future__ import annotations

from pathlib import Path

from stores import add_records

from review.api import Review
from review.records import Author, Record

WORDS = (
    "rituximab",
    "calcinosis",
    "systemic",
    "sclerosis",
    "scleroderma",
    "CREST",
    "anti-CD20",
    "ulcer",
    "digital",
    "fibrosis",
    "lung",
    "skin",
    "nodules",
    "deposits",
    "calcium",
    "therapy",
    "outcome",
    "murine",
    "review",
    "series",
)


def paper(n: int, *, source: str = "pubmed") -> Record:
    """The n-th made-up paper: a distinct title, authors, journal and year for each n."""
    words = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(6)]
    return Record(
        source=source,
        source_id=f"{source}-{n}",
        title=f"Paper {n}: {' '.join(words)} in patient {n}",
        abstract=(
            f"We report patient {n} with systemic sclerosis and calcinosis treated with "
            f"rituximab. Outcome {n % 5}: the deposits {('shrank', 'were stable')[n % 2]}."
        ),
        authors=(
            Author(last_name=f"Author{n}", initials="A"),
            Author(last_name="Second", initials="B"),
        ),
        journal=f"Journal {n % 17}",
        year=2000 + n % 25,
        volume=str(1 + n % 40),
        pages=f"{n}-{n + 5}",
        pmid=str(10_000_000 + n) if source == "pubmed" else None,
    )


def ready_review(review_dir: Path, n: int, *, duplicate_of: int | None = None) -> list[int]:
    """Store ``n`` distinct papers in the review (plus, with ``duplicate_of``, an Embase copy
    of that paper), cluster them, and return the cluster ids in record order."""
    add_records(review_dir, "pubmed", [paper(i) for i in range(1, n + 1)])
    if duplicate_of is not None:
        original = paper(duplicate_of)
        copy = Record(
            source="embase",
            source_id=f"embase-{duplicate_of}",
            title=original.title,
            abstract=original.abstract,
            authors=original.authors,
            journal=original.journal,
            year=original.year,
            volume=original.volume,
            pages=original.pages,
        )
        add_records(review_dir, "embase", [copy], file_name="embase.ris")
    with Review.open(review_dir) as review:
        review.dedup()
        membership = review.clusters()
    return sorted(set(membership.cluster_of.values()))
