"""Screening spreadsheets (pure): a reviewer's records as an XLSX or CSV sheet to screen in
Excel, and a filled sheet read back and checked, every row, before anything is recorded.

The sheet has one row per cluster with its decision, reason and note (the reviewer's
current ones pre-filled, so exporting again and importing changes nothing), and says whom
and which stage it is for: in the ``reviewer`` and ``stage`` columns, and in XLSX also on a
hidden ``casepool`` sheet, so a row edited for another reviewer is caught. An XLSX sheet has
dropdowns for the decision and the reason (the codes listed on its ``reasons`` sheet), the
header frozen, titles and abstracts wrapped, and columns wide enough to read. Text that a
spreadsheet would run as a formula is neutralised as the record export does it
(``tabular.neutralise``), and reading reverses that. Problems name the file, the row as the
spreadsheet numbers it (the header is row 1) and the column: ``ana-ta.xlsx, row 7, column D
(decision): ...``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from review.dedup.clusters import Membership
from review.errors import ParseError, ScreeningError, SheetError
from review.protocol.model import ExclusionReason
from review.records import Record
from review.screening.events import (
    STAGE_NAMES,
    Decision,
    Stage,
    parse_decision,
    parse_stage,
)
from review.wording import count

SheetFormat = Literal["xlsx", "csv"]
COLUMNS: tuple[str, ...] = (
    "cluster",
    "title",
    "abstract",
    "decision",
    "reason",
    "note",
    "authors",
    "journal",
    "year",
    "pmid",
    "doi",
    "reviewer",
    "stage",
)
REQUIRED: tuple[str, ...] = ("cluster", "reviewer", "stage", "decision", "reason")
RELEVANCE = "relevance"
"""The extra last column of a sheet exported in relevance order (ignored when read back)."""
SHEET, REASONS, META = "screening", "reasons", "casepool"
SHOWN_PROBLEMS = 50
"""How many problems an error message lists; ``SheetError.problems`` holds them all."""

_WIDTHS = {"cluster": 9, "title": 50, "abstract": 80, "decision": 11, "reason": 22, "note": 30}
_WIDTHS |= {"authors": 30, "journal": 24, "year": 7, "pmid": 11, "doi": 24, "reviewer": 14}
_WRAPPED = ("title", "abstract", "note")
_ZIP_MAGIC = b"PK\x03\x04"
_CELL_LIMIT = 32_767
"""The most characters Excel keeps in a cell (a longer abstract is cut, ending in …)."""


@dataclass(frozen=True)
class SheetRow:
    """A cluster to screen on the sheet, as one record, with the reviewer's decision in force."""

    cluster_id: int
    record: Record
    decision: Decision | None = None
    reason: str | None = None
    note: str | None = None
    relevance: float | None = None


