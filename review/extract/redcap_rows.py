"""A REDCap records export as extraction rows (pure): each record's study-form values as a
study row and each instance of the repeating case form as a case row, every cell with its
line and column in the export. The study is named by its ``study_label`` value when it has
one, else by its REDCap record id; a value marked with a missing data code is ``NR``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from extraction.forms import Forms
from extraction.redcap_records import RedcapValue, read_records_export
from review.extract.events import RowInput


def _cells(values: Mapping[str, RedcapValue]) -> tuple[dict[str, object], dict[str, str], int]:
    cells: dict[str, object] = {}
    columns: dict[str, str] = {}
    line = 0
    for name, value in values.items():
        cells[name] = "NR" if value.not_reported else value.text
        columns[name] = f"{value.place.column} ({value.place.header})"
        line = line or value.place.line
    return cells, columns, line


def redcap_rows(path: Path, forms: Forms) -> list[RowInput]:
    """The rows of a REDCap records export made with casepool's data dictionary."""
    records = read_records_export(path, forms, name=path.name)
    rows: list[RowInput] = []
    for record in records.records:
        label = record.study.get("study_label")
        study = label.text if label is not None and label.text else record.record_id
        cells, columns, line = _cells(record.study)
        if cells:
            where = f"{path.name}, line {line or record.place.line}"
            rows.append(RowInput(study, "study", cells, where, columns))
        for instance, values in sorted(record.cases.items()):
            cells, columns, line = _cells(values)
            where = f"{path.name}, line {line or record.place.line} (case {instance})"
            rows.append(RowInput(study, "case", cells, where, columns))
    return rows
