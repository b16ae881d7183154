"""A labelled data set for a screening simulation, read from ASReview-style files (pure).

CSV/TSV: a title column (``title``, ``primary_title``, ...), an abstract column, keywords
and MeSH columns if any, and a 0/1 label column (``label_included`` unless named). RIS: the
label is the note ASReview writes (``N1  - ASReview_relevant`` or ``ASReview_irrelevant``;
``asreview/data/ris.py``). Records come in the file's order: their positions are the row
numbers ASReview gives them, so priors drawn by position match ``asreview simulate``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from review.errors import ParseError, SimulationError
from review.screening.ranking import record_text
from review.sources.formats import ParsedFile

RIS_LABELS = {"ASReview_relevant": True, "ASReview_irrelevant": False}
"""ASReview's RIS notes, in the order ASReview looks for them in a note."""


@dataclass(frozen=True)
class LabelledData:
    """Texts and their true labels (True relevant), in the file's order, and each
    record's place in the file ('row 2', 'line 17') for messages."""

    name: str
    texts: tuple[str, ...]
    labels: tuple[bool, ...]
    places: tuple[str, ...]

    @property
    def n_relevant(self) -> int:
        return sum(self.labels)


def read_labelled(data: bytes, name: str, *, label_column: str = "label_included") -> LabelledData:
    """Parse a labelled CSV, TSV or RIS file's bytes; a one-line ``SimulationError`` names
    the file, row (or line) and column of the first problem."""
    from review.sources.formats import detect_format

    if not data.strip():
        raise SimulationError(f"{name}: the file is empty; expected a header row and labelled rows")
    try:
        fmt = detect_format(name, data)
    except ParseError as exc:
        raise SimulationError(str(exc)) from None
    if fmt == "ris":
        parsed = _parsed_ris(data, name)
        labels = tuple(
            _ris_label(r.extra, name, place)
            for r, place in zip(parsed.records, parsed.places, strict=True)
        )
    elif fmt in ("csv", "tsv"):
        parsed = _parsed_table(data, name, "\t" if fmt == "tsv" else ",")
        labels = _column_labels(parsed, name, label_column, data)
    else:
        raise SimulationError(
            f"{name}: a simulation reads CSV, TSV or RIS with labels, not {fmt}; "
            "export the labelled records as CSV"
        )
    if not parsed.records:
        raise SimulationError(f"{name}: no records; expected labelled rows after the header")
    result = LabelledData(
        name=name,
        texts=tuple(record_text(r) for r in parsed.records),
        labels=labels,
        places=parsed.places,
    )
    if result.n_relevant == 0 or result.n_relevant == len(labels):
        kind = "relevant" if result.n_relevant == 0 else "irrelevant"
        raise SimulationError(
            f"{name}: no {kind} record among the {len(labels)}; "
            "a simulation needs both relevant and irrelevant records"
        )
    return result


def _parsed_ris(data: bytes, name: str) -> ParsedFile:
    from review.sources.ris import read_ris

    try:
        parsed = read_ris(data, name, source="simulation")
    except ParseError as exc:
        raise SimulationError(str(exc)) from None
    _refuse_rejects(parsed)
    return parsed


def _parsed_table(data: bytes, name: str, delimiter: str) -> ParsedFile:
    from review.sources.tabular import read_delimited

    try:
        parsed = read_delimited(data, name, source="simulation", delimiter=delimiter)
    except ParseError as exc:
        raise SimulationError(str(exc)) from None
    _refuse_rejects(parsed)
    return parsed


def _refuse_rejects(parsed: ParsedFile) -> None:
    if parsed.rejects:
        first = parsed.rejects[0]
        raise SimulationError(first.message)


def _ris_label(extra: tuple[tuple[str, str], ...], name: str, place: str) -> bool:
    for tag, value in extra:
        if tag == "N1":
            for note, label in RIS_LABELS.items():
                if note in value:
                    return label
    raise SimulationError(
        f"{name}, {place}: the record has no ASReview label; "
        "give it a note 'N1  - ASReview_relevant' or 'N1  - ASReview_irrelevant'"
    )


def _header(data: bytes, name: str, delimiter: str) -> list[str]:
    import csv

    from review.sources.formats import decode_text, split_lines

    text, _ = decode_text(data, name)
    first = split_lines(text)[0] if text else ""
    if delimiter == "," and first.count(";") > first.count(","):
        delimiter = ";"
    return next(csv.reader([first], delimiter=delimiter), [])


def _column_labels(parsed: ParsedFile, name: str, column: str, data: bytes) -> tuple[bool, ...]:
    header = _header(data, name, "\t" if parsed.format == "tsv" else ",")
    wanted = [h for h in header if h.strip().lower() == column.strip().lower()]
    if not wanted:
        shown = ", ".join(repr(h) for h in header[:12])
        raise SimulationError(
            f"{name}, row 1: no label column {column!r} (the header has {shown}); "
            "name it with --label-column"
        )
    key = wanted[0]
    labels: list[bool] = []
    for record, place in zip(parsed.records, parsed.places, strict=True):
        cell = next((v for h, v in record.extra if h == key), "")
        value = cell.strip()
        if value.endswith(".0"):
            value = value[:-2]
        if value not in ("0", "1"):
            shown = repr(cell) if cell else "empty"
            raise SimulationError(
                f"{name}, {place}, column {key!r}: the label is {shown}; it must be 0 or 1"
            )
        labels.append(value == "1")
    return tuple(labels)
