"""REDCap records exports read back into the forms' values.

An export of a project made with ``extraction.redcap``'s data dictionary: raw (codes) or
labelled (labels), with field names or field labels as headers, the case form as
``redcap_repeat_instrument`` / ``redcap_repeat_instance`` rows, each checkbox field as one
``field___code`` column per choice. Values come back as text in the forms' own terms
('limited cutaneous', 'yes'; a multichoice field's choices joined by '; '), each with its
place; a missing data code (``NR`` or ``NI`` unless others are named) is "not reported", distinct
from an empty cell. Types and ranges are checked later, by the extraction core.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from extraction.errors import RedcapImportError
from extraction.forms import FormField, Forms
from extraction.redcap import (
    CASE_FORM,
    NOT_REPORTED,
    RECORD_ID,
    RECORD_ID_LABEL,
    STUDY_FORM,
    choice_codes,
)

_REPEAT_INSTRUMENT = "redcap_repeat_instrument"
_REPEAT_INSTANCE = "redcap_repeat_instance"
_IGNORED = {"redcap_data_access_group", "redcap_survey_identifier"}
_IGNORED_LABELS = {"Data Access Group", "Survey Identifier", "Complete?"}
_LABEL_HEADERS = {"Repeat Instrument": _REPEAT_INSTRUMENT, "Repeat Instance": _REPEAT_INSTANCE}


@dataclass(frozen=True)
class Place:
    """Where a value is in an export: the file, line and column (both from 1) and header."""

    file: str
    line: int
    column: int
    header: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, column {self.column} ({self.header})"


@dataclass(frozen=True)
class RedcapValue:
    """One field's value in the forms' terms: ``text`` ('' when empty or not reported; a
    multichoice field's ``selected`` choices joined by '; '), and the missing data code
    that marked it not reported, if any."""

    text: str
    place: Place
    missing_code: str | None = None
    selected: tuple[str, ...] = ()

    @property
    def not_reported(self) -> bool:
        return self.missing_code is not None


@dataclass(frozen=True)
class RedcapRecord:
    """One REDCap record (a report): its study form's values and its case instances."""

    record_id: str
    place: Place
    study: Mapping[str, RedcapValue]
    cases: Mapping[int, Mapping[str, RedcapValue]]


@dataclass(frozen=True)
class RedcapRecords:
    """A records export read: ``labelled`` says whether its values were labels."""

    file: str
    labelled: bool
    records: tuple[RedcapRecord, ...] = field(default=())

    def record(self, record_id: str) -> RedcapRecord | None:
        return next((r for r in self.records if r.record_id == record_id), None)


@dataclass(frozen=True)
class _Column:
    """What one export column holds: a REDCap column, a field, or one box of a checkbox."""

    index: int
    header: str
    kind: Literal["record", "instrument", "instance", "field", "box", "missing box", "ignored"]
    form_field: FormField | None = None
    form_name: str = ""
    value: str = ""


def read_records_export(
    source: Path | str,
    forms: Forms,
    *,
    name: str | None = None,
    values: Literal["auto", "raw", "labelled"] = "auto",
    missing_codes: Mapping[str, str] = NOT_REPORTED,
) -> RedcapRecords:
    """Read a REDCap records export (a path, or the CSV text itself) made with the forms'
    data dictionary; raise RedcapImportError listing every problem with its place."""
    if isinstance(source, Path):
        label = name or str(source)
        try:
            text = source.read_bytes().decode("utf-8-sig")
        except OSError as error:
            raise RedcapImportError(
                f"{label}: cannot read the file: {error.strerror or error}"
            ) from None
        except UnicodeDecodeError as error:
            raise RedcapImportError(
                f"{label}: not UTF-8 text (byte {error.start + 1}); "
                "export the CSV again from REDCap"
            ) from None
    else:
        label, text = name or "export.csv", source.removeprefix("\ufeff")
    return _Reader(label, forms, missing_codes).read(text, values)


def _box_code(code: str) -> str:
    """The suffix REDCap gives a checkbox column for a code (lower case, '_' for others)."""
    return re.sub(r"[^a-z0-9_]", "_", code.lower())


class _Reader:
    def __init__(self, file: str, forms: Forms, missing_codes: Mapping[str, str]) -> None:
        self.file = file
        self.forms = forms
        self.missing = dict(missing_codes)
        self.problems: list[str] = []
        self.unreadable = False
        """True after a header problem that makes reading the rows pointless."""
        self.fields: list[tuple[str, FormField]] = [
            *((STUDY_FORM, f) for f in forms.study.fields),
            *((CASE_FORM, f) for f in forms.case.fields),
        ]

    def problem(self, place: Place | str, message: str) -> None:
        self.problems.append(f"{place}: {message}")

    def read(self, text: str, values: Literal["auto", "raw", "labelled"]) -> RedcapRecords:
        rows = self.rows(text)
        if not rows:
            raise RedcapImportError(f"{self.file}: the file is empty; export the records again")
        header_line, header = rows[0]
        columns = self.columns(header_line, header)
        body = rows[1:]
        labelled = values == "labelled" or (values == "auto" and self.looks_labelled(columns, body))
        readable = not self.unreadable
        records = self.records(columns, len(header), body, labelled) if readable else ()
        if self.problems:
            raise RedcapImportError.of(self.file, tuple(self.problems))
        return RedcapRecords(self.file, labelled, records)

    def rows(self, text: str) -> list[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        rows: list[tuple[int, list[str]]] = []
        start = 1
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((start, row))
                start = reader.line_num + 1
        except csv.Error as error:
            raise RedcapImportError(f"{self.file}, line {start}: not CSV: {error}") from None
        return rows

    # ------------------------------------------------------------ the header

    def columns(self, line: int, header: list[str]) -> list[_Column]:
        by_label = header[0].strip() == RECORD_ID_LABEL if header else False
        raw_names: dict[str, _Column] = {}
        label_names: dict[str, list[_Column]] = {}
        for form_name, form_field in self.fields:
            self.name_columns(form_name, form_field, raw_names, label_names)
        columns: list[_Column] = []
        taken: dict[str, int] = {}
        for index, cell in enumerate(header):
            name = cell.strip()
            place = Place(self.file, line, index + 1, name)
            if index == 0:
                if name not in (RECORD_ID, RECORD_ID_LABEL):
                    self.problem(
                        place,
                        f"the first column must be the record id ({RECORD_ID}): is this an "
                        "export of a project made with casepool's data dictionary?",
                    )
                    self.unreadable = True
                columns.append(_Column(index, name, "record"))
                continue
            column = self.column(index, name, by_label, raw_names, label_names, taken)
            if name in ("redcap_event_name", "Event Name"):
                self.problem(
                    place,
                    "an export of a longitudinal project (with events): casepool's data "
                    "dictionary makes a classic project whose case form repeats",
                )
                self.unreadable = True
            elif column is None:
                self.problem(place, "unknown column: not a field of the forms nor a REDCap column")
            elif column.kind not in ("ignored",) and column.header in taken:
                first = taken[column.header]
                self.problem(
                    place, f"a second {column.header} column (the first is column {first})"
                )
            else:
                taken.setdefault(column.header, index + 1)
                columns.append(column)
        kinds = {c.kind for c in columns}
        if (
            any(c.form_name == CASE_FORM for c in columns)
            and not {"instrument", "instance"} <= kinds
        ):
            self.problem(
                Place(self.file, line, 1, header[0].strip() if header else ""),
                f"the case form repeats, but the export has no {_REPEAT_INSTRUMENT} and "
                f"{_REPEAT_INSTANCE} columns: set the case instrument as repeating in REDCap",
            )
            self.unreadable = True
        return columns

    def name_columns(
        self,
        form_name: str,
        form_field: FormField,
        raw: dict[str, _Column],
        labels: dict[str, list[_Column]],
    ) -> None:
        if form_field.type != "multichoice":
            column = _Column(0, form_field.name, "field", form_field, form_name)
            raw[form_field.name] = column
            labels.setdefault(form_field.label, []).append(column)
            return
        for value, (code, _) in choice_codes(form_field).items():
            box = _Column(0, f"{form_field.name}___{code}", "box", form_field, form_name, value)
            raw[box.header] = box
            labels.setdefault(f"{form_field.label} (choice={value})", []).append(box)
        for code, code_label in self.missing.items():
            box = _Column(
                0,
                f"{form_field.name}___{_box_code(code)}",
                "missing box",
                form_field,
                form_name,
                code,
            )
            raw[box.header] = box
            labels.setdefault(f"{form_field.label} (choice={code_label})", []).append(box)

    def column(
        self,
        index: int,
        name: str,
        by_label: bool,
        raw: dict[str, _Column],
        labels: dict[str, list[_Column]],
        taken: dict[str, int],
    ) -> _Column | None:
        if by_label:
            if name in _LABEL_HEADERS:
                return _Column(
                    index,
                    _LABEL_HEADERS[name],
                    "instrument" if name == "Repeat Instrument" else "instance",
                )
            if name in _IGNORED_LABELS:
                return _Column(index, f"{name}#{index}", "ignored")
            named = labels.get(name, [])
            same = [c for c in named if c.header not in taken]
            found: _Column | None = same[0] if same else (named[0] if named else None)
        else:
            if name == _REPEAT_INSTRUMENT:
                return _Column(index, name, "instrument")
            if name == _REPEAT_INSTANCE:
                return _Column(index, name, "instance")
            if name in _IGNORED or re.fullmatch(
                rf"({STUDY_FORM}|{CASE_FORM})_(complete|timestamp)", name
            ):
                return _Column(index, name, "ignored")
            found = raw.get(name)
        if found is None:
            return None
        return _Column(
            index, found.header, found.kind, found.form_field, found.form_name, found.value
        )

    # ------------------------------------------------------------ raw or labelled

    def looks_labelled(self, columns: list[_Column], body: list[tuple[int, list[str]]]) -> bool:
        """Labelled when more coded cells read as labels than as codes."""
        as_raw = as_label = 0
        for _, row in body:
            for column in columns:
                cell = row[column.index].strip() if column.index < len(row) else ""
                if not cell or column.form_field is None or cell in self.missing:
                    continue
                if column.kind == "box":
                    as_raw += cell in ("0", "1")
                    as_label += cell in ("Checked", "Unchecked", column.value)
                elif column.form_field.allowed_values:
                    codes = choice_codes(column.form_field).values()
                    as_raw += any(cell == code for code, _ in codes)
                    as_label += any(cell.lower() == lab.lower() for _, lab in codes)
        return as_label > as_raw

    # ------------------------------------------------------------ the records

    def records(
        self, columns: list[_Column], width: int, body: list[tuple[int, list[str]]], labelled: bool
    ) -> tuple[RedcapRecord, ...]:
        order: list[str] = []
        first_place: dict[str, Place] = {}
        study: dict[str, dict[str, RedcapValue]] = {}
        study_line: dict[str, int] = {}
        cases: dict[str, dict[int, dict[str, RedcapValue]]] = {}
        case_line: dict[tuple[str, int], int] = {}
        for line, row in body:
            cells = {c.index: (row[c.index].strip() if c.index < len(row) else "") for c in columns}
            if len(row) > width and any(cell.strip() for cell in row[width:]):
                self.problem(
                    f"{self.file}, line {line}", f"{len(row)} cells, the header has {width}"
                )
                continue
            record_column = columns[0]
            record_place = Place(self.file, line, 1, record_column.header)
            record_id = cells[0]
            if not record_id:
                self.problem(record_place, "the record id is empty")
                continue
            repeat = self.repeat(columns, cells, line)
            if repeat is None:
                continue
            is_case, instance = repeat
            if record_id not in first_place:
                order.append(record_id)
                first_place[record_id] = record_place
            form_name = CASE_FORM if is_case else STUDY_FORM
            read = self.row_values(columns, cells, line, form_name, labelled)
            if form_name == STUDY_FORM:
                if record_id in study_line:
                    self.problem(
                        record_place,
                        f"record {record_id} has a second study row (the first is line "
                        f"{study_line[record_id]})",
                    )
                    continue
                study_line[record_id] = line
                study[record_id] = read
            else:
                assert instance is not None
                if (record_id, instance) in case_line:
                    self.problem(
                        record_place,
                        f"record {record_id} has case instance {instance} twice (the first "
                        f"is line {case_line[record_id, instance]})",
                    )
                    continue
                case_line[record_id, instance] = line
                cases.setdefault(record_id, {})[instance] = read
        return tuple(
            RedcapRecord(
                record_id,
                first_place[record_id],
                study.get(record_id, {}),
                dict(sorted(cases.get(record_id, {}).items())),
            )
            for record_id in order
        )

    def repeat(
        self, columns: list[_Column], cells: dict[int, str], line: int
    ) -> tuple[bool, int | None] | None:
        """Whether a row is a case instance, and which; None after a problem."""
        instrument = next((c for c in columns if c.kind == "instrument"), None)
        instance = next((c for c in columns if c.kind == "instance"), None)
        name = cells[instrument.index] if instrument else ""
        number = cells[instance.index] if instance else ""
        if not name:
            if number and instance:
                self.problem(
                    Place(self.file, line, instance.index + 1, instance.header),
                    "an instance number without a repeat instrument; "
                    f"only the {CASE_FORM} form repeats",
                )
                return None
            return False, None
        assert instrument is not None and instance is not None
        instrument_place = Place(self.file, line, instrument.index + 1, instrument.header)
        if name.lower() != CASE_FORM:
            self.problem(
                instrument_place,
                f"{name!r} is not the repeating instrument: only the {CASE_FORM} form repeats",
            )
            return None
        if not number.isdigit() or int(number) < 1:
            self.problem(
                Place(self.file, line, instance.index + 1, instance.header),
                f"{number!r} is not an instance number (1, 2, ...)"
                if number
                else "the instance number is empty",
            )
            return None
        return True, int(number)

    def row_values(
        self,
        columns: list[_Column],
        cells: dict[int, str],
        line: int,
        form_name: str,
        labelled: bool,
    ) -> dict[str, RedcapValue]:
        found: dict[str, RedcapValue] = {}
        boxes: dict[str, list[tuple[_Column, str]]] = {}
        for column in columns:
            form_field = column.form_field
            if form_field is None:
                continue
            cell = cells[column.index]
            place = Place(self.file, line, column.index + 1, column.header)
            if column.kind in ("box", "missing box"):
                boxes.setdefault(form_field.name, []).append((column, cell))
                continue
            if column.form_name != form_name:
                if cell:
                    self.problem(place, self.wrong_row(column.form_name))
                continue
            found[form_field.name] = self.value(form_field, cell, place, labelled)
        for name, ticks in boxes.items():
            form_field = ticks[0][0].form_field
            assert form_field is not None
            value = self.checkbox(form_field, ticks, line, form_name, labelled)
            if value is not None:
                found[name] = value
        return found

    @staticmethod
    def wrong_row(field_form: str) -> str:
        if field_form == CASE_FORM:
            return f"a {CASE_FORM} field on a row without redcap_repeat_instrument {CASE_FORM}"
        return f"a {STUDY_FORM} field on a {CASE_FORM} instance row"

    def value(self, form_field: FormField, cell: str, place: Place, labelled: bool) -> RedcapValue:
        if not cell:
            return RedcapValue("", place)
        if cell in self.missing or (labelled and cell in self.missing.values()):
            code = (
                cell
                if cell in self.missing
                else next(k for k, v in self.missing.items() if v == cell)
            )
            return RedcapValue("", place, missing_code=code)
        choices = choice_codes(form_field)
        if not choices:
            return RedcapValue(cell, place)
        for value, (code, choice_label) in choices.items():
            if (not labelled and cell == code) or (
                labelled and cell.lower() == choice_label.lower()
            ):
                return RedcapValue(value, place)
        if labelled:
            allowed = ", ".join(repr(lab) for _, lab in choices.values())
            self.problem(place, f"{cell!r} is not a choice of {form_field.name} ({allowed})")
        else:
            allowed = ", ".join(f"{code} {lab}" for code, lab in choices.values())
            self.problem(place, f"{cell!r} is not a code of {form_field.name} ({allowed})")
        return RedcapValue("", place)

    def checkbox(
        self,
        form_field: FormField,
        ticks: list[tuple[_Column, str]],
        line: int,
        form_name: str,
        labelled: bool,
    ) -> RedcapValue | None:
        """A multichoice field from its ``field___code`` columns (None on another form's row)."""
        first = ticks[0][0]
        place = Place(self.file, line, first.index + 1, first.header)
        selected: set[str] = set()
        missing: list[str] = []
        for column, cell in ticks:
            box_place = Place(self.file, line, column.index + 1, column.header)
            ticked = self.ticked(column, cell, box_place, labelled)
            if ticked and column.form_name != form_name:
                self.problem(box_place, self.wrong_row(column.form_name))
            elif ticked and column.kind == "box":
                selected.add(column.value)
            elif ticked:
                missing.append(column.value)
        if form_name != first.form_name:
            return None
        if missing and selected:
            self.problem(
                place,
                f"{form_field.name} has both choices and the missing code {missing[0]} ticked",
            )
        ordered = tuple(v for v in form_field.choices if v in selected)
        return RedcapValue("; ".join(ordered), place, missing[0] if missing else None, ordered)

    def ticked(self, column: _Column, cell: str, place: Place, labelled: bool) -> bool:
        if cell in ("", "0") or (labelled and cell == "Unchecked"):
            return False
        if cell == "1" or (labelled and cell in ("Checked", column.value)):
            return True
        if labelled and column.kind == "missing box" and cell == self.missing.get(column.value):
            return True
        expected = (
            "Checked, Unchecked, the choice's label or empty" if labelled else "1, 0 or empty"
        )
        self.problem(place, f"{cell!r} is not a checkbox value ({expected})")
        return False
