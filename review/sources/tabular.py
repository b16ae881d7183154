"""CSV, TSV and XLSX record tables, with the column names the common tools use.

Pure: text or rows in, ``ParsedFile`` out (an XLSX workbook's rows come from ``xlsx``);
``record_cells`` lays a record out for export.
Column names are matched case-insensitively with spaces, ``_`` and ``-`` alike, as ASReview
(``title, abstract, authors, doi, included``), Rayyan (``key, title, authors, journal``),
Covidence (``Covidence #, Title, Authors, Published Year``), Zotero (``Key, Item Type,
Publication Year, Author, Title, Publication Title, Abstract Note``), Scopus
(``EID, Source title, Page start, PubMed ID``), Web of Science tab-delimited files (``UT,
AU, TI, SO, PY, BP, EP, DI, PM``) and the bib-dedupe sets (``ID, author, title``) write
them. The first id-like column (``source_id, ID, record_id, Key, Covidence #``) is the
``source_id``; columns without a field go to ``Record.extra`` as (header, value).

Rows are numbered as a spreadsheet shows them: the header is row 1. Cells that a
spreadsheet would run as a formula are written with a leading ``'`` (OWASP's advice on CSV
injection) and read back without it, so records round-trip unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from review.errors import ParseError
from review.records import Record, normalise_doi, normalise_pmcid, normalise_pmid
from review.sources.formats import (
    ParsedFile,
    Reached,
    Rejected,
    decode_text,
    qualify_source_ids,
    split_lines,
)
from review.sources.names import format_name, parse_name

_ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": (
        "source_id",
        "id",
        "record_id",
        "key",
        "covidence_#",
        "ref_id",
        "refid",
        "eid",
        "ut",
    ),
    "title": ("title", "primary_title", "article_title", "document_title", "ti"),
    "abstract": ("abstract", "abstract_note", "notes_abstract", "ab"),
    "authors": ("authors", "author", "au", "first_authors"),
    "year": ("year", "publication_year", "published_year", "pub_year", "py"),
    "journal": (
        "journal",
        "journal_name",
        "publication_title",
        "source_title",
        "journal/book",
        "secondary_title",
        "journal_title",
        "so",
    ),
    "journal_iso": ("journal_iso", "journal_abbreviation", "abbreviated_source_title", "ji"),
    "volume": ("volume", "vl"),
    "issue": ("issue", "number", "is"),
    "pages": ("pages", "page", "pg"),
    "page_start": ("page_start", "start_page", "sp", "bp"),
    "page_end": ("page_end", "end_page", "ep"),
    "doi": ("doi", "di"),
    "pmid": ("pmid", "pubmed_id", "pubmedid", "pubmed", "pm"),
    "pmcid": ("pmcid", "pmc"),
    "issn": ("issn", "sn"),
    "language": ("language", "language_of_original_document", "la"),
    "url": ("url", "urls", "link"),
    "record_type": (
        "record_type",
        "type",
        "entrytype",
        "item_type",
        "type_of_reference",
        "document_type",
        "dt",
    ),
    "keywords": ("keywords", "kw", "author_keywords", "manual_tags", "de"),
    "mesh": ("mesh", "mesh_terms"),
    "publication_types": ("publication_types", "publication_type"),
    "extra": ("extra",),
}
_LISTS = ("keywords", "mesh", "publication_types")
_BOOKKEEPING = ("casepool_id", "source", "cluster_id", "is_primary")
_DANGER = re.compile(r"^'*[=+\-@\t\r]")
_YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")

EXPORT_COLUMNS: tuple[str, ...] = (
    "casepool_id",
    "source",
    "source_id",
    "cluster_id",
    "is_primary",
    "included",
    "title",
    "authors",
    "year",
    "journal",
    "journal_iso",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "issn",
    "language",
    "record_type",
    "url",
    "keywords",
    "mesh",
    "publication_types",
    "abstract",
    "extra",
)


class _Invalid(Exception):
    """A cell that cannot be read: (column header, reason)."""


def neutralise(value: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    return "'" + value if _DANGER.match(value) else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise`` exactly: drop the one ``'`` it added."""
    return value[1:] if value.startswith("'") and _DANGER.match(value[1:]) else value


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "_", header.strip().lower())


def read_delimited(
    data: bytes,
    name: str,
    *,
    source: str,
    delimiter: str = ",",
    reached: Reached | None = None,
) -> ParsedFile:
    """Parse a CSV (``delimiter=','``; ``;`` is detected) or TSV (``'\\t'``) file's bytes;
    ``reached`` is told, row by row, how far through the file the parser is."""
    text, encoding = decode_text(data, name)
    if delimiter == ",":
        first = split_lines(text)[0] if text else ""
        if first.count(";") > first.count(",") and "," not in first.replace('","', ""):
            delimiter = ";"
    read = [0]  # characters the reader has consumed

    def lines() -> Iterable[str]:
        for line in io.StringIO(text, newline=""):
            read[0] += len(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, strict=False)
    fmt = "tsv" if delimiter == "\t" else "csv"
    rows: list[list[str]] = []
    start, line = 0, 1  # where the next row begins (offset, line)
    last = (0, 1)  # where the last row read began
    try:
        for row in reader:
            rows.append(row)
            last = (start, line)
            start, line = read[0], reader.line_num + 1
    except csv.Error as exc:
        _refuse_unclosed_quote(text, start, line, delimiter, name)
        raise ParseError(f"{name}, line {reader.line_num}: cannot read the {fmt}: {exc}") from None
    _refuse_unclosed_quote(text, *last, delimiter, name)
    if not rows:
        raise ParseError(f"{name}: the file is empty; expected a header row")
    numbered = counted_rows(rows, reached, start=0.1)  # reading the cells was the first tenth
    return parse_rows(rows[0], numbered, name, source=source, fmt=fmt, encoding=encoding)


