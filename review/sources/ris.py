"""RIS files from Embase, Ovid, Scopus, Web of Science, Zotero, EndNote, RefWorks and PubMed tools.

Pure: text in, ``ParsedFile`` out; ``format_ris`` writes a record back. The tag meanings
are rispy's (``rispy.TAG_KEY_MAPPING``, the RIS specification); the line reader is our own
because a reviewer needs the line of a broken record, which rispy does not report, and
because the database dialects need repairs rispy does not make:

- Embase and Mendeley write authors in ``A1`` (read as ``AU``) and abstracts in ``N2``
  (read as ``AB``, so merged files do not lose abstracts); Ovid, Embase and Web of Science
  wrap long values over indented continuation lines (joined with a space), while EndNote
  writes a value's own line breaks as unindented continuation lines (kept as line breaks,
  and written back that way).
- After a RefWorks round trip each author line holds one character of a Python list of
  names (asreview/asreview#1416); the letters are joined back into names, or the record
  is rejected when they cannot be.
- ``AU`` lines holding several names separated by ``;`` are split.
- A byte-order mark before a tag (left where exports were joined with ``cat``) is ignored.
- A record type that is not a RIS code (BibTeX ``article``, PubMed ``Journal Article``)
  is written as the nearest code (``JOUR``, else ``GEN``) with the original in an
  ``N1  - casepool-type: ...`` line, which sets it again on import.
- MeSH headings, which RIS has no tag for, are written and read as ``MH`` lines.
- Pages are written as ``SP``/``EP`` with the last page in full (MEDLINE's ``244-55`` is
  ``SP 244``, ``EP 255``; ``review.pages``), so they read back as ``244-255``.
- PMIDs: ``N1  - PMID: n`` (as casepool and others write them), Ovid MEDLINE's ``AN`` and
  Scopus's ``C2``; ``C2  - PMC...`` (EndNote) is the PMCID.

Every tag without a field of its own is kept in ``Record.extra`` as (tag, value), in file
order, so a record written back with ``format_ris`` reads in unchanged.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from review.pages import split_pages
from review.records import Author, Record, normalise_doi, normalise_pmcid, normalise_pmid
from review.sources.formats import (
    ParsedFile,
    Reached,
    Rejected,
    decode_text,
    qualify_source_ids,
    split_lines,
)
from review.sources.names import format_name, parse_name
from review.wording import count

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  ?-(?: (.*))?$")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2\d\d\d)(?!\d)")
_NOTE_ID = re.compile(r"^(PMID|PMCID):\s*(\S+)$", re.IGNORECASE)
_BREAK = re.compile(r"\r\n|\r|\n")
_BOOKKEEPING = "casepool:"
_ORIGIN = re.compile(r"^casepool: record \d+; source (.+?); cluster \d+")
_TYPE_NOTE = "casepool-type:"
_RIS_TYPE = re.compile(r"^[A-Z]{2,6}$")
_TYPE_CODES = {
    "article": "JOUR",
    "journalarticle": "JOUR",
    "casereports": "JOUR",
    "inproceedings": "CPAPER",
    "conferencepaper": "CPAPER",
    "book": "BOOK",
    "incollection": "CHAP",
    "inbook": "CHAP",
    "booksection": "CHAP",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "thesis": "THES",
    "techreport": "RPRT",
    "report": "RPRT",
}

_AUTHOR_TAGS = frozenset({"AU", "A1"})
_TITLE_TAGS = frozenset({"TI", "T1"})
_ABSTRACT_TAGS = frozenset({"AB", "N2"})
_JOURNAL_TAGS = frozenset({"JF", "T2", "JO"})
_ABBREVIATION_TAGS = frozenset({"JA", "J2", "J1", "JI"})
_DATE_TAGS = frozenset({"PY", "Y1", "DA"})
_SINGLE = {"VL": "volume", "IS": "issue", "SN": "issn", "LA": "language", "UR": "url"}


class _Invalid(Exception):
    """A record that cannot be read; the message says why."""


@dataclass
class _Block:
    """The tag lines of one record as read, with the line each started on."""

    start: int
    number: int
    has_ty: bool
    fields: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def read_ris(data: bytes, name: str, *, source: str, reached: Reached | None = None) -> ParsedFile:
    """Decode a RIS file's bytes (see ``formats.decode_text``) and parse it."""
    text, encoding = decode_text(data, name)
    return parse_ris(text, name, source=source, encoding=encoding, reached=reached)


