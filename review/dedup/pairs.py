"""An uncertain pair as a person compares it: the two records field by field (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from review.records import Record


@dataclass(frozen=True, slots=True)
class QueuedPair:
    """An uncertain pair waiting for a person, with both records."""

    a: int
    b: int
    score: float
    reason: str
    record_a: Record
    record_b: Record

    def side_by_side(self) -> list[tuple[str, str, str]]:
        """(field, record a's value, record b's value) for each field either record has."""
        rows = []
        for name, get in FIELDS:
            left, right = get(self.record_a), get(self.record_b)
            if left in (None, "") and right in (None, ""):
                continue
            rows.append(
                (name, "" if left is None else str(left), "" if right is None else str(right))
            )
        return rows


def _authors(record: Record) -> str:
    shown = "; ".join(a.display for a in record.authors[:6])
    more = len(record.authors) - 6
    return shown + (f" (+{more})" if more > 0 else "")


def _abstract(record: Record) -> str:
    text = record.abstract or ""
    return text[:300] + ("..." if len(text) > 300 else "")


FIELDS: tuple[tuple[str, Callable[[Record], object]], ...] = (
    ("source", lambda r: f"{r.source} {r.source_id or ''}".strip()),
    ("title", lambda r: r.title),
    ("authors", _authors),
    ("year", lambda r: r.year),
    ("journal", lambda r: r.journal or r.journal_iso),
    ("volume", lambda r: r.volume),
    ("issue", lambda r: r.issue),
    ("pages", lambda r: r.pages),
    ("doi", lambda r: r.doi),
    ("pmid", lambda r: r.pmid),
    ("type", lambda r: ", ".join(r.publication_types) or r.record_type),
    ("abstract", _abstract),
)
"""The fields shown when a person compares two records, in order."""
