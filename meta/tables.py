"""Read per-study counts from a CSV, TSV or XLSX table (an I/O edge of ``meta``).

Every error names the file, for a workbook the sheet, the row as a spreadsheet shows it (the
header is row 1) and the column, so a user can go straight to the cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from meta.counts import CountPlace, StudyCounts, make_counts
from meta.errors import InputDataError

_DELIMITED = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}
_EXCEL = (".xlsx", ".xlsm")
FORMATS = "CSV (.csv), TSV (.tsv, .tab, .txt) or Excel (.xlsx, .xlsm)"


@dataclass(frozen=True)
class _Table:
    """Header and cells as read; ``rows[i]`` is spreadsheet row ``numbers[i]``. ``where`` names
    the file (and the sheet of a workbook) in messages; ``sheet`` is the sheet's name, and
    ``other_sheets`` the workbook's other sheets when none was chosen (for a hint)."""

    header: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    numbers: tuple[int, ...]
    where: str = ""
    sheet: str | None = None
    other_sheets: tuple[str, ...] = ()

    def sheet_hint(self) -> str:
        """' (the workbook has other sheets: 'Counts'; choose one with --sheet)' or ''."""
        if not self.other_sheets:
            return ""
        names = ", ".join(repr(s) for s in self.other_sheets)
        return f" (the workbook has other sheets: {names}; choose one with --sheet)"


def is_workbook(path: Path | str) -> bool:
    """Whether ``path`` names an Excel workbook (the only tables with sheets)."""
    return Path(path).suffix.lower() in _EXCEL


def read_counts_table(
    path: Path | str,
    *,
    events: str,
    total: str,
    study: str | None = None,
    subgroup: str | None = None,
    sheet: str | int | None = None,
) -> StudyCounts:
    """Per-study counts from the named columns of a CSV/TSV/XLSX file, one study per row.

    ``sheet`` chooses a workbook's sheet: a name, or a number from 1 (a text of digits that
    is no sheet's name counts as a number); the default is the first. Blank rows are
    skipped. Without ``study`` the studies are labelled by their row ("Row 2", ...). Raises
    :class:`InputDataError` naming file, sheet, row and column.
    """
    path = Path(path)
    table = _read_table(path, sheet)
    where = table.where
    if not table.rows:
        raise InputDataError(
            f"{where}: no studies below the header row; add one row per study" + table.sheet_hint()
        )
    wanted = [("--events", events), ("--total", total)]
    if study is not None:
        wanted.append(("--study", study))
    if subgroup is not None:
        wanted.append(("--subgroup", subgroup))
    index = {}
    for option, name in wanted:
        if name not in table.header:
            existing = ", ".join(repr(h) for h in table.header if h)
            raise InputDataError(
                f"{where}: no column {name!r} (given as {option}); the columns are: {existing}"
                + _separator_hint(path, table.header)
                + table.sheet_hint()
            )
        found = [str(i + 1) for i, h in enumerate(table.header) if h == name]
        if len(found) > 1:
            raise InputDataError(
                f"{where}: column {name!r} (given as {option}) appears {len(found)} times in "
                f"the header (columns {', '.join(found)}); rename the ones you do not mean"
            )
        index[name] = table.header.index(name)

    columns = tuple(
        (field, name)
        for field, name in (("events", events), ("total", total), ("study", study))
        if name is not None
    )
    labels: list[str] = []
    groups: list[str | None] = []
    ev: list[int] = []
    tot: list[int] = []
    places: list[CountPlace] = []
    for cells, row in zip(table.rows, table.numbers, strict=True):
        ev.append(_whole(where, row, events, cells[index[events]]))
        tot.append(_whole(where, row, total, cells[index[total]]))
        label = f"Row {row}" if study is None else _text(where, row, study, cells[index[study]])
        labels.append(label)
        places.append(CountPlace(label, str(path), row, columns, sheet=table.sheet))
        groups.append(
            None if subgroup is None else _text(where, row, subgroup, cells[index[subgroup]])
        )
    return make_counts(ev, tot, labels, groups, places)


def _separator_hint(path: Path, header: tuple[str, ...]) -> str:
    """A hint when the whole header is one cell holding another separator (e.g. ';' from a
    spreadsheet set to a European locale)."""
    if len(header) != 1 or path.suffix.lower() in _EXCEL:
        return ""
    used = _DELIMITED.get(path.suffix.lower(), ",")
    for other, name in ((";", "';'"), ("\t", "tabs"), (",", "','"), ("|", "'|'")):
        if other != used and other in header[0]:
            return (
                f" (the header seems separated by {name}; save the table comma-separated "
                "as .csv or tab-separated as .tsv)"
            )
    return ""


def _read_table(path: Path, sheet: str | int | None = None) -> _Table:
    suffix = path.suffix.lower()
    if path.is_dir():
        raise InputDataError(f"{path}: is a folder; give the path of a counts table inside it")
    if not path.is_file():
        raise InputDataError(f"{path}: no such file")
    if suffix in _EXCEL:
        return _read_excel(path, sheet)
    if suffix not in _DELIMITED:
        raise InputDataError(f"{path}: unknown table format {suffix!r}; use {FORMATS}")
    if sheet is not None:
        raise InputDataError(
            f"{path}: a text table has no sheets, so sheet {sheet!r} cannot be read; "
            "give a sheet only for an Excel workbook (.xlsx, .xlsm)"
        )
    return _read_delimited(path, _DELIMITED[suffix])