def counted_rows(
    rows: Sequence[Sequence[Any]], reached: Reached | None, *, start: float = 0.0
) -> Iterator[tuple[int, Sequence[Any]]]:
    """The rows after the header, numbered as a spreadsheet shows them (the header is row 1),
    telling ``reached`` how far through them the parser is, from ``start`` to 1."""
    total = max(len(rows) - 1, 1)
    for n, row in enumerate(rows[1:], start=2):
        if reached is not None:
            reached(start + (1 - start) * (n - 2) / total)
        yield n, row


def _refuse_unclosed_quote(text: str, start: int, line: int, delimiter: str, name: str) -> None:
    """Raise ``ParseError`` if a quoted cell opened in the row at ``start`` never closes.

    The csv module then reads the rest of the file into that one cell without a word, so
    records would vanish. Quotes count as csv's lenient reader counts them: only at the
    start of a cell, ``""`` inside quotes being one quote.
    """
    quoted, cell_start, opened = False, True, start
    i, end = start, len(text)
    while i < end:
        char = text[i]
        if quoted:
            if char == '"':
                if text.startswith('"', i + 1):
                    i += 1
                else:
                    quoted = False
        elif char == '"' and cell_start:
            quoted, opened = True, i
        cell_start = not quoted and char in (delimiter, "\r", "\n")
        i += 1
    if quoted:
        line += len(split_lines(text[start:opened] + "x")) - 1
        raise ParseError(
            f"{name}, line {line}: a quoted value starts here and is never closed, so the "
            "rest of the file would be read as one cell; close the quote (a quote inside a "
            'quoted value is written "") and import again'
        )


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ``.0``, dates in ISO form, booleans TRUE/FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def parse_rows(
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[Any]]],
    name: str,
    *,
    source: str,
    fmt: str,
    encoding: str | None,
    sheet: str | None = None,
) -> ParsedFile:
    """Records from a header and numbered rows; bad cells become rejects naming row and column
    (and the ``sheet`` of a workbook: ``"sheet 'Embase', row 4, column 'year'"``)."""
    at = f"sheet {sheet!r}, " if sheet is not None else ""
    columns = _map_columns(header, name, at)
    records: list[Record] = []
    places: list[str] = []
    origins: list[str | None] = []
    rejects: list[Rejected] = []
    width = len(header)
    origin = columns.get("-source")
    for number, row in rows:
        cells = [unneutralise(cell_text(v).strip()) for v in row]
        if not any(cells):
            continue
        if len(cells) > width and any(cells[width:]):
            rejects.append(
                Rejected(
                    name,
                    f"{at}row {number}",
                    (
                        f"has {len(cells)} cells but the header has {width}; "
                        "a quote or delimiter inside a value is probably unbalanced"
                    ),
                )
            )
            continue
        try:
            records.append(_to_record(columns, header, cells, source))
            places.append(f"{at}row {number}")
            origins.append(cells[origin] if origin is not None and origin < len(cells) else None)
        except _Invalid as exc:
            column, reason = exc.args
            rejects.append(Rejected(name, f"{at}row {number}, column {column!r}", reason))
    return ParsedFile(
        name,
        fmt,
        encoding,
        qualify_source_ids(records, origins),
        tuple(places),
        tuple(rejects),
        sheet=sheet,
    )


def _map_columns(header: Sequence[str], name: str, at: str = "") -> dict[str, int]:
    """Field -> column index, the first matching column winning; -1 marks dropped columns."""
    keys = [_key(h) for h in header]
    columns: dict[str, int] = {}
    for field_name, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in keys and keys.index(alias) not in columns.values():
                columns[field_name] = keys.index(alias)
                break
    if "casepool_id" in keys:
        for i, key in enumerate(keys):
            if key in _BOOKKEEPING:
                columns[f"-{key}"] = i
    if not {"title", "doi", "pmid"} & columns.keys():
        found = ", ".join(repr(h) for h in header[:12])
        raise ParseError(
            f"{name}, {at}row 1: no column for the title, DOI or PMID (the header has {found}); "
            "name one of them 'title', 'doi' or 'pmid'"
        )
    return columns


