"""Import a record file into the review store: all or nothing, logged, idempotent.

The file is parsed completely before anything is written; then every record goes in with
its load row in ONE transaction, so a malformed record, an error or a killed process
leaves the store exactly as it was. ``skip_invalid`` imports the valid records and writes
the rejects with their reasons to a CSV file. Importing the same file (same sha256) into
the same source again changes nothing and says so.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from meta.progress import Progress
from review.clock import Clock
from review.errors import ImportFileError, OptionError, ParseError
from review.records import Record
from review.sources.formats import (
    FORMAT_NAMES,
    FORMATS,
    GZIP_MAGIC,
    ParsedFile,
    Reached,
    Rejected,
    bytes_progress,
    detect_format,
    gunzip,
)
from review.store import Store, Tx
from review.store.loads import PriorLoad, find_file_loads, stored_by_source_id
from review.store.records import finish_load, insert_records, mark_deleted, start_load
from review.wording import count

_BATCH = 1000
_PLACE_NUMBER = re.compile(r"\b(?:line|row|record) (\d+)")


@dataclass(frozen=True)
class ImportSummary:
    """What one import did, with the counts the load row keeps."""

    file: str
    source: str
    format: str
    encoding: str | None
    sha256: str
    n_read: int
    n_new: int
    n_present: int
    n_rejected: int
    n_withdrawn: int = 0
    repairs: tuple[str, ...] = ()
    rejects_path: Path | None = None
    load_id: int | None = None
    already_imported: bool = False
    sheet: str | None = None

    @property
    def where(self) -> str:
        """The file, and the sheet of a workbook: ``"records.xlsx, sheet 'Embase'"``."""
        return f"{self.file}, sheet {self.sheet!r}" if self.sheet is not None else self.file

    @property
    def message(self) -> str:
        """One line for the user."""
        if self.already_imported:
            return (
                f"{self.where} was already imported into source {self.source!r} (load "
                f"{self.load_id}); nothing changed"
            )
        kind = f"{self.format}, {self.encoding}" if self.encoding else self.format
        parts = [
            f"{self.where}: read {count(self.n_read, 'record')} ({kind}), "
            f"{self.n_new:,} new in source {self.source!r}"
        ]
        if self.n_present:
            parts.append(f"{self.n_present:,} already present")
        if self.n_withdrawn:
            parts.append(f"{self.n_withdrawn:,} withdrawn")
        if self.repairs:
            parts.append(f"{len(self.repairs):,} repaired")
        if self.n_rejected:
            parts.append(f"{self.n_rejected:,} rejected (reasons in {self.rejects_path})")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "file": self.file,
            "sheet": self.sheet,
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "sha256": self.sha256,
            "n_read": self.n_read,
            "n_new": self.n_new,
            "n_present": self.n_present,
            "n_rejected": self.n_rejected,
            "n_withdrawn": self.n_withdrawn,
            "repairs": list(self.repairs),
            "rejects_path": str(self.rejects_path) if self.rejects_path else None,
            "load_id": self.load_id,
            "already_imported": self.already_imported,
        }


def parse_bytes(
    data: bytes,
    name: str,
    *,
    source: str,
    fmt: str = "auto",
    sheet: str | int | None = None,
    reached: Reached | None = None,
) -> ParsedFile:
    """Parse a record file's bytes in ``fmt`` ('auto' detects it) into records and rejects;
    ``sheet`` chooses the worksheet of an XLSX workbook (by name or 1-based number), and
    ``reached`` is told how far through the file the parser is (0 to 1).

    A gzip-compressed file (``embase.ris.gz``) is read as its content; PubMed XML is streamed
    from the compressed bytes, other formats are decompressed first.
    """
    from review.sources import medline, ris, tabular, xlsx

    chosen = detect_format(name, data) if fmt == "auto" else fmt
    if chosen == "pubmed-xml":
        return _read_pubmed(data, name, source=source, reached=reached)
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, name)
    if chosen == "ris":
        return ris.read_ris(data, name, source=source, reached=reached)
    if chosen == "nbib":
        return medline.read_medline(data, name, source=source, reached=reached)
    if chosen in ("csv", "tsv"):
        delimiter = "\t" if chosen == "tsv" else ","
        return tabular.read_delimited(
            data, name, source=source, delimiter=delimiter, reached=reached
        )
    if chosen == "xlsx":
        return xlsx.read_xlsx(data, name, source=source, sheet=sheet, reached=reached)
    raise ImportFileError(f"{name}: unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")


def _read_pubmed(
    data: bytes, name: str, *, source: str, reached: Reached | None = None
) -> ParsedFile:
    import io

    from review.pubmed.pubmed_xml import iter_pubmed

    stored = io.BytesIO(data)  # its position: how much of the file (compressed or not) is read
    stream: BinaryIO = stored
    if data[:2] == GZIP_MAGIC:
        stream = cast(BinaryIO, gzip.GzipFile(fileobj=stored, mode="rb"))
    records: list[Record] = []
    withdrawn: list[str] = []
    size = max(len(data), 1)
    for item in iter_pubmed(stream, name=name):
        if isinstance(item, Record):
            records.append(replace(item, source=source))
        else:
            withdrawn.extend(item.pmids)
        if reached is not None:
            reached(stored.tell() / size)
    places = tuple(f"record {i}" for i in range(1, len(records) + 1))
    return ParsedFile(name, "pubmed-xml", None, tuple(records), places, withdrawn=tuple(withdrawn))


def import_file(
    store: Store,
    path: Path,
    *,
    source: str,
    clock: Clock,
    fmt: str = "auto",
    sheet: str | int | None = None,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import ``path`` into ``store`` as records of ``source``; see the module docstring.
    ``sheet`` chooses the worksheet of an XLSX workbook (by name, or number from 1).

    Raises ``ParseError`` naming the file and line or row of the first invalid record
    (unless ``skip_invalid``), ``ImportFileError`` when the file cannot be read, and
    ``OptionError`` for a ``sheet`` of a file that is not a workbook.
    """
    source = source.strip()
    if not source:
        raise ImportFileError("the source name is empty; name the database, e.g. --source embase")
    if fmt != "auto" and fmt not in FORMATS:
        raise ImportFileError(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
    data = _read(path)
    if not data.strip():
        raise ImportFileError(f"{path}: the file is empty; export the records again")
    sha256 = hashlib.sha256(data).hexdigest()  # of the file as stored, compressed or not
    size = len(data)
    chosen = detect_format(path.name, data) if fmt == "auto" else fmt
    if chosen != "pubmed-xml" and data[:2] == GZIP_MAGIC:
        data = gunzip(data, path.name)
    chosen_sheet = _chosen_sheet(data, path.name, chosen, sheet)
    with store.read() as tx:
        prior = _prior_load(tx, source, sha256, chosen_sheet)
    if prior is not None:
        return _no_op(path, source, sha256, prior, chosen_sheet)
    reached = None
    if progress:
        reached = bytes_progress(progress, f"reading {path.name}", size)
        reached(0.0)
    parsed = parse_bytes(
        data,
        path.name,
        source=source,
        fmt=chosen,
        sheet=chosen_sheet[1] if chosen_sheet else None,
        reached=reached,
    )
    if reached:
        reached(1.0)
    fresh, present, rejects = _sort_records(store, parsed, source)
    if rejects and not skip_invalid:
        raise ParseError(_refusal(rejects))
    if rejects:
        rejects_path = rejects_path or path.with_name(f"{path.stem}.rejects.csv")
    return _write(
        store,
        path,
        parsed,
        source,
        sha256,
        fresh,
        present,
        rejects,
        rejects_path if rejects else None,
        progress,
        clock,
        chosen_sheet,
    )


def _chosen_sheet(
    data: bytes, name: str, fmt: str, sheet: str | int | None
) -> tuple[int, str] | None:
    """(position, title) of the worksheet an XLSX import reads; None for other formats."""
    if fmt == "xlsx":
        from review.sources.xlsx import sheet_of

        return sheet_of(data, name, sheet)
    if sheet is not None:
        raise OptionError(
            f"{name} is {FORMAT_NAMES.get(fmt, fmt)}, not an XLSX workbook, so it has no "
            "sheets; drop --sheet",
            "--sheet",
        )
    return None


def _prior_load(
    tx: Tx, source: str, sha256: str, sheet: tuple[int, str] | None
) -> PriorLoad | None:
    """The earlier complete import of this file (and, for a workbook, this sheet) into
    ``source``; an import from before sheets were recorded read the first sheet."""
    for load in find_file_loads(tx, source=source, sha256=sha256):
        recorded = load.details.get("sheet")
        if sheet is None or recorded == sheet[1] or (recorded is None and sheet[0] == 0):
            return load
    return None


def _read(path: Path) -> bytes:
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder; give the path of a record file inside it")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file; check the path and the file name") from None
    except OSError as exc:
        raise ImportFileError(
            f"{path}: cannot read the file: {exc.strerror or exc}; check its permissions"
        ) from None


