"""Record-file formats: which one a file is, how its bytes decode, what a parser returns.

Pure: bytes in, text or a format name out. Every parser (``ris``, ``medline``, ``tabular``)
returns a ``ParsedFile``: the records it could read, each with its place in the file, and the
rejects with their reasons, so that an import can be all or nothing, or skip the invalid.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from review.errors import ParseError
from review.records import Record

Format = Literal["ris", "nbib", "csv", "tsv", "xlsx", "pubmed-xml"]
FORMATS: tuple[str, ...] = get_args(Format)

_EXTENSIONS: dict[str, Format] = {
    ".ris": "ris",
    ".nbib": "nbib",
    ".medline": "nbib",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xml": "pubmed-xml",
    ".gz": "pubmed-xml",
}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_RIS_LINE = re.compile(r"^[A-Z][A-Z0-9]  ?-( |$)")
_NBIB_LINE = re.compile(r"^[A-Z][A-Z0-9]{1,3} {0,3}- ")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read: where it is (``'line 57'``, ``'row 812'``) and why."""

    file: str
    place: str
    reason: str

    @property
    def message(self) -> str:
        """``'embase.ris, line 57: record 3 has no TY tag ...'``."""
        return f"{self.file}, {self.place}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What a parser read: records with their places (parallel tuples), rejects, repairs made.

    ``withdrawn`` holds the PMIDs a PubMed update file deletes (``DeleteCitation``).
    """

    name: str
    format: str
    encoding: str | None
    records: tuple[Record, ...]
    places: tuple[str, ...]
    rejects: tuple[Rejected, ...] = ()
    notes: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()

    @property
    def n_read(self) -> int:
        """Records read, valid or not."""
        return len(self.records) + len(self.rejects)


def qualify_source_ids(
    records: Sequence[Record], origins: Sequence[str | None]
) -> tuple[Record, ...]:
    """Records read back from a casepool export, each with the source it was exported from
    (``origins``, None when unknown). A ``source_id`` that records of different sources
    share (two tools' record 1) becomes ``'<source>:<source_id>'`` on each of them, as the
    whole file goes in under one ``--source`` and ids must be unique there; other ids stay."""
    seen: dict[str, set[str]] = {}
    for record, origin in zip(records, origins, strict=True):
        if record.source_id and origin:
            seen.setdefault(record.source_id, set()).add(origin)
    shared = {sid for sid, sources in seen.items() if len(sources) > 1}
    return tuple(
        replace(r, source_id=f"{o}:{r.source_id}") if o and r.source_id in shared else r
        for r, o in zip(records, origins, strict=True)
    )


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode ``data`` and return (text, encoding name).

    UTF-8 and UTF-16 with a byte-order mark, UTF-16 without one (recognised by its NUL
    bytes), UTF-8, then Windows-1252 (the usual "Latin-1" of Windows exports), then
    ISO-8859-1, which decodes any byte.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8 with BOM", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", "UTF-16", name)
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(0) >= len(sample) // 4:
        codec = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        return _decode(data, codec, codec.upper(), name)
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "ISO-8859-1"


def _decode(data: bytes, codec: str, label: str, name: str) -> tuple[str, str]:
    try:
        return data.decode(codec), label
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"{name}: byte {exc.start} is not valid {label}; save the file again as UTF-8"
        ) from None


def split_lines(text: str) -> list[str]:
    """Lines split on LF, CRLF or CR only (never on other Unicode line separators)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def detect_format(name: str, data: bytes) -> Format:
    """The format of a file, from its content when that is unambiguous, else its extension."""
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\x1f\x8b"):
        return "pubmed-xml"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError(
            f"{name}: an old Excel .xls workbook, which casepool does not read; "
            "save it as .xlsx or CSV (UTF-8) and import that"
        )
    try:
        text, _ = decode_text(head, name)
    except ParseError:
        text = head.decode("latin-1")
    first = next((line for line in split_lines(text) if line.strip()), "").lstrip("\ufeff")
    if first.startswith("<"):
        return "pubmed-xml"
    if _RIS_LINE.match(first):
        return "ris"
    if first.startswith("PMID-") or (_NBIB_LINE.match(first) and not _RIS_LINE.match(first)):
        return "nbib"
    by_name = format_from_extension(name)
    if by_name is not None:
        return by_name
    if "\t" in first:
        return "tsv"
    if "," in first or ";" in first:
        return "csv"
    raise ParseError(
        f"{name}: cannot tell the format from the name or the content; "
        f"give it with --format ({'|'.join(FORMATS)})"
    )


def format_from_extension(name: str) -> Format | None:
    """The format a file name's extension implies, if any."""
    suffix = name.lower()[name.rfind(".") :] if "." in name else ""
    return _EXTENSIONS.get(suffix)