def _to_record(
    columns: dict[str, int], header: Sequence[str], cells: list[str], source: str
) -> Record:
    def get(field_name: str) -> str:
        i = columns.get(field_name)
        return cells[i] if i is not None and i < len(cells) else ""

    values: dict[str, Any] = {}
    for field_name in (
        "source_id",
        "title",
        "abstract",
        "journal",
        "journal_iso",
        "volume",
        "issue",
        "issn",
        "language",
        "url",
        "record_type",
    ):
        values[field_name] = get(field_name) or None
    values["year"] = _year(get("year"), header, columns)
    values["pmid"] = _checked(get("pmid"), normalise_pmid, "PMID", "pmid", header, columns)
    values["pmcid"] = _checked(get("pmcid"), normalise_pmcid, "PMCID", "pmcid", header, columns)
    pages = get("pages")
    if not pages and get("page_start"):
        pages = "-".join(p for p in (get("page_start"), get("page_end")) if p)
    values["pages"] = pages or None
    extra: list[tuple[str, str]] = []
    doi = get("doi")
    values["doi"] = normalise_doi(doi)
    if doi and values["doi"] is None:
        extra.append((header[columns["doi"]], doi))
    names = split_names(get("authors"), semicolons_only="-casepool_id" in columns)
    values["authors"] = tuple(parse_name(n) for n in names)
    for field_name in _LISTS:
        values[field_name] = tuple(v.strip() for v in get(field_name).split(";") if v.strip())
    used = set(columns.values())
    for i, cell in enumerate(cells):
        if i in used or not cell:
            continue
        extra.append((header[i] if i < len(header) else f"column {i + 1}", cell))
    extra.extend(_extra_pairs(get("extra"), header[columns["extra"]] if "extra" in columns else ""))
    return Record(source=source, extra=tuple(extra), **values)


def split_names(cell: str, *, semicolons_only: bool = False) -> list[str]:
    """Author names from one cell: separated by ';', else by ' and ' (BibTeX style), else by
    ',' when every part is a 'Surname I.' name (Scopus's older CSV). Files casepool wrote
    always use ';' (``semicolons_only``), so their names round-trip whatever they hold."""
    if not cell:
        return []
    if semicolons_only:
        return [p.strip() for p in cell.split(";") if p.strip()]
    parts = cell.split(";") if ";" in cell else re.split(r"\s+and\s+", cell)
    names = [p.strip() for p in parts if p.strip()]
    if len(names) == 1 and "," in cell:
        pieces = [p.strip() for p in cell.split(",")]
        if all(" " in p and _surname_initials(p) for p in pieces):
            return pieces
    return names


def _surname_initials(text: str) -> bool:
    author = parse_name(text)
    return bool(author.last_name and author.initials and not author.fore_name)


def _year(cell: str, header: Sequence[str], columns: dict[str, int]) -> int | None:
    if not cell:
        return None
    match = _YEAR.match(cell)
    if match is None:
        raise _Invalid(header[columns["year"]], f"{cell!r} is not a year")
    return int(match.group(1))


def _checked(
    cell: str,
    normalise: Any,
    label: str,
    field_name: str,
    header: Sequence[str],
    columns: dict[str, int],
) -> str | None:
    if not cell:
        return None
    value = normalise(cell)
    if value is None:
        raise _Invalid(header[columns[field_name]], f"{cell!r} is not a {label}")
    return str(value)


def _extra_pairs(cell: str, header: str) -> list[tuple[str, str]]:
    """The ``extra`` column casepool writes (a JSON list of pairs); other text kept as is."""
    if not cell:
        return []
    try:
        pairs = json.loads(cell)
    except ValueError:
        return [(header, cell)]
    if isinstance(pairs, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs
    ):
        return [(k, v) for k, v in pairs]
    return [(header, cell)]


def record_cells(
    record: Record,
    *,
    casepool_id: int,
    cluster_id: int,
    is_primary: bool,
    included: str = "",
) -> list[str | int]:
    """One export row in ``EXPORT_COLUMNS`` order, text cells neutralised."""
    text: dict[str, str | int] = {
        "casepool_id": casepool_id,
        "source": record.source,
        "source_id": record.source_id or "",
        "cluster_id": cluster_id,
        "is_primary": 1 if is_primary else 0,
        "included": included,
        "title": record.title or "",
        "authors": "; ".join(format_name(a) for a in record.authors),
        "year": record.year if record.year is not None else "",
        "journal": record.journal or "",
        "journal_iso": record.journal_iso or "",
        "volume": record.volume or "",
        "issue": record.issue or "",
        "pages": record.pages or "",
        "doi": record.doi or "",
        "pmid": record.pmid or "",
        "pmcid": record.pmcid or "",
        "issn": record.issn or "",
        "language": record.language or "",
        "record_type": record.record_type or "",
        "url": record.url or "",
        "keywords": "; ".join(record.keywords),
        "mesh": "; ".join(record.mesh),
        "publication_types": "; ".join(record.publication_types),
        "abstract": record.abstract or "",
        "extra": json.dumps([list(p) for p in record.extra], ensure_ascii=False)
        if record.extra
        else "",
    }
    return [neutralise(v) if isinstance(v, str) else v for v in (text[c] for c in EXPORT_COLUMNS)]
