"""MEDLINE (PubMed ``.nbib``, Ovid MEDLINE display format) files read into records.

Pure: text in, ``ParsedFile`` out. The tags are NLM's MEDLINE/PubMed display format (the
mnemonics ``Bio.Medline.Record`` documents). The line reader is our own rather than
``Bio.Medline.parse``: that reader files every tag in its own list, which loses the order
of ``FAU``, ``AU``, ``CN`` and ``AD`` lines that ties each affiliation to its author, and it
cannot say on which line a broken record starts. The PMID is the ``source_id``. Tags with
no field of their own are kept in ``Record.extra`` as ``('medline:TAG', value)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from review.records import Author, Record, normalise_doi, normalise_pmcid, normalise_pmid
from review.sources.formats import ParsedFile, Reached, Rejected, decode_text, split_lines
from review.sources.names import initials_of, parse_name

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,3}- ?(.*)$")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2\d\d\d)(?!\d)")
_ID_KIND = re.compile(r"^(.*?)\s*\[(\w+)\]$")
_EXTRA_PREFIX = "medline:"
_TEXT = {"TI": "title", "AB": "abstract", "JT": "journal", "TA": "journal_iso", "VI": "volume"}
_TEXT |= {"IP": "issue", "PG": "pages", "IS": "issn", "LA": "language"}


class _Invalid(Exception):
    """A record that cannot be read; the message says why."""


@dataclass
class _Block:
    start: int
    number: int
    fields: list[tuple[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    problem: str | None = None


def read_medline(
    data: bytes, name: str, *, source: str, reached: Reached | None = None
) -> ParsedFile:
    """Decode a MEDLINE/nbib file's bytes (see ``formats.decode_text``) and parse it."""
    text, encoding = decode_text(data, name)
    return parse_medline(text, name, source=source, encoding=encoding, reached=reached)


def parse_medline(
    text: str,
    name: str,
    *,
    source: str,
    encoding: str | None = None,
    reached: Reached | None = None,
) -> ParsedFile:
    """Every record of a MEDLINE text (records separated by blank lines). ``reached`` is
    told, record by record, how far through the text the parser is."""
    records: list[Record] = []
    places: list[str] = []
    rejects: list[Rejected] = []
    lines = split_lines(text)
    for block in _blocks(lines):
        if reached is not None:
            reached(block.start / len(lines))
        place = f"line {block.start}"
        try:
            if block.problem:
                raise _Invalid(block.problem)
            records.append(_to_record(block, source))
            places.append(place)
        except _Invalid as exc:
            rejects.append(Rejected(name, place, f"record {block.number} {exc}"))
    if not records and not rejects:
        rejects.append(Rejected(name, "line 1", "no MEDLINE records ('PMID- ' lines); is it nbib?"))
    return ParsedFile(name, "nbib", encoding, tuple(records), tuple(places), tuple(rejects))


def _blocks(lines: list[str]) -> Iterator[_Block]:
    """The records' blocks of lines, each yielded when the blank line after it is read."""
    count = 0
    block: _Block | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if block is not None:
                yield block
            block = None
            continue
        if block is None:
            count += 1
            block = _Block(number, count)
        block.lines.append(line)
        if line.startswith("      ") and block.fields:
            tag, value = block.fields[-1]
            block.fields[-1] = (tag, f"{value} {line.strip()}")
            continue
        match = _TAG_LINE.match(line.lstrip("\ufeff"))
        if match is None:
            block.problem = block.problem or (
                f"has a line that is neither 'TAG - value' nor a continuation indented by six "
                f"spaces (line {number}: {line.strip()[:40]!r})"
            )
            continue
        block.fields.append((match.group(1), match.group(2).strip()))
    if block is not None:
        yield block


def _to_record(block: _Block, source: str) -> Record:
    values: dict[str, object] = {}
    extra: list[tuple[str, str]] = []
    authors: list[Author] = []
    lists: dict[str, list[str]] = {"PT": [], "MH": [], "OT": []}
    for tag, value in block.fields:
        if not value:
            continue
        if tag == "PMID":
            pmid = normalise_pmid(value)
            if pmid is None:
                raise _Invalid(f"has PMID {value!r}, which is not a PMID (digits)")
            values.setdefault("pmid", pmid)
            values.setdefault("source_id", pmid)
        elif tag in ("FAU", "AU", "CN", "AD"):
            if not _author_line(authors, tag, value):
                extra.append((_EXTRA_PREFIX + tag, value))
        elif tag in _TEXT and _TEXT[tag] not in values:
            values[_TEXT[tag]] = value
        elif tag == "DP" and "year" not in values and (year := _year(value)):
            values["year"] = year
            if value != str(year):
                extra.append((_EXTRA_PREFIX + tag, value))
        elif tag in lists:
            lists[tag].append(value)
        elif not _identifier(tag, value, values):
            extra.append((_EXTRA_PREFIX + tag, value))
    if "pmid" not in values and "title" not in values:
        raise _Invalid(
            f"has neither a PMID nor a title (it starts with {block.fields[0][0]!r}); "
            "is this a MEDLINE/nbib file?"
        )
    return Record(
        source=source,
        authors=tuple(authors),
        publication_types=tuple(lists["PT"]),
        mesh=tuple(lists["MH"]),
        keywords=tuple(lists["OT"]),
        record_type="JOUR",
        extra=tuple(extra),
        raw="\n".join(block.lines),
        **values,  # type: ignore[arg-type]
    )


def _author_line(authors: list[Author], tag: str, value: str) -> bool:
    """Add an FAU/AU/CN line to ``authors`` or an AD line to the last author; False if none."""
    if tag == "FAU":
        last, _, fore = value.partition(",")
        fore = fore.strip()
        authors.append(
            Author(last_name=last.strip(), fore_name=fore or None, initials=_initials(fore))
        )
    elif tag == "AU":
        parsed = parse_name(value)
        previous = authors[-1] if authors else None
        if previous is not None and previous.last_name and previous.last_name == parsed.last_name:
            if parsed.initials and previous.initials != parsed.initials:
                authors[-1] = replace(previous, initials=parsed.initials)
        else:
            authors.append(parsed)
    elif tag == "CN":
        authors.append(Author(collective_name=value))
    elif authors:
        authors[-1] = replace(authors[-1], affiliations=(*authors[-1].affiliations, value))
    else:
        return False
    return True


def _year(value: str) -> int | None:
    match = _YEAR.search(value)
    return int(match.group()) if match else None


def _initials(fore: str) -> str | None:
    return initials_of(fore) or None if fore else None


def _identifier(tag: str, value: str, values: dict[str, object]) -> bool:
    """Store a DOI (``LID``/``AID ... [doi]``) or PMCID (``PMC``) in ``values``."""
    if tag == "PMC" and "pmcid" not in values and normalise_pmcid(value):
        values["pmcid"] = normalise_pmcid(value)
        return True
    if tag in ("LID", "AID"):
        match = _ID_KIND.match(value)
        if match and match.group(2) == "doi" and normalise_doi(match.group(1)):
            doi = normalise_doi(match.group(1))
            if "doi" not in values:
                values["doi"] = doi
                return True
            return values["doi"] == doi
    return False
