"""Appraisal rows from a CSV file (pure): a ``study`` column (label or id), an optional
``tool`` column (empty: the tool the study's design calls for), an optional ``note``, and
one column per item id (``q1``, ``q2``, ...) holding yes, no, unclear or not applicable.
Rows are numbered as a spreadsheet shows them (the header is row 1)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from review.errors import ParseError
from review.extract.events import AppraisalRow
from review.sources.formats import decode_text
from review.sources.tabular import unneutralise


def read_appraisal_rows(path: Path) -> list[AppraisalRow]:
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ParseError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ParseError(f"{path}: is a folder, not a file") from None
    text, _ = decode_text(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ParseError(f"{name}, line {reader.line_num}: cannot read the csv: {exc}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ParseError(f"{name}: the file is empty; expected a header row")
    header = [h.strip() for h in rows[0]]
    if "study" not in header:
        raise ParseError(f"{name}, row 1: no 'study' column (the study's label or id)")
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {h: unneutralise(row[i]) for i, h in enumerate(header) if h and i < len(row)}
        study = cells.pop("study", "")
        tool = cells.pop("tool", "").strip() or None
        note = cells.pop("note", "").strip() or None
        out.append(AppraisalRow(study, tool, cells, f"{name}, row {number}", note))
    return out
