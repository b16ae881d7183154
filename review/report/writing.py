"""Writing the report's files: report.html, report.md, report.docx, results.json, the CSV
tables and the pictures (SVG), each written whole (a temporary file renamed into place)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from review.replacing import write_whole
from review.report.html import render_html, summary_table
from review.report.markdown import render_markdown
from review.report.model import Report, TableData, build_report

if TYPE_CHECKING:
    from meta.progress import Progress
    from review.api import Review
    from review.report.changes import RunDelta


def write_report(
    review: Review,
    out_dir: Path | str,
    *,
    run_log: Sequence[str] = (),
    run_date: str | None = None,
    inputs: Sequence[Path | str] = (),
    delta: RunDelta | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Build the report of ``review`` and write every file of it to ``out_dir`` (made if
    missing); the paths written, sorted. ``run_date`` defaults to the review's clock;
    ``inputs`` are the run's input files, named with their sha256 in the provenance;
    ``delta`` is what the run added (the section "New since the last run")."""
    hashed = [(Path(p).name, sha256_of(Path(p))) for p in inputs]
    report = build_report(review, run_log, run_date=run_date, inputs=hashed, delta=delta)
    return write_files(report, Path(out_dir), progress=progress)


def sha256_of(path: Path) -> str:
    """The file's SHA-256 (hex)."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_files(report: Report, out: Path, *, progress: Progress | None = None) -> list[Path]:
    """Write ``report``'s files to ``out``; ``progress`` hears of each figure drawn."""
    from review.report.docx import render_docx
    from review.report.figures import draw_figures

    out.mkdir(parents=True, exist_ok=True)
    figures = draw_figures(report, progress)
    files: dict[str, bytes] = {
        "report.html": render_html(report, figures).encode("utf-8"),
        "report.md": render_markdown(report, figures).encode("utf-8"),
        "report.docx": render_docx(report, figures),
        "results.json": (
            json.dumps(report.results(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        ).encode("utf-8"),
    }
    for figure in figures:
        files[f"{figure.name}.svg"] = figure.svg.encode("utf-8")
    for t in tables(report):
        files[f"{t.name}.csv"] = csv_bytes(t)
    written = []
    for name in sorted(files):
        written.append(write_whole(out / name, files[name]))
    return written


def tables(report: Report) -> list[TableData]:
    """Every table the report shows, for the CSV files."""
    found = [report.protocol, report.amendments, *report.search_log, *report.agreement]
    if report.changes is not None:  # header only when nothing is new: never a stale list
        found.append(report.changes.papers)
    found += [report.studies, report.cases, *report.appraisal_tables]
    for o in report.outcomes:
        found.append(o.counts)
        if o.summary is not None:
            found.append(summary_table(o.name, o.summary))
        if o.sensitivity is not None:
            found.append(o.sensitivity)
    found.append(report.provenance)
    return [t for t in found if t.columns]


def csv_bytes(table: TableData) -> bytes:
    """The table as UTF-8 CSV, header first."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return text.getvalue().encode("utf-8")