def parse_ris(
    text: str,
    name: str,
    *,
    source: str,
    encoding: str | None = None,
    reached: Reached | None = None,
) -> ParsedFile:
    """Every record of a RIS text; broken records become rejects naming their line.
    ``reached`` is told, record by record, how far through the text the parser is."""
    records: list[Record] = []
    places: list[str] = []
    origins: list[str | None] = []
    rejects: list[Rejected] = []
    notes: list[str] = []
    lines = split_lines(text)
    for item in _blocks(lines):
        if reached is not None:
            reached((item[0] if isinstance(item, tuple) else item.start) / len(lines))
        if isinstance(item, tuple):
            rejects.append(Rejected(name, f"line {item[0]}", item[1]))
            continue
        try:
            record, repaired = _to_record(item, source)
        except _Invalid as exc:
            rejects.append(Rejected(name, f"line {item.start}", f"record {item.number} {exc}"))
            continue
        if repaired:
            notes.append(f"{name}, line {item.start}: record {item.number} {repaired}")
        records.append(record)
        places.append(f"line {item.start}")
        origins.append(_origin(item))
    if not records and not rejects:
        rejects.append(Rejected(name, "line 1", "no RIS records (no 'TY  - ' line); is this RIS?"))
    return ParsedFile(
        name,
        "ris",
        encoding,
        qualify_source_ids(records, origins),
        tuple(places),
        tuple(rejects),
        tuple(notes),
    )


def _origin(block: _Block) -> str | None:
    """The source a record of a casepool export came from (its ``N1  - casepool: ...`` note)."""
    for tag, value in block.fields:
        if tag == "N1" and (match := _ORIGIN.match(value)):
            return match.group(1)
    return None


def _blocks(lines: list[str]) -> Iterable[_Block | tuple[int, str]]:
    """Group lines into records; yield (line, reason) for text that belongs to none."""
    block: _Block | None = None
    count = 0
    for number, line in enumerate(lines, start=1):
        match = _TAG_LINE.match(line)
        if match is None and line.startswith("\ufeff"):
            match = _TAG_LINE.match(line.lstrip("\ufeff"))
        if match is None:
            if not line.strip():
                continue
            if block is not None and block.fields:
                tag, value = block.fields[-1]
                glue = " " if line[0].isspace() else "\n"
                block.fields[-1] = (tag, f"{value.rstrip()}{glue}{line.strip()}".strip())
                block.lines.append(line)
                continue
            yield number, f"{line.strip()[:40]!r} is not a RIS line ('XX  - value'); is this RIS?"
            continue
        tag, value = match.group(1), match.group(2) or ""
        if tag == "TY":
            if block is not None:
                yield _unclosed(block, f"has no ER line before the next TY (line {number})")
            count += 1
            block = _Block(number, count, True, [(tag, value)], [line])
        elif tag == "ER":
            if block is not None:
                block.lines.append(line)
                yield block if block.has_ty else _unclosed(block, "")
            block = None
        else:
            if block is None:
                count += 1
                block = _Block(number, count, False)
            block.fields.append((tag, value))
            block.lines.append(line)
    if block is not None:
        yield _unclosed(block, "has no ER line: the file ends inside it", "cut short")


def _unclosed(block: _Block, problem: str, damage: str = "cut or joined badly") -> tuple[int, str]:
    """The reject for a record without its TY line, or (``problem``) without its ER line."""
    if not block.has_ty:
        return (
            block.start,
            f"record {block.number} has no TY tag (it starts with {block.fields[0][0]}); "
            "every RIS record starts with 'TY  - ' and ends with 'ER  - '",
        )
    return block.start, f"record {block.number} {problem}; the file was {damage}"