def sheet_format(name: str) -> SheetFormat:
    """The format a file name asks for (``.xlsx`` or ``.csv``)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in ("xlsx", "csv"):
        return suffix  # type: ignore[return-value]
    raise SheetError(f"{name}: a screening sheet is an .xlsx or a .csv file; name it so")


# --- writing --------------------------------------------------------------------------


def _cells(
    row: SheetRow, reviewer: str, stage: Stage, relevance: bool = False
) -> list[str | int | float]:
    from review.sources.tabular import EXPORT_COLUMNS, neutralise, record_cells

    cells = record_cells(row.record, casepool_id=0, cluster_id=0, is_primary=True)
    shown = dict(zip(EXPORT_COLUMNS, cells, strict=True))
    own = {
        "cluster": row.cluster_id,
        "decision": row.decision or "",
        "reason": neutralise(row.reason or ""),
        "note": neutralise(row.note or ""),
        "reviewer": neutralise(reviewer),
        "stage": stage,
    }
    out: list[str | int | float] = [own[c] if c in own else shown[c] for c in COLUMNS]
    if relevance:
        out.append("" if row.relevance is None else round(row.relevance, 3))
    return out


def write_sheet(
    rows: Sequence[SheetRow],
    fmt: SheetFormat,
    *,
    reviewer: str,
    stage: Stage,
    reasons: Sequence[ExclusionReason],
    relevance: bool = False,
) -> bytes:
    """The sheet's bytes: an XLSX workbook or a UTF-8 CSV (with a byte-order mark, so Excel
    reads its accents right); with ``relevance`` a last column of predicted relevance."""
    header = (*COLUMNS, RELEVANCE) if relevance else COLUMNS
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(_cells(row, reviewer, stage, relevance) for row in rows)
        return buffer.getvalue().encode("utf-8-sig")
    return _workbook(rows, reviewer=reviewer, stage=stage, reasons=reasons, relevance=relevance)


def _workbook(
    rows: Sequence[SheetRow],
    *,
    reviewer: str,
    stage: Stage,
    reasons: Sequence[ExclusionReason],
    relevance: bool = False,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    header = (*COLUMNS, RELEVANCE) if relevance else COLUMNS

    def clean(value: str | int | float) -> str | int | float:
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        return text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([clean(c) for c in _cells(row, reviewer, stage, relevance)])
    last = len(rows) + 1
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
    top, wrapped = Alignment(vertical="top"), Alignment(vertical="top", wrap_text=True)
    for number, column in enumerate(header, start=1):
        letter = get_column_letter(number)
        sheet.column_dimensions[letter].width = max(_WIDTHS.get(column, 10), len(column) + 3)
        for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=number, max_col=number):
            cell.alignment = wrapped if column in _WRAPPED else top

    listing = book.create_sheet(REASONS)
    listing.append(("code", "label", f"exclusion reasons at {STAGE_NAMES[stage]}"))
    for reason in reasons:
        listing.append((reason.code, clean(reason.label)))
    listing.column_dimensions["A"].width = 28
    listing.column_dimensions["B"].width = 60
    _dropdown(sheet, DataValidation, "decision", '"include,exclude,maybe"', last)
    if reasons:
        where = f"{REASONS}!$A$2:$A${len(reasons) + 1}"
        _dropdown(sheet, DataValidation, "reason", where, last)

    meta = book.create_sheet(META)
    for key, value in (("sheet", "casepool screening"), ("reviewer", reviewer), ("stage", stage)):
        meta.append((key, clean(value)))
    meta.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _dropdown(sheet: Any, kind: Any, column: str, source: str, last: int) -> None:
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(COLUMNS.index(column) + 1)
    choices = "include, exclude or maybe" if column == "decision" else f"a code of {REASONS}"
    validation = kind(type="list", formula1=source, allow_blank=True, showErrorMessage=True)
    validation.error = f"Choose {choices}, or leave the cell empty."
    validation.errorTitle = f"Not a {column}"
    sheet.add_data_validation(validation)
    validation.add(f"{letter}2:{letter}{max(last, 2)}")


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetFile:
    """A sheet as read: its header, its rows numbered as the spreadsheet numbers them (cells
    by column name, neutralising undone), and whom and which stage it says it is for."""

    name: str
    header: tuple[str, ...]
    columns: Mapping[str, int]
    rows: tuple[tuple[int, Mapping[str, str]], ...]
    reviewer: str | None = None
    stage: str | None = None

    def place(self, row: int, column: str) -> str:
        """``ana-ta.xlsx, row 7, column D (decision)``."""
        from openpyxl.utils import get_column_letter

        index = self.columns[column]
        letter = get_column_letter(index + 1)
        return f"{self.name}, row {row}, column {letter} ({self.header[index]})"


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "_", header.strip().lower())


def read_sheet(data: bytes, name: str) -> SheetFile:
    """Read a screening sheet's bytes: XLSX (its ``screening`` sheet, else its first) or CSV."""
    if data.startswith(_ZIP_MAGIC):
        table, meta = _read_xlsx(data, name)
    elif name.lower().endswith(".xlsx"):
        raise SheetError(
            f"{name}: not an XLSX workbook (it holds text, not the ZIP archive every .xlsx is); "
            "export the sheet again, or name a CSV file .csv"
        )
    else:
        table, meta = _read_csv(data, name), {}
    return _table(table, name, meta)


