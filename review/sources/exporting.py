"""Export the review's records to RIS, CSV or XLSX, for Zotero, EndNote, ASReview and Rayyan.

One row (or RIS record) per cluster (its primary record, with the fields it lacks filled
from the other members), or per source record as it came with ``include_all``,
each with its source, cluster and primary flag from deduplication. Screening labels join
through ``labels`` (record id -> included?): in RIS as ASReview writes them, an ``N1`` line
``ASReview_relevant`` / ``ASReview_irrelevant``; in CSV and XLSX in the ``included`` column
(1/0), which ASReview reads. Spreadsheet cells that would run as formulas are neutralised
(``tabular.neutralise``) and casepool's importer reverses that, so records round-trip. The
file appears whole or not at all (written beside, then renamed).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from meta.progress import Progress
from review.dedup.clusters import Membership, merged_view
from review.errors import ExportError
from review.records import Record
from review.replacing import refuse_folder, replacing
from review.sources.formats import FORMAT_NAMES, format_from_extension
from review.store import Store, Tx
from review.store.dedup import membership
from review.store.records import records_by_id
from review.wording import count

_BATCH = 1000
ExportFormat = Literal["ris", "csv", "xlsx"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    format: str
    n_records: int
    n_clusters: int
    include_all: bool
    notes: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """One line for the user."""
        which = "record" if self.include_all else "primary record"
        return (
            f"Wrote {count(self.n_records, which)} ({count(self.n_clusters, 'cluster')}) to "
            f"{self.path} ({self.format})"
        )

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "path": str(self.path),
            "format": self.format,
            "n_records": self.n_records,
            "n_clusters": self.n_clusters,
            "include_all": self.include_all,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ExportRow:
    """One record to export with its store id and place in its cluster."""

    record_id: int
    record: Record
    cluster_id: int
    is_primary: bool


def format_for(path: Path, fmt: str | None) -> ExportFormat:
    """The export format asked for, else the one the file extension names."""
    if fmt is not None and fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
    chosen = fmt or path.suffix.lower().lstrip(".")
    if chosen == "txt":
        chosen = "ris"
    if chosen not in EXPORT_FORMATS:
        raise ExportError(
            f"{path.name}: cannot tell the export format from the extension; "
            f"give --format {'|'.join(EXPORT_FORMATS)}"
        )
    return chosen  # type: ignore[return-value]


def extension_note(path: Path, fmt: ExportFormat) -> str | None:
    """A warning when the file's extension names another format than the one written
    (``records.csv`` holding RIS): tools that go by the extension would misread the file."""
    implied = format_from_extension(path.name)
    if implied is None or implied == fmt:
        return None
    return (
        f"{path.name} holds {FORMAT_NAMES[fmt]} (--format {fmt}) but its extension "
        f"{path.suffix} says {FORMAT_NAMES[implied]}; programs that go by the extension will "
        f"misread it: name it {path.with_suffix('.' + fmt).name}"
    )


@dataclass(frozen=True)
class ExportPlan:
    """What an export will write: the clusters in order, each its record ids primary first,
    so that the records can be read a batch at a time rather than all at once."""

    clusters: tuple[tuple[int, tuple[int, ...]], ...]
    include_all: bool

    @property
    def n_records(self) -> int:
        """Rows (or RIS records) the file will hold."""
        if self.include_all:
            return sum(len(ids) for _, ids in self.clusters)
        return len(self.clusters)


def plan_export(current: Membership, *, include_all: bool = False) -> ExportPlan:
    """Clusters by id, the primary first in each and then its other records by id."""
    groups: dict[int, list[int]] = {}
    for rid in sorted(current.cluster_of):
        groups.setdefault(current.cluster_of[rid], []).append(rid)
    clusters = tuple(
        (cid, tuple(sorted(ids, key=lambda rid: (not current.is_primary(rid), rid))))
        for cid, ids in sorted(groups.items())
    )
    return ExportPlan(clusters, include_all)


def export_rows(
    tx: Tx,
    plan: ExportPlan,
    current: Membership,
    *,
    progress: Progress | None = None,
    phase: str = "exporting",
) -> Iterator[ExportRow]:
    """The plan's rows, read from the store a batch of clusters at a time (memory stays
    bounded whatever the review's size); ``progress`` counts the rows handed out.

    With ``include_all`` every record is exported as its source gave it; otherwise each
    cluster's primary is exported as the cluster's merged view (fields the primary lacks,
    such as an abstract, filled from the other members).
    """
    done, total = 0, plan.n_records
    if progress:
        progress(phase, 0, total)
    for batch in _batches(plan.clusters):
        records = records_by_id(tx, [rid for _, ids in batch for rid in ids])
        for cid, ids in batch:
            if plan.include_all:
                for rid in ids:
                    yield ExportRow(rid, records[rid], cid, current.is_primary(rid))
                done += len(ids)
            else:
                merged = merged_view([records[rid] for rid in ids])
                yield ExportRow(ids[0], merged, cid, current.is_primary(ids[0]))
                done += 1
        if progress:
            progress(phase, done, total)


def _batches(
    clusters: Sequence[tuple[int, tuple[int, ...]]],
) -> Iterator[Sequence[tuple[int, tuple[int, ...]]]]:
    """Whole clusters, about ``_BATCH`` records at a time."""
    batch: list[tuple[int, tuple[int, ...]]] = []
    size = 0
    for cluster in clusters:
        batch.append(cluster)
        size += len(cluster[1])
        if size >= _BATCH:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def export_records(
    store: Store,
    path: Path,
    *,
    fmt: str | None = None,
    include_all: bool = False,
    labels: Mapping[int, bool] | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the primary records (or all) to ``path``; see the module docstring.
    ``progress`` counts the records written."""
    refuse_folder(path, "records.ris")
    chosen = format_for(path, fmt)
    labels = labels or {}
    writer = {"ris": _write_ris, "csv": _write_csv, "xlsx": _write_xlsx}[chosen]
    with store.read() as tx:
        current = membership(tx)
        plan = plan_export(current, include_all=include_all)
        with replacing(path) as temporary:
            rows = export_rows(tx, plan, current, progress=progress, phase=f"writing {path.name}")
            writer(temporary, rows, plan.n_records, labels, _Step(progress, path.name))
    note = extension_note(path, chosen)
    return ExportSummary(
        path,
        chosen,
        plan.n_records,
        len(plan.clusters),
        include_all,
        notes=(note,) if note else (),
    )


