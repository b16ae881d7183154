"""A review of the bundled protocol with the bundled extraction imported (the counts 4/8,
1/1 and 0/1 to pool), for the report's tests."""

from __future__ import annotations

from pathlib import Path

from review.api import Review

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
STEM = "rtx-ssc-calcinosis"


def extracted_review(folder: Path) -> Path:
    """Create the review in ``folder`` and import the studies, cases and aggregates."""
    Review.create(folder, PROTOCOLS / f"{STEM}.toml")
    with Review.open(folder) as review:
        extraction = review.extraction
        extraction.import_file(PROTOCOLS / f"{STEM}.studies.csv", extractor="x", add_studies=True)
        extraction.import_file(PROTOCOLS / f"{STEM}.cases.csv", extractor="x")
        extraction.import_file(PROTOCOLS / f"{STEM}.aggregates.csv", extractor="x")
    return folder
