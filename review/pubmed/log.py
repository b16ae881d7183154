"""The search log (PRISMA-S): one entry per search run or search-file load, and its lines
as a person reads them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from review.wording import count


@dataclass(frozen=True)
class SearchLogEntry:
    """One search run or search-file load as the log reports it (PRISMA-S items)."""

    load_id: int
    mode: str
    database: str
    query: str | None
    query_origin: str | None
    query_translation: str | None
    count: int | None
    warnings: tuple[str, ...]
    mindate: str | None
    maxdate: str | None
    datetype: str | None
    started_at: str
    finished_at: str | None
    status: str
    identified: int
    fetched: int
    already_in_review: int
    missing: int
    pending: int
    records_read: int
    records_new: int
    windows: tuple[dict[str, Any], ...]
    file_name: str | None
    sha256: str | None
    webenv: str | None
    query_key: str | None
    batch_size: int | None
    error: str | None
    resumed: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


QUERY_ORIGINS = {
    "stated": (
        "  (a saved result: casepool did not run this query; it is the query the file holds "
        "as stated when it was loaded)"
    ),
    "assumed": (
        "  (a saved result: casepool did not run this query; no query was stated when the "
        "file was loaded, so the protocol's query is assumed)"
    ),
    "": "  (a saved result: casepool did not run this query, and its origin was not recorded)",
}
"""What the log says about the query of a loaded file, by its origin."""


def log_lines(e: SearchLogEntry) -> list[tuple[str, str]]:
    """The entry as (label, value) lines; the first line, without a label, is the heading."""
    status = e.status
    if e.status != "complete" and e.pending:
        status += f" ({count(e.pending, 'PMID')} still to fetch: run the same search again)"
    lines: list[tuple[str, str]] = [
        ("", f"Search {e.load_id}: {status}"),
        ("started", e.started_at),
        ("finished", e.finished_at or "-"),
        ("database", f"{e.database} ({'E-utilities' if e.mode == 'eutils' else 'saved file'})"),
        ("query", " ".join((e.query or "-").split())),
    ]
    if e.mode == "file":
        lines.append(("", QUERY_ORIGINS.get(e.query_origin or "", QUERY_ORIGINS[""])))
        lines += [("file", str(e.file_name)), ("sha256", str(e.sha256))]
    else:
        lines.append(("translation", " ".join((e.query_translation or "-").split())))
        limits = f"{e.mindate} to {e.maxdate} ({e.datetype})" if e.mindate else "none"
        lines += [("date limits", limits), ("count", _num(e.count))]
    lines.append(("retrieved", f"{e.identified:,} ({e.already_in_review:,} already in the review)"))
    lines.append(("new", f"{e.records_new:,}"))
    if e.missing:
        lines.append(
            ("missing", f"{count(e.missing, 'PMID')} listed by ESearch, not returned by EFetch")
        )
    if e.windows:
        spans = ", ".join(f"{w['mindate']}-{w['maxdate']} ({w['count']:,})" for w in e.windows)
        lines.append(("split", f"{count(len(e.windows), 'entry-date window')}: {spans}"))
    lines += [("warning", w) for w in e.warnings]
    if e.resumed:
        lines.append(("resumed", count(e.resumed, "time")))
    if e.error:
        lines.append(("error", e.error))
    return lines


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
