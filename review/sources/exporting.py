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
import dataclasses
import itertools
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from review.dedup.clusters import merged_view
from review.errors import ExportError
from review.records import Record
from review.sources.formats import FORMAT_NAMES, format_from_extension
from review.store import Store
from review.store.dedup import membership
from review.store.records import iter_records

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
        which = "records" if self.include_all else "primary records"
        return (
            f"Wrote {self.n_records} {which} ({self.n_clusters} clusters) to {self.path} "
            f"({self.format})"
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


def export_rows(store: Store, *, include_all: bool = False) -> list[ExportRow]:
    """The records to export, grouped by cluster, the primary first in each.

    With ``include_all`` every record is exported as its source gave it; otherwise each
    cluster's primary is exported as the cluster's merged view (fields the primary lacks,
    such as an abstract, filled from the other members).
    """
    with store.read() as tx:
        current = membership(tx)
        rows = [
            ExportRow(rid, record, current.cluster_of[rid], current.is_primary(rid))
            for rid, record in iter_records(tx)
        ]
    rows.sort(key=lambda r: (r.cluster_id, not r.is_primary, r.record_id))
    if include_all:
        return rows
    return [
        dataclasses.replace(members[0], record=merged_view([m.record for m in members]))
        for _, group in itertools.groupby(rows, key=lambda r: r.cluster_id)
        if (members := list(group))[0].is_primary
    ]


def export_records(
    store: Store,
    path: Path,
    *,
    fmt: str | None = None,
    include_all: bool = False,
    labels: Mapping[int, bool] | None = None,
) -> ExportSummary:
    """Write the primary records (or all) to ``path``; see the module docstring."""
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name, e.g. {path / 'records.ris'}")
    chosen = format_for(path, fmt)
    rows = export_rows(store, include_all=include_all)
    labels = labels or {}
    writer = {"ris": _write_ris, "csv": _write_csv, "xlsx": _write_xlsx}[chosen]
    with _replacing(path) as temporary:
        writer(temporary, rows, labels)
    note = extension_note(path, chosen)
    return ExportSummary(
        path,
        chosen,
        len(rows),
        len({r.cluster_id for r in rows}),
        include_all,
        notes=(note,) if note else (),
    )


class _replacing:
    """A temporary path beside ``path`` that replaces it on success and vanishes on failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary: Path | None = None

    def __enter__(self) -> Path:
        folder = self.path.parent
        if not folder.is_dir():
            raise ExportError(
                f"{self.path}: the folder {folder} does not exist; create it or choose another"
            )
        self.temporary = _new_file(self.path)
        return self.temporary

    def __exit__(self, kind: object, exc: object, traceback: object) -> None:
        assert self.temporary is not None
        if kind is None:
            try:
                os.replace(self.temporary, self.path)
                return
            except OSError as error:
                self.temporary.unlink(missing_ok=True)
                raise ExportError(
                    f"{self.path}: cannot write the file: {error.strerror or error}"
                ) from None
        self.temporary.unlink(missing_ok=True)


def _new_file(path: Path) -> Path:
    """Create an empty ``.NAME.XXXX.part`` beside ``path``, readable as the umask allows
    (``tempfile.mkstemp`` would make it ``rw-------`` whatever the umask, and a shared review
    folder's export unreadable by the team)."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"{path}: cannot write here: {exc.strerror or exc}") from None
        return candidate
    raise ExportError(f"{path}: cannot write here: no free temporary name beside it")


def _notes(row: ExportRow, labels: Mapping[int, bool]) -> Iterator[str]:
    primary = " (primary)" if row.is_primary else ""
    yield (
        f"casepool: record {row.record_id}; source {row.record.source}; "
        f"cluster {row.cluster_id}{primary}"
    )
    if row.record_id in labels:
        yield "ASReview_relevant" if labels[row.record_id] else "ASReview_irrelevant"


def _write_ris(path: Path, rows: list[ExportRow], labels: Mapping[int, bool]) -> None:
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


def _write_csv(path: Path, rows: list[ExportRow], labels: Mapping[int, bool]) -> None:
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


def _write_xlsx(path: Path, rows: list[ExportRow], labels: Mapping[int, bool]) -> None:
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
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{len(rows) + 1}"
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
    book.save(path)
