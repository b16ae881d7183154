"""Records shared by the deduplication tests: the bib-dedupe special cases and a hand-made
article with an Embase copy of it."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from review.dedup.clusters import deduplicate
from review.records import Author, Record
from review.sources.tabular import read_delimited

DATA = Path(__file__).resolve().parents[1] / "data" / "dedup"


def special_cases() -> tuple[list[Record], set[frozenset[str]]]:
    """The bib-dedupe special_cases set read by casepool's CSV importer, and its true clusters
    (by source_id)."""
    path = DATA / "special_cases_records.csv"
    records = list(read_delimited(path.read_bytes(), str(path), source="bib-dedupe").records)
    with (DATA / "special_cases_merged_ids.csv").open(encoding="utf-8", newline="") as handle:
        truth = {frozenset(row["merged_ids"].split(";")) for row in csv.DictReader(handle)}
    return records, truth


ARTICLE = Record(
    source="pubmed",
    source_id="1",
    title="Rituximab for calcinosis cutis in systemic sclerosis: a case series",
    authors=(Author("Smith", "Anna"), Author("Jones", "Bo"), Author("Ng", "Chi")),
    journal="Journal of Clinical Rheumatology",
    year=2019,
    volume="25",
    issue="3",
    pages="122-9",
)
EMBASE_COPY = dataclasses.replace(
    ARTICLE,
    source="embase",
    source_id="E1",
    title="Rituximab for Calcinosis Cutis in Systemic Sclerosis: A Case Series.",
    journal="J Clin Rheumatol",
    pages="122-129",
    abstract="We describe five patients.",
)


def clusters_by_source_id(records: list[Record], **kwargs: object) -> set[frozenset[str]]:
    result = deduplicate(list(enumerate(records)), **kwargs)  # type: ignore[arg-type]
    return {frozenset(records[m].source_id or "" for m in c.members) for c in result.clusters}
