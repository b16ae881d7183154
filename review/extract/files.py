"""Extraction rows from a CSV file (pure): one row per study, patient or aggregate outcome,
a ``study`` column naming the study (label or id) and one column per field, headed by
the field's name. Which form a file holds is told, or read off its header: the case
form's id column means case rows, ``outcome`` and ``events`` aggregate rows, else study
rows. Rows are numbered as a spreadsheet shows them (the header is row 1)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from extraction.forms import Form
from review.errors import ParseError
from review.extract.events import FORMS, FormName, RowInput
from review.sources.formats import decode_text
from review.sources.tabular import unneutralise


def column_letter(index: int) -> str:
    """A spreadsheet's column name for a 0-based index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def detect_form(header: list[str], forms: Mapping[FormName, Form]) -> FormName:
    names = {h.strip() for h in header}
    if forms["case"].fields[0].name in names:
        return "case"
    if {"outcome", "events"} <= names:
        return "aggregate"
    return "study"


def read_bytes(path: Path) -> bytes:
    """A file's bytes; ParseError says plainly when it is missing or a folder."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ParseError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParseError(f"{path}: is a folder, not a file") from None


def read_csv(path: Path) -> list[list[str]]:
    """A CSV's rows (the header first, never empty); ParseError names the file and line."""
    name = path.name
    text, _ = decode_text(read_bytes(path), name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ParseError(f"{name}, line {reader.line_num}: cannot read the csv: {exc}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ParseError(f"{name}: the file is empty; expected a header row")
    return rows


def read_rows(
    path: Path, forms: Mapping[FormName, Form], *, form: FormName | None = None
) -> tuple[FormName, list[RowInput]]:
    """The rows of an extraction CSV, with the form they are of."""
    name = path.name
    rows = read_csv(path)
    header = [h.strip() for h in rows[0]]
    chosen = form or detect_form(header, forms)
    if chosen not in FORMS:  # pragma: no cover - typed callers
        raise ParseError(f"{name}: no form {chosen!r}")
    if "study" not in header:
        raise ParseError(f"{name}, row 1: no 'study' column (the study's label or id)")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise ParseError(f"{name}, row 1: the column {repeated[0]!r} appears twice")
    columns = {h: f"{column_letter(i)} ({h})" for i, h in enumerate(header) if h}
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise ParseError(
                f"{name}, row {number}: {len(row)} cells but the header has {len(header)}"
            )
        cells = {h: unneutralise(row[i]) for i, h in enumerate(header) if h and i < len(row)}
        study = cells.pop("study", "")
        out.append(RowInput(study, chosen, cells, f"{name}, row {number}", columns))
    return chosen, out
