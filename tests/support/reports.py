"""Reviews of the bundled protocol for the report's tests: the bundled extraction imported
(the counts 4/8, 1/1 and 0/1 to pool), and the same appraised with JBI's checklists."""

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


APPRAISAL = (
    "study,tool,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,note\n"
    "Narváez 2019,,yes,yes,yes,unclear,yes,no,yes,yes,yes,yes,\n"
    "Daoussis 2012,,yes,yes,yes,yes,yes,yes,unclear,yes,-,-,\n"
    "Poormoghim 2016,jbi-case-report,yes,no,unclear,yes,yes,unclear,no,yes,-,-,\n"
)
"""Made-up JBI answers for the three studies (the tests' data, not an appraisal of them)."""


def appraised_review(folder: Path) -> Path:
    """``extracted_review`` with every study appraised by one appraiser."""
    extracted_review(folder)
    answers = folder.parent / "appraisal.csv"
    answers.write_text(APPRAISAL, encoding="utf-8")
    with Review.open(folder) as review:
        review.appraisal.import_file(answers, appraiser="ann")
    return folder
