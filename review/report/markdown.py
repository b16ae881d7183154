"""The report as Markdown (``report.md``): the same sections and tables, pictures linked as
the SVG files written beside it."""

from __future__ import annotations

from collections.abc import Sequence

from review.report.figures import Figure
from review.report.html import summary_table
from review.report.model import Report, TableData


def render_markdown(report: Report, figures: Sequence[Figure]) -> str:
    """The whole document."""
    pictures = {f.name: f for f in figures}
    out = [f"# {report.title}", "", f"Report generated {report.run_date}.", ""]
    out += [f"> {n}\n" for n in report.notices]
    out += ["## Protocol", "", table(report.protocol), table(report.amendments)]
    for title, diff in report.amendment_diffs:
        out += [f"### {title}", "", "```diff", diff.rstrip("\n"), "```", ""]
    out += ["## Search (PRISMA-S)", ""]
    out += [table(t) for t in report.search_log] or ["No search is recorded.", ""]
    if report.changes is not None:
        out += ["## New since the last run", "", *_para(report.changes.note)]
        if report.changes.papers.rows:
            out += [table(report.changes.papers)]
    out += ["## PRISMA 2020 flow diagram", ""]
    if "prisma" in pictures:
        out += [_figure(pictures["prisma"])]
    out += _para(report.prisma_note)
    out += ["## Screening agreement", ""]
    out += [table(t) for t in report.agreement] + _para(report.agreement_note)
    out += ["## Characteristics of included studies", "", table(report.studies)]
    out += ["## Case table", "", table(report.cases)]
    out += ["## Appraisal", ""]
    out += [table(t) for t in report.appraisal_tables]
    out += [_figure(f) for f in figures if f.name.startswith("appraisal-")]
    if report.appraisal_notes:
        out += [*(f"- {n}" for n in report.appraisal_notes), ""]
    out += _para(report.appraisal_note)
    for o in report.outcomes:
        out += [f"## {o.label}", ""]
        if o.definition:
            out += [f"*Definition:* {o.definition}", ""]
        out += [f"**{o.headline}**", "", table(o.counts)]
        if o.summary is not None:
            out += [table(summary_table(o.name, o.summary))]
            out += _para(o.summary.heterogeneity)
            for w in o.summary.warnings:
                out += _para(w)
        if f"forest-{o.name}" in pictures:
            out += [_figure(pictures[f"forest-{o.name}"])]
        for line in o.subgroup_lines:
            out += _para(line)
        if o.sensitivity is not None:
            out += [table(o.sensitivity)]
        if f"sensitivity-{o.name}" in pictures:
            out += [_figure(pictures[f"sensitivity-{o.name}"])]
    out += ["## Methods", ""]
    for m in report.methods:
        out += _para(m)
    out += ["## Limitations", ""] + [f"- {x}" for x in report.limitations] + [""]
    out += ["## References", ""]
    out += [f"{i}. {x}" for i, x in enumerate(report.references, start=1)] + [""]
    out += ["## Provenance", "", table(report.provenance)]
    if report.run_log:
        out += ["## Run log", "", "```", *report.run_log, "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _para(text: str) -> list[str]:
    return [text, ""] if text else []


def _figure(figure: Figure) -> str:
    return f"![{figure.caption}]({figure.name}.svg)\n"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def table(data: TableData) -> str:
    """A pipe table with its caption; an empty one says so."""
    if not data.rows:
        return f"**{data.caption}**: none.\n"
    lines = [f"**{data.caption}**", ""]
    lines.append("| " + " | ".join(_cell(c) for c in data.columns) + " |")
    lines.append("|" + "---|" * len(data.columns))
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in data.rows]
    if data.notes:
        lines += [""] + [f"{i}. {n}" for i, n in enumerate(data.notes, start=1)]
    return "\n".join(lines) + "\n"
