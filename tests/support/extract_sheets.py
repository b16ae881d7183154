"""The bundled example's extraction rows, and a template filled with them as an extractor
would in a spreadsheet (numbers typed as numbers, text as text)."""

from __future__ import annotations

import csv
from pathlib import Path

from review.api import Review

PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"
LABELS = ("Narváez 2019", "Daoussis 2012", "Poormoghim 2016")
BUNDLED = {"study": "studies", "case": "cases", "aggregate": "aggregates"}


def bundled_rows(form: str) -> list[dict[str, str]]:
    """The bundled CSV of a form, row by row."""
    path = PROTOCOLS / f"rtx-ssc-calcinosis.{BUNDLED[form]}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def register(review_dir: Path, labels: tuple[str, ...] = LABELS) -> None:
    with Review.open(review_dir) as rv:
        for label in labels:
            rv.extraction.add_study(label)


def typed(text: str) -> object:
    """A cell as a spreadsheet holds what was typed: numbers as numbers."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def fill(template: Path, out: Path) -> None:
    """The template with the bundled rows typed in: study rows against their prefilled
    study, case and aggregate rows one after another from row 3."""
    from openpyxl import load_workbook

    book = load_workbook(template)
    for form in BUNDLED:
        sheet = book[form]
        header = [c.value for c in sheet[1]]
        prefilled = {sheet.cell(row=r, column=1).value: r for r in range(3, sheet.max_row + 1)}
        next_row = 3
        for row in bundled_rows(form):
            if form == "study":
                number = prefilled[row["study"]]
            else:
                number, next_row = next_row, next_row + 1
                sheet.cell(row=number, column=1, value=row["study"])
            for name, text in row.items():
                if name != "study" and text:
                    sheet.cell(row=number, column=header.index(name) + 1, value=typed(text))
    book.save(out)
