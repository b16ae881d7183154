"""Extraction spreadsheets: the template an extractor fills, and reading it back.

The template is an XLSX workbook: a ``README`` sheet that explains it and lists every
field, then a sheet per form (``study``, ``case``, ``aggregate``). Each form sheet has two
frozen header rows: row 1 the field names (what the importer reads, required ones
shaded), row 2 their labels, units and ``*`` for required (for people; the importer
knows it by its ``study`` cell, ``STUDY_LABEL``, and skips it). Data start on row 3. The
``study`` column is a dropdown of the registered studies (prefilled on the study sheet),
choice and yes/no/unknown columns are dropdowns (with ``NR``), numbers are checked
against the field's range, and each column's input message gives its help, type, unit,
range and condition. Spreadsheet checks are a convenience only: the importer checks
every cell again. A CSV template is one file per form, ``NAME.study.csv``,
``NAME.case.csv`` and ``NAME.aggregate.csv``: the header row and the prefilled studies.

Reading: every form sheet present (or the one ``form`` names), cells as text (whole
numbers without ``.0``; a date cell as ``YYYY-MM-DD``), each row placed as
``FILE, sheet 'case', row 4`` with columns ``C (age)``. A row with nothing but its study
is skipped (the template prefills them).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from extraction.forms import Form, FormField
from review.errors import ExportError, ParseError
from review.extract.events import FORMS, FormName, RowInput
from review.extract.files import column_letter
from review.extract.workflow import Rejected
from review.sources.tabular import cell_text, neutralise, unneutralise

STUDY_COLUMN = "study"
STUDY_LABEL = "Study (pick from the list) *"
README_SHEET = "README"
LISTS_SHEET = "lists"
FIRST_ROW = 3
BLANK_ROWS = 1000
"""Rows below the prefilled ones that carry the dropdowns and checks."""
_PROMPT_LIMIT = 255  # Excel's limits on an input message and its title
_TITLE_LIMIT = 32
_REQUIRED_FILL = "FCE4D6"
_NOT_REPORTED = '"NR"'


def template_paths(path: Path) -> dict[FormName, Path]:
    """The files a CSV template (or export) of ``path`` is: ``NAME.FORM.csv`` per form."""
    return {form: path.with_name(f"{path.stem}.{form}.csv") for form in FORMS}


def write_template(
    path: Path, forms: Mapping[FormName, Form], studies: Sequence[str], *, title: str
) -> list[Path]:
    """Write the template (XLSX, or one CSV per form for a ``.csv`` path) with ``studies``
    prefilled on the study form; the files written."""
    from review.replacing import replacing

    if path.suffix.lower() == ".csv":
        written = []
        for form, target in template_paths(path).items():
            with replacing(target) as temporary:
                _write_csv_template(temporary, forms[form], studies if form == "study" else ())
            written.append(target)
        return written
    if path.suffix.lower() != ".xlsx":
        raise ExportError(f"{path}: a template is .xlsx (a workbook) or .csv (a file per form)")
    with replacing(path) as temporary:
        _workbook(forms, studies, title=title).save(temporary)
    return [path]


def _write_csv_template(path: Path, form: Form, studies: Sequence[str]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([STUDY_COLUMN, *form.names])
        for label in studies:
            writer.writerow([neutralise(label), *([""] * len(form.fields))])


def _workbook(forms: Mapping[FormName, Form], studies: Sequence[str], *, title: str) -> Any:
    from openpyxl import Workbook

    book = Workbook()
    readme = book.active
    readme.title = README_SHEET
    lists = _Lists(book.create_sheet(LISTS_SHEET))
    study_list = lists.add([neutralise(s) for s in studies] or [""])
    for form in FORMS:
        sheet = book.create_sheet(form, index=len(book.sheetnames) - 1)
        _form_sheet(sheet, forms[form], studies if form == "study" else (), study_list, lists)
    lists.sheet.sheet_state = "hidden"
    _readme(readme, forms, studies, title=title)
    return book


class _Lists:
    """The hidden sheet holding each dropdown's values, one column per list (a list typed
    into a validation breaks at commas and at 255 characters)."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self.columns = 0

    def add(self, values: Sequence[str]) -> str:
        self.columns += 1
        letter = column_letter(self.columns - 1)
        for row, value in enumerate(values, start=1):
            self.sheet.cell(row=row, column=self.columns, value=value)
        return f"'{LISTS_SHEET}'!${letter}$1:${letter}${max(len(values), 1)}"