def _to_record(block: _Block, source: str) -> tuple[Record, str | None]:
    """Map one block's tags to a ``Record``; also say what was repaired, if anything."""
    values: dict[str, object] = {}
    extra: list[tuple[str, str]] = []
    authors: list[str] = []
    keywords: list[str] = []
    types: list[str] = []
    mesh: list[str] = []
    accession: list[str] = []
    record_type = block.fields[0][1].strip()
    if not record_type:
        raise _Invalid("has an empty TY tag; give its reference type (JOUR, BOOK, ...)")
    database = " ".join(v for t, v in block.fields if t == "DB").lower()
    for tag, raw_value in block.fields[1:]:
        value = raw_value.strip()
        if tag in _AUTHOR_TAGS:
            authors.append(raw_value)
            continue
        if not value:
            continue
        if tag == "ID" and "source_id" not in values:
            values["source_id"] = value
        elif tag in _TITLE_TAGS and "title" not in values:
            values["title"] = value
        elif tag in _ABSTRACT_TAGS and "abstract" not in values:
            values["abstract"] = value
        elif tag in _JOURNAL_TAGS and "journal" not in values:
            values["journal"] = value
        elif tag in _ABBREVIATION_TAGS and "journal_iso" not in values:
            values["journal_iso"] = value
        elif tag in _DATE_TAGS and "year" not in values and (year := _year(value)):
            values["year"] = year
            if value != str(year):
                extra.append((tag, value))
        elif tag in ("SP", "EP") and tag not in values:
            values[tag] = value
        elif tag in _SINGLE and _SINGLE[tag] not in values:
            values[_SINGLE[tag]] = value
        elif tag == "DO" and "doi" not in values and normalise_doi(value):
            values["doi"] = normalise_doi(value)
        elif tag == "KW":
            keywords.append(value)
        elif tag == "M3":
            types.append(value)
        elif tag == "MH":
            mesh.append(value)
        elif tag == "N1" and value.startswith(_TYPE_NOTE):
            record_type = value[len(_TYPE_NOTE) :].strip() or record_type
        elif tag in ("N1", "C2") and (
            value.startswith(_BOOKKEEPING) or _identifier(tag, value, database, values)
        ):
            continue
        else:
            if tag == "AN":
                accession.append(value)
                _identifier(tag, value, database, values)
            extra.append((tag, value))
    if "source_id" not in values and accession:
        values["source_id"] = accession[0]
    names, repaired = _author_names(authors)
    start, end = values.pop("SP", None), values.pop("EP", None)
    pages = f"{start}-{end}" if start and end else (start or end)
    record = Record(
        source=source,
        record_type=record_type,
        authors=tuple(parse_name(n) for n in names),
        pages=pages,  # type: ignore[arg-type]
        keywords=tuple(keywords),
        publication_types=tuple(types),
        mesh=tuple(mesh),
        extra=tuple(extra),
        raw="\n".join(block.lines),
        **values,  # type: ignore[arg-type]
    )
    return record, repaired


def _year(value: str) -> int | None:
    match = _YEAR.search(value)
    return int(match.group()) if match else None


def _identifier(tag: str, value: str, database: str, values: dict[str, object]) -> bool:
    """Store a PMID or PMCID that ``tag`` carries into ``values``; False if it carries none."""
    if tag == "N1":
        match = _NOTE_ID.match(value)
        if match is None:
            return False
        kind, number = match.group(1).upper(), match.group(2)
        if kind == "PMID" and normalise_pmid(number) and "pmid" not in values:
            values["pmid"] = normalise_pmid(number)
            return True
        if kind == "PMCID" and normalise_pmcid(number) and "pmcid" not in values:
            values["pmcid"] = normalise_pmcid(number)
            return True
        return False
    if tag == "C2" and value.upper().startswith("PMC") and "pmcid" not in values:
        values["pmcid"] = normalise_pmcid(value)
        return values["pmcid"] is not None
    medline = "medline" in database or "pubmed" in database
    scopus = "scopus" in database
    if ((tag == "AN" and medline) or (tag == "C2" and scopus)) and "pmid" not in values:
        values["pmid"] = normalise_pmid(value)
        return values["pmid"] is not None
    return False


