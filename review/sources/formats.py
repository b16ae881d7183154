"""Record-file formats: which one a file is, how its bytes decode, what a parser returns.

Pure: bytes in, text or a format name out. A gzip-compressed file is the format of its
content; a file that holds binary data where text should be is refused as not a text file
(rather than decoded into nonsense and rejected line by line). Every parser (``ris``,
``medline``, ``tabular``) returns a ``ParsedFile``: the records it could read, each with its
place in the file, and the rejects with their reasons, so that an import can be all or
nothing, or skip the invalid.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from meta.progress import Progress
from review.errors import NotTextError, ParseError
from review.records import Record

Format = Literal["ris", "nbib", "csv", "tsv", "xlsx", "pubmed-xml"]
FORMATS: tuple[str, ...] = get_args(Format)
FORMAT_NAMES: dict[str, str] = {
    "ris": "RIS",
    "nbib": "MEDLINE (nbib)",
    "csv": "CSV",
    "tsv": "TSV",
    "xlsx": "XLSX",
    "pubmed-xml": "PubMed XML",
}
"""Each format as a person names it in a message."""

_EXTENSIONS: dict[str, Format] = {
    ".ris": "ris",
    ".nbib": "nbib",
    ".medline": "nbib",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xml": "pubmed-xml",
}
Reached = Callable[[float], None]
"""Told how far through its file a parser has read, from 0 to 1 (for progress)."""

GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_SAMPLE = 8192
# Control characters that text exports do hold (tab, line ends, form feed, DOS's end of file)
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1a\x1b")
_CONTROL_CHARS = re.compile("[" + re.escape(_CONTROL.decode("ascii")) + "\ufffd]")

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

    ``withdrawn`` holds the PMIDs a PubMed update file deletes (``DeleteCitation``);
    ``sheet`` names the worksheet of an XLSX workbook that was read.
    """

    name: str
    format: str
    encoding: str | None
    records: tuple[Record, ...]
    places: tuple[str, ...]
    rejects: tuple[Rejected, ...] = ()
    notes: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()
    sheet: str | None = None

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

    UTF-8 and UTF-16 with a byte-order mark, UTF-16 without one (recognised by NUL bytes in
    every other byte), UTF-8, then Windows-1252 (the usual "Latin-1" of Windows exports), then
    ISO-8859-1, which decodes any byte. Data that is not text at all (NUL and other control
    bytes, as in a program, an image or a database) is refused as such.
    """
    if data.startswith(codecs.BOM_UTF8):
        refuse_binary(data[len(codecs.BOM_UTF8) :], name)
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", "UTF-8 with BOM", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _refuse_binary_utf16(data, "utf-16", name)
        return _decode(data, "utf-16", "UTF-16", name)
    codec = _utf16_without_bom(data[:_SAMPLE])
    if codec is not None:
        _refuse_binary_utf16(data, codec, name)
        return _decode(data, codec, codec.upper(), name)
    refuse_binary(data, name)
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "ISO-8859-1"


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when NUL bytes fill one half of the byte pairs and not the
    other (Latin-script text in UTF-16); None otherwise (a binary file has them in both)."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    high, low = max(even, odd), min(even, odd)
    if high < len(sample) // 4 or low * 10 > high:
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


def not_text_message(name: str, data: bytes) -> str:
    """The refusal of a file that holds binary data, not text."""
    if data.startswith(_ZIP_MAGIC):
        return (
            f"{name}: not a text file (it is a ZIP archive, as an XLSX workbook is); "
            "import a workbook with --format xlsx, or export the records again as RIS, nbib or CSV"
        )
    return (
        f"{name}: not a text file (it holds binary data); export the records again as RIS, "
        "nbib, CSV or XLSX"
    )


def refuse_binary(data: bytes, name: str) -> None:
    """Raise ``ParseError`` when the start of ``data`` holds NUL or other control bytes in
    more than one byte in a hundred, which no text export does."""
    sample = data[:_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls * 100 > len(sample):
        raise NotTextError(not_text_message(name, data))


def _refuse_binary_utf16(data: bytes, codec: str, name: str) -> None:
    sample = data[:_SAMPLE].decode(codec, errors="replace")
    if len(_CONTROL_CHARS.findall(sample)) * 100 > len(sample):
        raise NotTextError(not_text_message(name, data))


def _decode(data: bytes, codec: str, label: str, name: str) -> tuple[str, str]:
    try:
        return data.decode(codec), label
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"{name}: byte {exc.start} is not valid {label}; save the file again as UTF-8"
        ) from None


def gunzip(data: bytes, name: str) -> bytes:
    """The content of a gzip-compressed file (as PubMed, Ovid and mail tools compress them)."""
    import gzip

    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(
            f"{name}: the gzip file is damaged or cut short ({exc}); download or compress it again"
        ) from None


def _gunzip_head(data: bytes, name: str) -> bytes:
    """The first bytes of a gzip file's content, for telling its format."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[: 1 << 20], _SAMPLE)
    except zlib.error as exc:
        raise ParseError(
            f"{name}: the gzip file is damaged ({exc}); download or compress it again"
        ) from None


def inner_name(name: str) -> str:
    """The name of a gzip file's content: ``embase.ris.gz`` -> ``embase.ris``."""
    return name[:-3] if name.lower().endswith(".gz") else name


def split_lines(text: str) -> list[str]:
    """Lines split on LF, CRLF or CR only (never on other Unicode line separators)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def detect_format(name: str, data: bytes) -> Format:
    """The format of a file, from its content when that is unambiguous, else its extension;
    a gzip file is the format of its content (named by the name without ``.gz``)."""
    head = data[:_SAMPLE]
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(GZIP_MAGIC):
        return detect_format(inner_name(name), _gunzip_head(data, name))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError(
            f"{name}: an old Excel .xls workbook, which casepool does not read; "
            "save it as .xlsx or CSV (UTF-8) and import that"
        )
    try:
        text, _ = decode_text(head, name)
    except NotTextError:
        raise
    except ParseError:  # a multi-byte character cut at the end of the sample
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


def bytes_progress(progress: Progress, phase: str, size: int) -> Reached:
    """A ``Reached`` for a parser that reports to ``progress`` the bytes of a ``size``-byte
    file read, in unit 'bytes': at most about 200 times, ever forward, and the whole file
    only once the parser is done (``reached(1.0)``)."""
    last = [-1]

    def reached(fraction: float) -> None:
        step = min(int(fraction * 200), 200)
        if step > last[0]:
            last[0] = step
            done = size if step == 200 else min(int(fraction * size), size - 1)
            progress(phase, done, size, "bytes")

    return reached
