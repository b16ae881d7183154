"""The report as a Word document (``report.docx``, python-docx): the same tables, and the
pictures as PNG, because authors paste into Word. Written deterministically: the core
properties carry the run date and the zip entries a fixed timestamp."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

from review.report.figures import Figure
from review.report.html import summary_table
from review.report.model import Report, TableData

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def render_docx(report: Report, figures: Sequence[Figure]) -> bytes:
    """The document's bytes."""
    from docx import Document
    from docx.shared import Inches

    doc = Document()
    pictures = {f.name: f for f in figures}

    def add_table(data: TableData) -> None:
        if not data.rows:
            doc.add_paragraph(f"{data.caption}: none.")
            return
        doc.add_paragraph(data.caption, style="Caption")
        grid = doc.add_table(rows=1, cols=len(data.columns))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, data.columns, strict=True):
            cell.text = text
        for row in data.rows:
            cells = grid.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = text
        for number, note in enumerate(data.notes, start=1):
            doc.add_paragraph(f"{number}. {note}")

    def add_figure(figure: Figure) -> None:
        doc.add_picture(io.BytesIO(figure.png), width=Inches(6.3))
        doc.add_paragraph(figure.caption, style="Caption")

    def para(text: str) -> None:
        if text:
            doc.add_paragraph(text)

    doc.add_heading(report.title, level=0)
    para(f"Report generated {report.run_date}.")
    for notice in report.notices:
        doc.add_paragraph(notice, style="Intense Quote")
    doc.add_heading("Protocol", level=1)
    add_table(report.protocol)
    add_table(report.amendments)
    for title, diff in report.amendment_diffs:
        doc.add_heading(title, level=2)
        doc.add_paragraph(diff)
    doc.add_heading("Search (PRISMA-S)", level=1)
    for t in report.search_log:
        add_table(t)
    if not report.search_log:
        para("No search is recorded.")
    if report.changes is not None:
        doc.add_heading("New since the last run", level=1)
        para(report.changes.note)
        if report.changes.papers.rows:
            add_table(report.changes.papers)
    doc.add_heading("PRISMA 2020 flow diagram", level=1)
    if "prisma" in pictures:
        add_figure(pictures["prisma"])
    para(report.prisma_note)
    doc.add_heading("Screening agreement", level=1)
    for t in report.agreement:
        add_table(t)
    para(report.agreement_note)
    doc.add_heading("Characteristics of included studies", level=1)
    add_table(report.studies)
    doc.add_heading("Case table", level=1)
    add_table(report.cases)
    doc.add_heading("Appraisal", level=1)
    for t in report.appraisal_tables:
        add_table(t)
    for f in figures:
        if f.name.startswith("appraisal-"):
            add_figure(f)
    for note in report.appraisal_notes:
        doc.add_paragraph(note, style="List Bullet")
    para(report.appraisal_note)
    for o in report.outcomes:
        doc.add_heading(o.label, level=1)
        para(f"Definition: {o.definition}" if o.definition else "")
        doc.add_paragraph().add_run(o.headline).bold = True
        add_table(o.counts)
        if o.summary is not None:
            add_table(summary_table(o.name, o.summary))
            para(o.summary.heterogeneity)
            for w in o.summary.warnings:
                para(w)
        if f"forest-{o.name}" in pictures:
            add_figure(pictures[f"forest-{o.name}"])
        for line in o.subgroup_lines:
            para(line)
        if o.sensitivity is not None:
            add_table(o.sensitivity)
        if f"sensitivity-{o.name}" in pictures:
            add_figure(pictures[f"sensitivity-{o.name}"])
    doc.add_heading("Methods", level=1)
    for m in report.methods:
        para(m)
    doc.add_heading("Limitations", level=1)
    for x in report.limitations:
        doc.add_paragraph(x, style="List Bullet")
    doc.add_heading("References", level=1)
    for x in report.references:
        doc.add_paragraph(x, style="List Number")
    doc.add_heading("Provenance", level=1)
    add_table(report.provenance)
    _properties(doc, report)
    raw = io.BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())


def _properties(doc: object, report: Report) -> None:
    props = doc.core_properties  # type: ignore[attr-defined]
    props.title = report.title
    props.author = "casepool"
    props.last_modified_by = "casepool"
    props.revision = 1
    when = _parse(report.run_date)
    props.created = when
    props.modified = when
    props.last_printed = when


def _parse(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return datetime(2000, 1, 1)


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with every entry's timestamp fixed and entries in a stable order."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