def _no_op(
    path: Path, source: str, sha256: str, prior: PriorLoad, sheet: tuple[int, str] | None
) -> ImportSummary:
    """The summary of a file imported before: that import's counts, from its load row."""
    details = prior.details
    rejects = details.get("rejects_file")
    return ImportSummary(
        file=path.name,
        source=source,
        format=str(details.get("format", "?")),
        encoding=details.get("encoding"),
        sha256=sha256,
        n_read=prior.n_read,
        n_new=prior.n_new,
        n_present=int(details.get("n_present", 0)),
        n_rejected=int(details.get("n_rejected", 0)),
        n_withdrawn=int(details.get("n_withdrawn", 0)),
        repairs=tuple(details.get("repairs", ())),
        rejects_path=Path(rejects) if rejects else None,
        load_id=prior.id,
        already_imported=True,
        sheet=sheet[1] if sheet else None,
    )


def _refusal(rejects: Sequence[Rejected]) -> str:
    more = f" (and {count(len(rejects) - 1, 'more invalid record')})" if len(rejects) > 1 else ""
    return (
        f"{rejects[0].message}{more}; nothing was imported: fix the file, or use "
        "--skip-invalid to import the valid records and list the rejects in a file"
    )


def _sort_records(
    store: Store, parsed: ParsedFile, source: str
) -> tuple[list[Record], int, list[Rejected]]:
    """Split parsed records into new ones, the count of those already stored (or repeated
    identically earlier in the file), and rejects.

    A record whose id repeats an earlier one of the file with different content, or names a
    different record that the source already holds, is rejected: inserting it would drop it.
    """
    rejects = list(parsed.rejects)
    first_at: dict[str, int] = {}
    unique: list[tuple[int, Record]] = []
    present = 0
    for i, record in enumerate(parsed.records):
        sid = record.source_id
        if sid is not None and sid in first_at:
            earlier = parsed.records[first_at[sid]]
            if earlier != record:
                rejects.append(
                    Rejected(
                        parsed.name,
                        parsed.places[i],
                        (
                            f"the record repeats ID {sid!r} of the record at "
                            f"{parsed.places[first_at[sid]]} with different content; "
                            "ids must be unique within a source"
                        ),
                    )
                )
            else:
                present += 1
            continue
        if sid is not None:
            first_at[sid] = i
        unique.append((i, record))
    with store.read() as tx:
        stored = stored_by_source_id(tx, source, first_at)
    fresh: list[Record] = []
    for i, record in unique:
        hit = stored.get(record.source_id or "")
        if hit is None or record.source_id is None:
            fresh.append(record)
        elif _same_record(hit[1], hit[2], record):
            present += 1
        else:
            rejects.append(
                Rejected(
                    parsed.name,
                    parsed.places[i],
                    (
                        f"the record has ID {record.source_id!r}, which source {source!r} already "
                        f"holds for a different record (#{hit[0]}, {(hit[1] or '')[:50]!r}); "
                        "import this file under another --source name"
                    ),
                )
            )
    rejects.sort(key=_place_order)
    return fresh, present, rejects