def _author_names(raw_values: list[str]) -> tuple[list[str], str | None]:
    """Author strings, with RefWorks's one-letter-per-line damage repaired."""
    joined = "".join(v or " " for v in raw_values).strip()
    letters = len(raw_values) >= 3 and all(len(v) <= 1 for v in raw_values)
    if letters and any(mark in joined for mark in ",;["):
        names = _join_letters(joined)
        if names is None:
            raise _Invalid(
                f"has {len(raw_values)} author lines of one character each "
                f"({joined[:30]!r}...), the damage a RefWorks round trip does, and they do not "
                "join back into names; export the record again from the database"
            )
        return names, (
            f"had its authors split into {len(raw_values)} one-letter lines (a RefWorks "
            f"round trip); joined back into {count(len(names), 'name')}"
        )
    names = []
    for value in raw_values:
        names.extend(part.strip() for part in value.split(";") if part.strip())
    return names, None


def _join_letters(joined: str) -> list[str] | None:
    if joined.startswith("[") and joined.endswith("]"):
        try:
            parsed = ast.literal_eval(joined)
        except (ValueError, SyntaxError):
            return None
        if isinstance(parsed, list) and all(isinstance(n, str) for n in parsed):
            return [" ".join(n.split()) for n in parsed if n.strip()]
        return None
    if ";" in joined:
        return [part.strip() for part in joined.split(";") if part.strip()]
    return None


def _line(tag: str, value: str) -> str:
    """``TAG  - value``; a value's line breaks become unindented continuation lines."""
    lines: list[str] = []
    for part in _BREAK.split(value):
        text = " ".join(part.split())
        if not text:
            continue
        if lines and _TAG_LINE.match(text.lstrip("\ufeff")):
            lines[-1] = f"{lines[-1]} {text}"
        else:
            lines.append(text)
    return f"{tag}  - " + "\n".join(lines)


def format_ris(record: Record, notes: Iterable[str] = ()) -> str:
    """One record as RIS text ending in ``ER  - ``; ``notes`` become extra ``N1`` lines.

    Line breaks inside values become continuation lines (blank lines are dropped). Extra pairs
    whose key is not a RIS tag (from CSV columns) are written as ``N1  - key: value``.
    """
    code = _type_code(record.record_type)
    out = [_line("TY", code)]
    if record.source_id:
        out.append(_line("ID", record.source_id))
    if record.title:
        out.append(_line("TI", record.title))
    out.extend(_line("AU", format_name(a)) for a in record.authors if _has_name(a))
    if record.year is not None:
        out.append(_line("PY", str(record.year)))
    for tag, value in (
        ("T2", record.journal),
        ("J2", record.journal_iso),
        ("VL", record.volume),
        ("IS", record.issue),
    ):
        if value:
            out.append(_line(tag, value))
    out.extend(_page_lines(record.pages))
    for tag, value in (
        ("SN", record.issn),
        ("DO", record.doi),
        ("LA", record.language),
        ("UR", record.url),
        ("AB", record.abstract),
    ):
        if value:
            out.append(_line(tag, value))
    out.extend(_line("KW", k) for k in record.keywords)
    out.extend(_line("M3", t) for t in record.publication_types)
    out.extend(_line("MH", m) for m in record.mesh)
    if record.pmid:
        out.append(_line("N1", f"PMID: {record.pmid}"))
    if record.pmcid:
        out.append(_line("N1", f"PMCID: {record.pmcid}"))
    for key, value in record.extra:
        if re.fullmatch(r"[A-Z][A-Z0-9]", key) and key not in ("TY", "ER"):
            out.append(_line(key, value))
        else:
            out.append(_line("N1", f"{key}: {value}"))
    if record.record_type and code != record.record_type:
        out.append(_line("N1", f"{_TYPE_NOTE} {record.record_type}"))
    out.extend(_line("N1", note) for note in notes)
    out.append("ER  - ")
    return "\n".join(out) + "\n"


def _type_code(record_type: str | None) -> str:
    """A RIS reference type for TY: the record's own if it is one, else the nearest code."""
    if not record_type:
        return "JOUR"
    if _RIS_TYPE.match(record_type):
        return record_type
    return _TYPE_CODES.get(re.sub(r"[\s_-]", "", record_type.lower()), "GEN")


def _has_name(author: Author) -> bool:
    return bool(format_name(author).strip())


def _page_lines(pages: str | None) -> list[str]:
    """``SP`` and ``EP`` with the last page in full (MEDLINE's ``244-55`` is 244 to 255)."""
    if not pages:
        return []
    start, end = split_pages(pages)
    return [_line("SP", start)] if end is None else [_line("SP", start), _line("EP", end)]