def _read_delimited(path: Path, sep: str) -> _Table:
    """Read every cell as text with the csv module (blank lines kept while reading so row
    numbers stay true); a row longer than the header, an unclosed quote or a byte that is
    not UTF-8 is an error naming the row."""
    import csv

    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputDataError(f"{path}: not UTF-8 text; save the table as UTF-8") from None
    if not text.strip():
        raise InputDataError(f"{path}: the file is empty; it needs a header row")
    reader = csv.reader(text.splitlines(), delimiter=sep, strict=True)
    rows: list[tuple[str, ...]] = []
    try:
        for line in reader:
            rows.append(tuple(line))
    except csv.Error as exc:
        raise InputDataError(
            f"{path}, row {reader.line_num}: not a readable table row ({exc}); check its quotes"
        ) from None
    header = tuple(c.strip() for c in rows[0])
    shown = "tab" if sep == "\t" else repr(sep)
    for number, cells in enumerate(rows[1:], start=2):
        if len(cells) > len(header):
            raise InputDataError(
                f"{path}, row {number}: {len(cells)} cells but the header row has "
                f"{len(header)}; remove the extra cells, or quote values that contain the "
                f"separator ({shown})"
            )
    return _keep_filled(header, rows[1:], str(path))


def _read_excel(path: Path, sheet: str | int | None) -> _Table:
    """Read one worksheet (the first unless ``sheet`` names another) with openpyxl, keeping
    numbers as numbers."""
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputDataError(
            f"{path}: not a readable Excel workbook ({_first_line(exc)})"
        ) from None
    try:
        names = [ws.title for ws in book.worksheets]
        number = _sheet_number(path, names, sheet)
        values = [tuple(r) for r in book.worksheets[number].iter_rows(values_only=True)]
    finally:
        book.close()
    where = f"{path}, sheet {names[number]!r}"
    others = tuple(n for n in names if n != names[number]) if sheet is None else ()
    if not values:
        hint = _Table((), (), (), other_sheets=others).sheet_hint()
        raise InputDataError(f"{where}: the sheet is empty; it needs a header row{hint}")
    if any(v is None for row in values for v in row):
        values = _mark_unsaved_formulas(path, number, values)
    header = tuple("" if v is None else str(v).strip() for v in values[0])
    table = _keep_filled(header, values[1:], where)
    return _Table(table.header, table.rows, table.numbers, where, names[number], others)


def _sheet_number(path: Path, names: Sequence[str], sheet: str | int | None) -> int:
    """The 0-based index of ``sheet``: a name, else a number from 1; an unknown one lists
    the sheets there are."""
    if sheet is None:
        if not names:
            raise InputDataError(f"{path}: the workbook has no worksheets")
        return 0
    if isinstance(sheet, str) and sheet in names:
        return names.index(sheet)
    text = str(sheet).strip()
    if not isinstance(sheet, bool) and text.isdigit() and 1 <= int(text) <= len(names):
        return int(text) - 1
    listed = ", ".join(f"{i} {n!r}" for i, n in enumerate(names, start=1))
    what = f"no sheet {sheet}" if isinstance(sheet, int) else f"no sheet {sheet!r}"
    raise InputDataError(f"{path}: {what}; the sheets are (number and name): {listed}")


@dataclass(frozen=True)
class _Formula:
    """A formula cell whose value was never saved (e.g. a workbook written by a script)."""

    text: str


def _mark_unsaved_formulas(
    path: Path, number: int, values: list[tuple[object, ...]]
) -> list[tuple[object, ...]]:
    """Replace empty values that are formulas without a saved result by ``_Formula``."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        formulas = [tuple(r) for r in book.worksheets[number].iter_rows(values_only=True)]
    finally:
        book.close()
    marked = []
    for row, source in zip(values, formulas, strict=False):
        marked.append(
            tuple(
                _Formula(f) if v is None and isinstance(f, str) and f.startswith("=") else v
                for v, f in zip(row, source, strict=False)
            )
        )
    return marked


def _keep_filled(header: tuple[str, ...], rows: Sequence[tuple[object, ...]], where: str) -> _Table:
    kept: list[tuple[object, ...]] = []
    numbers: list[int] = []
    width = len(header)
    for i, cells in enumerate(rows):
        if all(_blank(c) for c in cells):
            continue
        padded = tuple(cells[:width]) + (None,) * (width - len(cells))
        kept.append(padded)
        numbers.append(i + 2)
    return _Table(header, tuple(kept), tuple(numbers), where)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(where: str, row: int, column: str, value: object) -> int:
    """A non-negative whole number from a cell ("8", "8.0", 8, 8.0 are all 8)."""
    place = f"{where}, row {row}, column {column!r}"
    _refuse_formula(place, value)
    if _blank(value):
        raise InputDataError(f"{place}: empty cell; give a whole number")
    if isinstance(value, bool):
        raise InputDataError(f"{place}: {value!r} is not a whole number")
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        number = int(value) if value.is_integer() else None
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                as_float = float("nan")
            number = int(as_float) if as_float.is_integer() else None
    if number is None:
        raise InputDataError(f"{place}: {_shown(value)!r} is not a whole number")
    if number < 0:
        raise InputDataError(f"{place}: {_shown(value)!r} is negative; counts are 0 or more")
    return number


def _refuse_formula(place: str, value: object) -> None:
    if isinstance(value, _Formula):
        raise InputDataError(
            f"{place}: the formula {value.text!r} has no saved value; open the workbook in "
            "Excel or LibreOffice and save it, or type the value"
        )


def _text(where: str, row: int, column: str, value: object) -> str:
    _refuse_formula(f"{where}, row {row}, column {column!r}", value)
    if _blank(value):
        raise InputDataError(f"{where}, row {row}, column {column!r}: empty cell; give a label")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _shown(value: object) -> str:
    return value.strip() if isinstance(value, str) else str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
