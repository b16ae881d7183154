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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from meta.progress import Progress
from review.clock import Clock
from review.errors import ImportFileError, ParseError
from review.records import Record
from review.sources.formats import (
    FORMATS,
    GZIP_MAGIC,
    ParsedFile,
    Rejected,
    detect_format,
    gunzip,
)
from review.store import Store
from review.store.loads import find_file_load, stored_by_source_id
from review.store.records import finish_load, insert_records, mark_deleted, start_load

_BATCH = 1000


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

    @property
    def message(self) -> str:
        """One line for the user."""
        if self.already_imported:
            return (
                f"{self.file} was already imported into source {self.source!r} (load "
                f"{self.load_id}); nothing changed"
            )
        kind = f"{self.format}, {self.encoding}" if self.encoding else self.format
        parts = [
            f"{self.file}: read {_count(self.n_read, 'record')} ({kind}), "
            f"{self.n_new} new in source {self.source!r}"
        ]
        if self.n_present:
            parts.append(f"{self.n_present} already present")
        if self.n_withdrawn:
            parts.append(f"{self.n_withdrawn} withdrawn")
        if self.repairs:
            parts.append(f"{len(self.repairs)} repaired")
        if self.n_rejected:
            parts.append(f"{self.n_rejected} rejected (reasons in {self.rejects_path})")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "file": self.file,
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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def parse_bytes(data: bytes, name: str, *, source: str, fmt: str = "auto") -> ParsedFile:
    """Parse a record file's bytes in ``fmt`` ('auto' detects it) into records and rejects.

    A gzip-compressed file (``embase.ris.gz``) is read as its content; PubMed XML is streamed
    from the compressed bytes, other formats are decompressed first.
    """
    from review.sources import medline, ris, tabular

    chosen = detect_format(name, data) if fmt == "auto" else fmt
    if chosen == "pubmed-xml":
        return _read_pubmed(data, name, source=source)
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, name)
    if chosen == "ris":
        return ris.read_ris(data, name, source=source)
    if chosen == "nbib":
        return medline.read_medline(data, name, source=source)
    if chosen == "csv":
        return tabular.read_delimited(data, name, source=source)
    if chosen == "tsv":
        return tabular.read_delimited(data, name, source=source, delimiter="\t")
    if chosen == "xlsx":
        return tabular.read_xlsx(data, name, source=source)
    raise ImportFileError(f"{name}: unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")


def _read_pubmed(data: bytes, name: str, *, source: str) -> ParsedFile:
    import io

    from review.pubmed.pubmed_xml import iter_pubmed

    stream: BinaryIO = io.BytesIO(data)
    if data[:2] == GZIP_MAGIC:
        stream = cast(BinaryIO, gzip.GzipFile(fileobj=stream, mode="rb"))
    records: list[Record] = []
    withdrawn: list[str] = []
    for item in iter_pubmed(stream, name=name):
        if isinstance(item, Record):
            records.append(replace(item, source=source))
        else:
            withdrawn.extend(item.pmids)
    places = tuple(f"record {i}" for i in range(1, len(records) + 1))
    return ParsedFile(name, "pubmed-xml", None, tuple(records), places, withdrawn=tuple(withdrawn))


def import_file(
    store: Store,
    path: Path,
    *,
    source: str,
    clock: Clock,
    fmt: str = "auto",
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import ``path`` into ``store`` as records of ``source``; see the module docstring.

    Raises ``ParseError`` naming the file and line or row of the first invalid record
    (unless ``skip_invalid``), and ``ImportFileError`` when the file cannot be read.
    """
    source = source.strip()
    if not source:
        raise ImportFileError("the source name is empty; name the database, e.g. --source embase")
    if fmt != "auto" and fmt not in FORMATS:
        raise ImportFileError(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
    data = _read(path)
    if not data.strip():
        raise ImportFileError(f"{path}: the file is empty; export the records again")
    sha256 = hashlib.sha256(data).hexdigest()
    with store.read() as tx:
        prior = find_file_load(tx, source=source, sha256=sha256)
    if prior is not None:
        return _no_op(path, source, sha256, prior.id, prior.details)
    if progress:
        progress(f"reading {path.name}", 0, None)
    parsed = parse_bytes(data, path.name, source=source, fmt=fmt)
    if progress:
        progress(f"reading {path.name}", parsed.n_read, parsed.n_read)
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
    )


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
    path: Path, source: str, sha256: str, load_id: int, details: dict[str, Any]
) -> ImportSummary:
    return ImportSummary(
        file=path.name,
        source=source,
        format=str(details.get("format", "?")),
        encoding=details.get("encoding"),
        sha256=sha256,
        n_read=0,
        n_new=0,
        n_present=0,
        n_rejected=0,
        load_id=load_id,
        already_imported=True,
    )


def _refusal(rejects: Sequence[Rejected]) -> str:
    more = f" (and {len(rejects) - 1} more invalid records)" if len(rejects) > 1 else ""
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
    digits = "".join(c if c.isdigit() else " " for c in reject.place).split()
    return int(digits[0]) if digits else 0


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
) -> ImportSummary:
    details: dict[str, Any] = {
        "format": parsed.format,
        "encoding": parsed.encoding,
        "n_present": present,
        "n_rejected": len(rejects),
        "repairs": list(parsed.notes),
        "rejects_file": str(rejects_path) if rejects_path else None,
    }
    with store.transaction() as tx:
        prior = find_file_load(tx, source=source, sha256=sha256)
        if prior is not None:
            return _no_op(path, source, sha256, prior.id, prior.details)
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
