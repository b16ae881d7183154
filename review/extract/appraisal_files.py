"""Appraisal rows from a CSV file (pure): a ``study`` column (label or id), an optional
``tool`` column (empty: the tool the study's design calls for), an optional ``note``, and
one column per item id (``q1``, ``q2``, ...) holding yes, no, unclear or not applicable.
Rows are numbered as a spreadsheet shows them (the header is row 1)."""

from __future__ import annotations

from pathlib import Path

from review.errors import ParseError
from review.extract.events import AppraisalRow
from review.extract.files import read_csv
from review.sources.tabular import unneutralise


def read_appraisal_rows(path: Path) -> list[AppraisalRow]:
    name = path.name
    rows = read_csv(path)
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