def _same_record(title: str | None, doi: str | None, record: Record) -> bool:
    """True when a stored record (title, DOI) with the same source id is this record: the
    same title but for case and white space (PubMed's XML and MEDLINE text wrap and style
    titles differently), and no conflicting DOI (one export may leave it out)."""

    def squash(text: str | None) -> str:
        return " ".join((text or "").split()).casefold()

    return squash(title) == squash(record.title) and (
        doi is None or record.doi is None or doi == record.doi
    )


def _place_order(reject: Rejected) -> int:
    """The line, row or record number of a reject's place (``"sheet 'S2', row 12"`` -> 12)."""
    found = _PLACE_NUMBER.search(reject.place)
    return int(found.group(1)) if found else 0


def _write(
    store: Store,
    path: Path,
    parsed: ParsedFile,
    source: str,
    sha256: str,
    fresh: list[Record],
    present: int,
    rejects: list[Rejected],
    rejects_path: Path | None,
    progress: Progress | None,
    clock: Clock,
    sheet: tuple[int, str] | None,
) -> ImportSummary:
    details: dict[str, Any] = {
        "format": parsed.format,
        "encoding": parsed.encoding,
        **({"sheet": sheet[1]} if sheet else {}),
        "n_present": present,
        "n_rejected": len(rejects),
        "repairs": list(parsed.notes),
        "rejects_file": str(rejects_path) if rejects_path else None,
    }
    with store.transaction() as tx:
        prior = _prior_load(tx, source, sha256, sheet)
        if prior is not None:
            return _no_op(path, source, sha256, prior, sheet)
        started = clock()
        load_id = start_load(
            tx,
            kind="file",
            source=source,
            at=started,
            file_name=path.name,
            sha256=sha256,
            details=details,
        )
        n_new = 0
        for start in range(0, len(fresh), _BATCH):
            n_new += insert_records(tx, load_id, fresh[start : start + _BATCH])
            if progress:
                progress("writing", min(start + _BATCH, len(fresh)), len(fresh))
        n_withdrawn = (
            mark_deleted(tx, source, parsed.withdrawn, at=started) if parsed.withdrawn else 0
        )
        details["n_withdrawn"] = n_withdrawn
        finish_load(tx, load_id, at=clock(), n_read=parsed.n_read, n_new=n_new, details=details)
        if rejects_path is not None:
            _write_rejects(rejects_path, rejects)
    return ImportSummary(
        file=path.name,
        source=source,
        format=parsed.format,
        encoding=parsed.encoding,
        sha256=sha256,
        n_read=parsed.n_read,
        n_new=n_new,
        n_present=present,
        n_rejected=len(rejects),
        n_withdrawn=n_withdrawn,
        repairs=parsed.notes,
        rejects_path=rejects_path,
        load_id=load_id,
        sheet=sheet[1] if sheet else None,
    )


def _write_rejects(path: Path, rejects: Sequence[Rejected]) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "place", "reason"])
            writer.writerows([r.file, r.place, r.reason] for r in rejects)
    except OSError as exc:
        raise ImportFileError(
            f"{path}: cannot write the rejects file: {exc.strerror or exc}; nothing was imported"
        ) from None
