"""The report's "New since the last run": the records a run added to the review (a live
search's new PMIDs, a source's new records), as new papers to screen and as new copies of
papers the review already held. ``casepool run`` knows which records it added; a report
written on its own (``write_report`` without them) leaves the section out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from review.report.model import TableData
from review.wording import count

if TYPE_CHECKING:
    from review.api import Review

COLUMNS = ("Paper", "PMID", "DOI", "Year", "Title", "Source")


@dataclass(frozen=True)
class RunDelta:
    """What a run knows of its own work: the record ids it added, whether the review was
    new, and the search the review held before it (None if none)."""

    added: tuple[int, ...]
    first_run: bool
    previous: str | None = None


@dataclass(frozen=True)
class Changes:
    """What the run added: a sentence, and the new papers (empty on a first run, when
    every record is new and the rest of the report shows them)."""

    note: str
    papers: TableData


def build_changes(review: Review, delta: RunDelta) -> Changes:
    """The papers the records ``delta.added`` belong to, new or already in the review."""
    added, first_run, previous = delta.added, delta.first_run, delta.previous
    membership = review.clusters()
    clusters = {membership.cluster_of[r] for r in added if r in membership.cluster_of}
    old_records = set(membership.cluster_of) - set(added)
    new_papers = sorted(c for c in clusters if not set(membership.members(c)) & old_records)
    copies = len([r for r in added if membership.cluster_of.get(r) not in new_papers])
    empty = TableData("new-papers", "New papers since the last run", COLUMNS, ())
    if first_run:
        note = (
            f"This is the review's first run: every record is new "
            f"({count(len(added), 'record')}, {count(len(new_papers), 'paper')} after "
            "deduplication)."
        )
        return Changes(note, empty)
    before = f" The latest search before this run: {previous}." if previous else ""
    if not added:
        return Changes(
            f"Nothing is new since the last run: no search or source added a record.{before}",
            empty,
        )
    copies_text = f" and {count(copies, 'new copy', 'new copies')} of papers already held"
    note = (
        f"New since the last run: {count(len(added), 'record')}, "
        f"{count(len(new_papers), 'new paper')} to screen"
        + (copies_text if copies else "")
        + f".{before}"
    )
    rows = []
    for cluster_id in new_papers:
        record = review.cluster(cluster_id)
        rows.append(
            (
                str(cluster_id),
                record.pmid or "",
                record.doi or "",
                "" if record.year is None else str(record.year),
                record.title or "",
                record.source,
            )
        )
    return Changes(note, TableData(empty.name, empty.caption, COLUMNS, tuple(rows)))