@dataclass(frozen=True)
class _Step:
    """A step of writing the file ``name`` that cannot be counted, shown as it runs."""

    progress: Progress | None
    name: str

    @contextmanager
    def __call__(self, verb: str) -> Iterator[None]:
        phase = f"{verb} {self.name}"
        if self.progress:
            self.progress(phase, 0, None, "steps")
        yield
        if self.progress:
            self.progress(phase, 1, 1, "steps")


def _notes(row: ExportRow, labels: Mapping[int, bool]) -> Iterator[str]:
    primary = " (primary)" if row.is_primary else ""
    yield (
        f"casepool: record {row.record_id}; source {row.record.source}; "
        f"cluster {row.cluster_id}{primary}"
    )
    if row.record_id in labels:
        yield "ASReview_relevant" if labels[row.record_id] else "ASReview_irrelevant"


def _write_ris(
    path: Path,
    rows: Iterable[ExportRow],
    n_rows: int,
    labels: Mapping[int, bool],
    step: _Step,
) -> None:
    from review.sources.ris import format_ris

    with path.open("w", encoding="utf-8", newline="\r\n") as handle:
        for row in rows:
            handle.write(format_ris(row.record, _notes(row, labels)))
            handle.write("\n")


def _cells(row: ExportRow, labels: Mapping[int, bool]) -> list[str | int]:
    from review.sources.tabular import record_cells

    label = labels.get(row.record_id)
    return record_cells(
        row.record,
        casepool_id=row.record_id,
        cluster_id=row.cluster_id,
        is_primary=row.is_primary,
        included="" if label is None else str(int(label)),
    )


def _write_csv(
    path: Path,
    rows: Iterable[ExportRow],
    n_rows: int,
    labels: Mapping[int, bool],
    step: _Step,
) -> None:
    from review.sources.tabular import EXPORT_COLUMNS

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(_cells(row, labels))


# Column widths in characters: wide for the text a person reads, narrow for ids and flags.
_XLSX_WIDTHS = {
    "title": 60,
    "authors": 40,
    "journal": 30,
    "journal_iso": 20,
    "doi": 28,
    "url": 30,
    "keywords": 30,
    "mesh": 30,
    "publication_types": 24,
    "abstract": 80,
    "extra": 24,
}


def _write_xlsx(
    path: Path,
    rows: Iterable[ExportRow],
    n_rows: int,
    labels: Mapping[int, bool],
    step: _Step,
) -> None:
    """A streamed (write-only, constant-memory) sheet with its header frozen, bold and
    filterable, and columns wide enough to read."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from review.sources.tabular import EXPORT_COLUMNS

    book = Workbook(write_only=True)
    sheet = book.create_sheet("records")
    sheet.freeze_panes = "A2"
    for number, column in enumerate(EXPORT_COLUMNS, start=1):
        width = max(_XLSX_WIDTHS.get(column, 10), len(column) + 3)  # + the filter button
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{n_rows + 1}"
    bold = Font(bold=True)
    header = []
    for column in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = _cells(row, labels)
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in cells])
    with step("compressing"):  # zipping the sheet: seconds for 100,000 rows, uncounted
        book.save(path)