def _read_xlsx(data: bytes, name: str) -> tuple[list[list[str]], dict[str, str]]:
    import warnings
    import zipfile

    from openpyxl import load_workbook

    from review.sources.tabular import cell_text
    from review.sources.xlsx import has_formulas

    unreadable = (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable as exc:
        raise SheetError(f"{name}: not a readable XLSX workbook ({exc})") from None
    try:
        titles = [s.title for s in book.worksheets]
        if not titles:
            raise SheetError(f"{name}: the workbook has no worksheets")
        chosen = book[SHEET if SHEET in titles else titles[0]]
        chosen.reset_dimensions()
        values = [list(row) for row in chosen.iter_rows(values_only=True)]
        table = [[cell_text(v) for v in row] for row in values]
        meta: dict[str, str] = {}
        if META in titles:
            for row in book[META].iter_rows(values_only=True, max_col=2):
                if row and row[0] is not None:
                    meta[cell_text(row[0])] = cell_text(row[1] if len(row) > 1 else None)
    except unreadable as exc:  # a part of the workbook is read only when its cells are
        raise SheetError(f"{name}: not a readable XLSX workbook ({exc})") from None
    finally:
        book.close()
    if any(v is None for row in values for v in row) and has_formulas(data):
        _refuse_unsaved_formulas(data, chosen.title, values, table[0] if table else [], name)
    return table, meta


def _refuse_unsaved_formulas(
    data: bytes, title: str, values: list[list[Any]], header: list[str], name: str
) -> None:
    """A formula whose result was never saved reads as empty: refuse it, not lose the cell."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        formulas = [list(r) for r in book[title].iter_rows(values_only=True)]
    finally:
        book.close()
    problems = [
        f"{name}, row {number}, column {get_column_letter(index + 1)}"
        + (f" ({header[index]})" if index < len(header) else "")
        + f": the formula {cell} has no saved value; to write text that starts with "
        f"{cell[0]}, type an apostrophe before it ('{cell[:20]})"
        for number, (row, cells) in enumerate(zip(values, formulas, strict=False), start=1)
        for index, (value, cell) in enumerate(zip(row, cells, strict=False))
        if value is None and isinstance(cell, str) and cell.startswith("=")
    ]
    if problems:
        raise _refused(name, problems)


def _read_csv(data: bytes, name: str) -> list[list[str]]:
    from review.sources.formats import decode_text

    try:
        text, _ = decode_text(data, name)
    except ParseError as exc:
        raise SheetError(str(exc)) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise SheetError(f"{name}: cannot read the CSV: {exc}") from None


def _table(table: list[list[str]], name: str, meta: Mapping[str, str]) -> SheetFile:
    from review.sources.tabular import unneutralise

    if not table or not any(c.strip() for c in table[0]):
        raise SheetError(f"{name}: the sheet is empty; expected a header row (cluster, ...)")
    header = tuple(c.strip() for c in table[0])
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _key(title)
        if key in COLUMNS and key in columns:
            raise SheetError(f"{name}: the column {key!r} appears twice in the header row")
        columns.setdefault(key, index)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise SheetError(
            f"{name}: the sheet has no {_and(missing)} column{'s' if len(missing) > 1 else ''}; "
            f"a screening sheet needs {_and(list(REQUIRED))} (export one with "
            "'casepool screen export')"
        )
    wanted = {k: i for k, i in columns.items() if k in COLUMNS}
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            k: unneutralise(cells[i].strip()) if i < len(cells) else "" for k, i in wanted.items()
        }
        if any(values.values()):
            rows.append((number, values))
    return SheetFile(name, header, columns, tuple(rows), meta.get("reviewer"), meta.get("stage"))


def _and(items: Sequence[str]) -> str:
    quoted = [repr(i) for i in items]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def sheet_stage(sheet: SheetFile) -> Stage:
    """The stage a sheet is for: its hidden sheet's, else the one most of its rows name."""
    if sheet.stage:
        try:
            return parse_stage(sheet.stage)
        except ScreeningError:
            pass
    named: Counter[Stage] = Counter()
    for _, cells in sheet.rows:
        try:
            named[parse_stage(cells["stage"])] += 1
        except ScreeningError:
            continue
    if named:
        return named.most_common(1)[0][0]
    raise SheetError(
        f"{sheet.name}: no row says which stage it is for (the 'stage' column: ta or ft)"
    )


# --- checking -------------------------------------------------------------------------

Current = tuple[Decision, str | None, str | None]
"""A decision in force: (decision, reason, note)."""


@dataclass(frozen=True)
class Rules:
    """What may be decided, from the use case: the stage's reasons and notes checked as
    ``decide`` checks them (raising ``ScreeningError``), why the reviewer may not decide a
    cluster (None when they may), and their decision in force on it."""

    membership: Membership
    reason: Callable[[str | None, Decision], str | None]
    note: Callable[[str | None], str | None]
    refusal: Callable[[int], str | None]
    current: Callable[[int], Current | None]
    reason_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetDecision:
    """A row to record: the cluster today (``given`` is the id on the sheet)."""

    row: int
    cluster_id: int
    given: int
    decision: Decision
    reason: str | None
    note: str | None


@dataclass(frozen=True)
class SheetPlan:
    """What importing a sheet does: the decisions to record, and the rows that change
    nothing (``unchanged``: the decision in force; ``blank``: no decision given;
    ``cleared``: a decision emptied on the sheet, which leaves the decision in force)."""

    stage: Stage
    decisions: tuple[SheetDecision, ...]
    unchanged: int
    blank: int
    cleared: tuple[tuple[int, int], ...] = ()
    notes: tuple[str, ...] = ()


def check_sheet(sheet: SheetFile, *, reviewer: str, stage: Stage, rules: Rules) -> SheetPlan:
    """Check every row of a sheet; raise ``SheetError`` listing every problem, else say
    what importing it records."""
    problems: list[str] = []
    owner = _name(sheet.reviewer) if sheet.reviewer else reviewer
    if owner != reviewer:
        problems.append(
            f"{sheet.name}: the sheet was exported for {owner}, not {reviewer}; each reviewer "
            f"imports their own sheet (--reviewer {owner})"
        )
    if sheet.stage:
        try:
            parse_stage(sheet.stage)
        except ScreeningError:
            problems.append(
                f"{sheet.name}: its hidden {META} sheet names the stage {sheet.stage!r}, "
                "not ta or ft; export the sheet again"
            )
    decisions: list[SheetDecision] = []
    seen: dict[int, SheetDecision] = {}
    unchanged = blank = 0
    cleared: list[tuple[int, int]] = []
    notes: list[str] = []
    for number, cells in sheet.rows:
        found = _row(sheet, number, cells, owner=owner, stage=stage, rules=rules)
        if isinstance(found, list):
            problems.extend(found)
            continue
        if found is None:
            continue
        given, cluster, decided = found
        if cluster != given:
            notes.append(f"row {number}: cluster {given} is now part of cluster {cluster}")
        if decided is None:
            if rules.current(cluster) is not None:
                cleared.append((number, cluster))
            else:
                blank += 1
            continue
        earlier = seen.get(cluster)
        if earlier is not None:
            same = (earlier.decision, earlier.reason, earlier.note) == decided
            if not same:
                also = f" (cluster {given} is now part of cluster {cluster})" * (given != cluster)
                problems.append(
                    f"{sheet.place(number, 'decision')}: cluster {cluster} is decided "
                    f"differently in row {earlier.row}{also}; keep one decision for it"
                )
            continue
        entry = SheetDecision(number, cluster, given, *decided)
        seen[cluster] = entry
        if rules.current(cluster) == decided:
            unchanged += 1
        else:
            decisions.append(entry)
    if problems:
        raise _refused(sheet.name, problems)
    return SheetPlan(stage, tuple(decisions), unchanged, blank, tuple(cleared), tuple(notes))


def _refused(name: str, problems: list[str]) -> SheetError:
    if len(problems) == 1:
        return SheetError(f"{problems[0]} (nothing was imported)", tuple(problems))
    shown = problems[:SHOWN_PROBLEMS]
    more = len(problems) - len(shown)
    tail = f"\n  ... and {count(more, 'more problem')}" if more else ""
    lines = "\n".join(f"  {p}" for p in shown)
    return SheetError(
        f"{name}: {count(len(problems), 'problem')}, so nothing was imported:\n{lines}{tail}",
        tuple(problems),
    )


def _name(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _row(
    sheet: SheetFile,
    number: int,
    cells: Mapping[str, str],
    *,
    owner: str,
    stage: Stage,
    rules: Rules,
) -> list[str] | tuple[int, int, Current | None] | None:
    """One row: its problems, or (the cluster given, the cluster today, the decision or None)."""
    problems: list[str] = []

    def problem(column: str, message: str) -> None:
        problems.append(f"{sheet.place(number, column)}: {message}")

    who = _name(cells["reviewer"])
    if who != owner:
        problem(
            "reviewer",
            f"the row is for {who!r}, but the sheet is {owner}'s; each reviewer imports only "
            "their own rows"
            if who
            else f"the reviewer is empty; the sheet is {owner}'s",
        )
    try:
        if parse_stage(cells["stage"]) != stage:
            named = cells["stage"]
            problem("stage", f"{named!r} is not the sheet's stage, {stage} ({STAGE_NAMES[stage]})")
    except ScreeningError as exc:
        problem("stage", str(exc))
    given = cluster = None
    text = cells["cluster"]
    if not text:
        problem("cluster", "the cluster id is empty")
    elif not text.isdigit():
        problem("cluster", f"{text!r} is not a cluster id (a whole number)")
    else:
        given = int(text)
        cluster = rules.membership.resolve(given)
        refused = (
            f"there is no cluster {given} in this review"
            if cluster is None
            else rules.refusal(cluster)
        )
        if refused:
            problem("cluster", refused)
    decided = _decision(cells, rules, problem)
    if problems:
        return problems
    assert given is not None and cluster is not None
    return given, cluster, decided


def _decision(
    cells: Mapping[str, str], rules: Rules, problem: Callable[[str, str], None]
) -> Current | None:
    note_text = cells.get("note", "")
    if not cells["decision"]:
        if cells["reason"] or note_text:
            problem(
                "decision",
                "a reason or note is given but no decision; choose include, exclude or maybe, "
                "or empty the row's reason and note",
            )
        return None
    try:
        decision = parse_decision(cells["decision"])
    except ScreeningError as exc:
        problem("decision", str(exc))
        return None
    code = cells["reason"] or None
    if code is not None:
        code = next((c for c in rules.reason_codes if c.casefold() == code.casefold()), code)
    try:
        reason = rules.reason(code, decision)
    except ScreeningError as exc:
        problem("reason", str(exc))
        return None
    try:
        note = rules.note(note_text or None)
    except ScreeningError as exc:
        problem("note", str(exc))
        return None
    return decision, reason, note