def _form_sheet(
    sheet: Any, form: Form, studies: Sequence[str], study_list: str, lists: _Lists
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    bold, italic = Font(bold=True), Font(italic=True)
    shaded = PatternFill("solid", start_color=_REQUIRED_FILL, end_color=_REQUIRED_FILL)
    last = FIRST_ROW + len(studies) + BLANK_ROWS - 1
    columns: list[tuple[str, str, bool]] = [(STUDY_COLUMN, STUDY_LABEL, True)]
    columns += [(f.name, _label(f), f.required) for f in form.fields]
    for number, (name, label, required) in enumerate(columns, start=1):
        head = sheet.cell(row=1, column=number, value=name)
        head.font = bold
        under = sheet.cell(row=2, column=number, value=neutralise(label))
        under.font = italic
        under.alignment = Alignment(wrap_text=True, vertical="top")
        if required:
            head.fill = shaded
            under.fill = shaded
        letter = column_letter(number - 1)
        sheet.column_dimensions[letter].width = min(max(len(name), len(label) // 2, 12) + 2, 40)
    sheet.row_dimensions[2].height = 45
    sheet.freeze_panes = f"B{FIRST_ROW}"
    for row, label in enumerate(studies, start=FIRST_ROW):
        sheet.cell(row=row, column=1, value=neutralise(label))
    _validate(sheet, "A", last, _list_rule(study_list, "Study", "Pick a registered study."))
    for number, field in enumerate(form.fields, start=2):
        letter = column_letter(number - 1)
        rule = _field_rule(field, f"{letter}{FIRST_ROW}", lists)
        _validate(sheet, letter, last, rule)
        if field.type in ("text", "date", "multichoice"):
            sheet.column_dimensions[letter].number_format = "@"  # 2019-03 stays text


def _label(field: FormField) -> str:
    unit = f" ({field.unit})" if field.unit else ""
    return f"{field.label}{unit}{' *' if field.required else ''}"


def _validate(sheet: Any, letter: str, last: int, rule: Any) -> None:
    sheet.add_data_validation(rule)
    rule.add(f"{letter}{FIRST_ROW}:{letter}{last}")


def _list_rule(source: str, title: str, prompt: str) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(
        type="list",
        formula1=source,
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=title[:_TITLE_LIMIT],
        prompt=_fit(prompt),
        errorTitle="Not on the list",
        error="Pick a value from the list (NR: the report does not say).",
    )


def _field_rule(field: FormField, first: str, lists: _Lists) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    prompt = describe(field)
    if field.type in ("choice", "yes-no-unknown"):
        source = lists.add([neutralise(v) for v in (*field.allowed_values, "NR")])
        return _list_rule(source, field.label, prompt)
    rule = DataValidation(
        allow_blank=True,
        showInputMessage=True,
        promptTitle=field.label[:_TITLE_LIMIT],
        prompt=_fit(prompt),
    )
    if field.type in ("integer", "number"):
        rule.type = "custom"
        rule.formula1 = _number_formula(field, first)
        rule.showErrorMessage = True
        rule.errorTitle = "Not a number in range"
        rule.error = _fit(prompt)
    return rule


def _number_formula(field: FormField, cell: str) -> str:
    """A number in the field's range, or NR (a numeric validation would refuse NR)."""
    tests = [f"ISNUMBER({cell})"]
    if field.type == "integer":
        tests.append(f"{cell}=INT({cell})")
    if field.min is not None:
        tests.append(f"{cell}>={field.min:g}")
    if field.max is not None:
        tests.append(f"{cell}<={field.max:g}")
    return f'OR(AND({",".join(tests)}),{cell}={_NOT_REPORTED},{cell}="not reported")'


def describe(field: FormField) -> str:
    """What a field takes, in a sentence or two (the input message and the README)."""
    unit = f" in {field.unit}" if field.unit else ""
    span = _span(field)
    kinds = {
        "text": "Text on one line.",
        "integer": f"A whole number{unit}{span}.",
        "number": f"A number{unit}{span} (a decimal point, not a comma).",
        "date": "A date: 2019, 2019-03 or 2019-03-14.",
        "choice": "One of the list.",
        "multichoice": "One or more of: " + "; ".join(field.choices) + " (separate with ;).",
        "yes-no-unknown": "yes, no or unknown.",
    }
    parts = [field.help or "", kinds[field.type]]
    if field.when:
        parts.append(f"Only when {field.when}.")
    parts.append("Required; NR" if field.required else "NR")
    parts[-1] += " if the report does not say."
    return " ".join(p for p in parts if p)


def _span(field: FormField) -> str:
    if field.min is not None and field.max is not None:
        return f", {field.min:g} to {field.max:g}"
    if field.min is not None:
        return f", at least {field.min:g}"
    if field.max is not None:
        return f", at most {field.max:g}"
    return ""


def _fit(text: str) -> str:
    if len(text) <= _PROMPT_LIMIT:
        return text
    return text[: _PROMPT_LIMIT - 17].rstrip() + "… (see README)"


_README_COLUMNS = (
    "form",
    "field",
    "label",
    "type",
    "unit",
    "range",
    "choices",
    "required",
    "when",
    "help",
)


def _readme(
    sheet: Any, forms: Mapping[FormName, Form], studies: Sequence[str], *, title: str
) -> None:
    from openpyxl.styles import Font

    lines = [
        f"Extraction template: {title}",
        "",
        "Sheets: study (one row per report; the studies to extract are filled in), case "
        "(one row per patient, repeating; the study column links it to its report) and "
        "aggregate (a series reported only as totals: one row per study and outcome).",
        "Row 1 holds the field names the importer reads: do not change them. Row 2 explains "
        "them (unit in brackets, * required); data start on row 3.",
        "Leave a cell empty when you have not extracted it yet; write NR when the report "
        "does not say. Several choices go in one cell separated by ';'. Dates: 2019, "
        "2019-03 or 2019-03-14. Numbers in the unit of the column.",
        "The dropdowns and checks help; the importer checks every cell again and lists every "
        "problem with its sheet, row and column. Nothing is imported until all are valid.",
        "Import: casepool extract import THIS_FILE.xlsx --extractor YOUR_NAME "
        "(the same file again changes nothing; a corrected value is recorded as a new entry).",
        f"Studies filled in: {len(studies)}.",
        "",
    ]
    for line in lines:
        sheet.append([neutralise(line)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(_README_COLUMNS))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for form in FORMS:
        for field in forms[form].fields:
            sheet.append([neutralise(str(v)) for v in _dictionary_row(form, field)])
    sheet.column_dimensions["A"].width = 12
    for letter, width in zip("BCDEFGHIJ", (22, 40, 14, 8, 14, 40, 9, 28, 50), strict=True):
        sheet.column_dimensions[letter].width = width


def _dictionary_row(form: FormName, field: FormField) -> tuple[str, ...]:
    return (
        form,
        field.name,
        field.label,
        field.type,
        field.unit or "",
        _span(field).removeprefix(", "),
        "; ".join(field.allowed_values),
        "yes" if field.required else "",
        field.when or "",
        field.help or "",
    )


# --- reading a filled workbook ------------------------------------------------------


def read_workbook(
    path: Path, forms: Mapping[FormName, Form], *, form: FormName | None = None
) -> tuple[tuple[FormName, ...], list[RowInput]]:
    """The rows of every form sheet of an extraction workbook (only ``form``'s when
    given), with the forms read; ParseError names the file and sheet of what cannot be
    read."""
    from review.extract.files import read_bytes
    from review.sources import xlsx

    name = path.name
    data = read_bytes(path)
    if not data.startswith(b"PK\x03\x04"):
        raise ParseError(
            f"{name}: not an XLSX workbook (every .xlsx is a ZIP archive); save it as a "
            "workbook, or give a CSV file a .csv name"
        )
    book = xlsx.open_workbook(data, name)
    try:
        titles = [s.title for s in book.worksheets]
        found = {t.casefold(): t for t in titles}
        wanted = (form,) if form else FORMS
        present = [(f, found[f]) for f in wanted if f in found]
        if not present:
            sheets = ", ".join(repr(t) for t in titles) or "none"
            needed = f"a sheet {form!r}" if form else "a sheet named study, case or aggregate"
            raise ParseError(
                f"{name}: no {needed.removeprefix('a ')}; the workbook's sheets are {sheets} "
                "('casepool extract template' writes one to fill)"
            )
        grids = {f: xlsx.sheet_rows(book[t]) for f, t in present}
    finally:
        book.close()
    formulas = xlsx.has_formulas(data)
    out: list[RowInput] = []
    for chosen, title in present:
        grid = grids[chosen]
        if formulas and grid:
            header = [cell_text(v) for v in grid[0]]
            xlsx.refuse_unsaved_formulas(data, title, grid, header, name)
        out.extend(_sheet_rows(grid, forms[chosen], chosen, f"{name}, sheet {title!r}"))
    return tuple(f for f, _ in present), out


def _sheet_rows(grid: list[list[Any]], form: Form, chosen: FormName, at: str) -> list[RowInput]:
    if not grid or not any(cell_text(v).strip() for v in grid[0]):
        raise ParseError(f"{at}: no header row; row 1 holds the field names")
    header = [cell_text(v).strip() for v in grid[0]]
    if STUDY_COLUMN not in header:
        raise ParseError(f"{at}, row 1: no 'study' column (the study's label or id)")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise ParseError(f"{at}, row 1: the column {repeated[0]!r} appears twice")
    fields = {f.name: f for f in form.fields}
    study_at = header.index(STUDY_COLUMN)
    columns = {h: f"{column_letter(i)} ({h})" for i, h in enumerate(header) if h}
    start = 2
    if len(grid) > 1 and study_at < len(grid[1]) and cell_text(grid[1][study_at]) == STUDY_LABEL:
        start = 3
    rows = []
    for number, values in enumerate(grid[start - 1 :], start=start):
        cells = {
            h: _text(fields.get(h), values[i])
            for i, h in enumerate(header)
            if h and i < len(values)
        }
        study = cells.pop(STUDY_COLUMN, "")
        extra = [v for i, v in enumerate(values) if i >= len(header) or not header[i]]
        if not any(v.strip() for v in cells.values()) and not any(cell_text(v) for v in extra):
            continue
        rows.append(RowInput(study, chosen, cells, f"{at}, row {number}", columns))
    return rows


def _text(field: FormField | None, value: Any) -> str:
    """A cell as the text an extractor meant: a date cell in a date field as its day."""
    if isinstance(value, datetime) and field is not None and field.type == "date":
        return value.date().isoformat()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return unneutralise(value)
    return cell_text(value)


def entered_rows(rows: Iterable[RowInput]) -> list[RowInput]:
    """The rows with something entered besides their study (a prefilled row left as the
    template wrote it is skipped)."""
    return [r for r in rows if any(str(v).strip() for v in r.cells.values() if v is not None)]


def rejects_path(path: Path, rejects: Path | str | None = None) -> Path:
    """Where a partial import of ``path`` writes its refused rows: ``rejects``, or
    ``NAME.rejects.csv`` beside the file."""
    return Path(rejects) if rejects else path.with_name(f"{path.stem}.rejects.csv")


def write_rejects(path: Path, rejected: Sequence[Rejected], forms: Mapping[FormName, Form]) -> None:
    """The rows refused by a partial import, as a CSV: where each came from, its cells and
    its problems (the last column), to correct and import again."""
    from review.replacing import replacing

    names: list[str] = []
    for form in FORMS:
        if any(r.row.form == form for r in rejected):
            names += [n for n in forms[form].names if n not in names]
    for r in rejected:
        names += [n for n in r.row.cells if n not in names]
    with replacing(path) as temporary, temporary.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["place", "form", STUDY_COLUMN, *names, "problems"])
        for r in rejected:
            cells = [str(r.row.cells.get(n) or "") for n in names]
            problems = " | ".join(p.removeprefix(r.row.place).lstrip(":, ") for p in r.problems)
            line = [r.row.place, r.row.form, r.row.study, *cells, problems]
            writer.writerow([neutralise(c) for c in line])
