"""XLSX workbooks of records: choosing the sheet, reading its rows, refusing what would lose data.

Pure: bytes in, ``ParsedFile`` out (openpyxl in read-only mode, the values a spreadsheet saved,
not its formulas). The columns are understood as ``tabular`` understands a CSV's. Every message
names the file and the sheet, and the row and column when there is one
(``records.xlsx, sheet 'Embase', row 4, column 'year': ...``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from review.errors import NotTextError, ParseError
from review.sources.formats import ParsedFile, Reached, decode_text, split_lines
from review.sources.tabular import cell_text, counted_rows, parse_rows

_ZIP_MAGIC = b"PK\x03\x04"


_READING = 0.75  # of the time: openpyxl reading the cells; the rest is making the records


def read_xlsx(
    data: bytes,
    name: str,
    *,
    source: str,
    sheet: str | int | None = None,
    reached: Reached | None = None,
) -> ParsedFile:
    """Parse one worksheet of an XLSX workbook's bytes: ``sheet`` by name or 1-based number
    (see ``choose_sheet``), the first by default. ``reached`` is told how far the parser is:
    by the bytes of the workbook read while reading the cells, then row by row."""
    read = _Counting(data, None if reached is None else lambda f: reached(_READING * f))
    book = open_workbook(data, name, stream=read)
    try:
        title = choose_sheet(_titles(book), sheet, name)
        rows = sheet_rows(book[title])
    finally:
        book.close()
    if not rows:
        raise ParseError(f"{name}, sheet {title!r}: the sheet is empty; expected a header row")
    header = [cell_text(v) for v in rows[0]]
    if any(v is None for row in rows for v in row) and has_formulas(data):
        refuse_unsaved_formulas(data, title, rows, header, name)
    numbered = counted_rows(rows, reached, start=_READING)
    return parse_rows(header, numbered, name, source=source, fmt="xlsx", encoding=None, sheet=title)


class _Counting(io.BytesIO):
    """The workbook's bytes, telling ``reached`` what share of them has been read."""

    def __init__(self, data: bytes, reached: Reached | None) -> None:
        super().__init__(data)
        self._size = max(len(data), 1)
        self._read = 0
        self._reached = reached

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if self._reached is not None:
            self._read += len(chunk)
            self._reached(min(self._read / self._size, 1.0))
        return chunk


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def has_formulas(data: bytes) -> bool:
    """True when a worksheet of the workbook holds a formula (a ``<f>`` element): only then
    can an empty cell be a formula whose value was never saved. Scanning the XML is much
    faster than reading every cell a second time."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if not (member.startswith("xl/worksheets/") and member.endswith(".xml")):
                continue
            with archive.open(member) as part:
                tail = b""
                while chunk := part.read(1 << 20):
                    if _FORMULA.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def sheet_of(data: bytes, name: str, sheet: str | int | None = None) -> tuple[int, str]:
    """(0-based position, title) of the sheet ``sheet`` chooses in the workbook ``data``."""
    book = open_workbook(data, name)
    try:
        titles = _titles(book)
    finally:
        book.close()
    title = choose_sheet(titles, sheet, name)
    return titles.index(title), title


def choose_sheet(titles: Sequence[str], sheet: str | int | None, name: str) -> str:
    """The title of the sheet asked for: the first when ``sheet`` is None; an ``int`` (or a
    string of digits that names no sheet) is its number, counting from 1; a string is its
    name (exactly, else ignoring case). Anything else is an error listing the sheets."""
    if not titles:
        raise ParseError(f"{name}: the workbook has no worksheets; expected one with records")
    if sheet is None:
        return titles[0]
    if isinstance(sheet, str):
        if sheet in titles:
            return sheet
        folded = [t for t in titles if t.casefold() == sheet.casefold()]
        if len(folded) == 1:
            return folded[0]
        if not sheet.strip().isdigit():
            raise ParseError(
                f"{name}: there is no sheet {sheet!r}; the workbook has {_listing(titles)}: "
                "give --sheet one of these names or its number"
            )
        sheet = int(sheet)
    if not 1 <= sheet <= len(titles):
        raise ParseError(
            f"{name}: there is no sheet {sheet}; the workbook has {_listing(titles)}: "
            f"give --sheet a number from 1 to {len(titles)} or a name"
        )
    return titles[sheet - 1]


def _listing(titles: Sequence[str]) -> str:
    """``2 sheets, 1 'Embase' and 2 'Scopus'``."""
    named = [f"{i} {t!r}" for i, t in enumerate(titles, start=1)]
    if len(named) == 1:
        return f"1 sheet, {named[0]}"
    return f"{len(named)} sheets, {', '.join(named[:-1])} and {named[-1]}"


def open_workbook(data: bytes, name: str, *, formulas: bool = False, stream: Any = None) -> Any:
    import warnings
    import zipfile

    from openpyxl import load_workbook

    if not data.startswith(_ZIP_MAGIC):
        _refuse_non_workbook(data, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(stream or io.BytesIO(data), read_only=True, data_only=not formulas)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ParseError(f"{name}: not a readable XLSX workbook ({exc})") from None


def _titles(book: Any) -> list[str]:
    return [sheet.title for sheet in book.worksheets]


def sheet_rows(sheet: Any) -> list[list[Any]]:
    if hasattr(sheet, "reset_dimensions"):  # some writers store a wrong sheet size
        sheet.reset_dimensions()
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _refuse_non_workbook(data: bytes, name: str) -> None:
    """Every XLSX workbook is a ZIP archive; say what the file is instead, and how to read it."""
    try:
        text, _ = decode_text(data[:8192], name)
    except NotTextError:
        raise
    except ParseError:  # a multi-byte character cut at the end of the sample
        text = data[:8192].decode("latin-1")
    first = next((line for line in split_lines(text) if line.strip()), "")
    fmt = "tsv" if "\t" in first else "csv" if ("," in first or ";" in first) else None
    looks = (
        f"it looks like {fmt.upper()}: import it with --format {fmt}"
        if fmt
        else "export the records again as XLSX, or as CSV"
    )
    raise ParseError(
        f"{name}: not an XLSX workbook (it holds text, not the ZIP archive every .xlsx is); {looks}"
    )


def refuse_unsaved_formulas(
    data: bytes, title: str, rows: list[list[Any]], header: list[str], name: str
) -> None:
    """A formula with no saved result reads as empty: refuse it rather than lose the value."""
    book = open_workbook(data, name, formulas=True)
    try:
        formulas = sheet_rows(book[title])
    finally:
        book.close()
    for number, (values, cells) in enumerate(zip(rows, formulas, strict=False), start=1):
        for column, (value, cell) in enumerate(zip(values, cells, strict=False)):
            if value is None and isinstance(cell, str) and cell.startswith("="):
                label = header[column] if number > 1 and column < len(header) else column + 1
                raise ParseError(
                    f"{name}, sheet {title!r}, row {number}, column {label!r}: the formula "
                    f"{cell} has no saved value (the file was written by a program, not saved "
                    "by a spreadsheet); open and save it in a spreadsheet, or paste the values, "
                    "and import again"
                )
