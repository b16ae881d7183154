"""The report as one self-contained HTML page: styles inline, pictures as inline SVG, no
external request; readable on a phone (viewport, max-width, tables that scroll sideways)
and printable (print styles)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from meta.summary import PooledSummary
from review.report.figures import Figure, inline_svg
from review.report.model import OutcomeSection, Report, TableData

STYLE = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
h3 { font-size: 1.1rem; }
.notice { border-left: 0.3rem solid #c77700; background: #fff4e0; padding: 0.5rem 1rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0.5rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.45rem; text-align: left;
  vertical-align: top; }
th { background: #f2f2f2; min-width: 4.5rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
ol.notes { font-size: 0.85rem; color: #333; margin-top: 0; }
figcaption { font-size: 0.9rem; color: #444; }
.headline { font-size: 1.05rem; font-weight: 600; }
pre { white-space: pre-wrap; font-size: 0.85rem; background: #f7f7f7; padding: 0.5rem; }
@media (max-width: 40rem) {
  main { padding: 0.6rem; }
  figure svg { max-width: none; width: 36rem; }  /* readable text; the figure scrolls */
}
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .scroll, figure { overflow: visible; }
  figure svg { max-width: 100%; width: auto; }
  h2 { break-after: avoid; }
  figure, table { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(report: Report, figures: Sequence[Figure]) -> str:
    """The whole page."""
    pictures = {f.name: f for f in figures}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body><main>",
        f"<h1>{escape(report.title)}</h1>",
        f"<p>Report generated {escape(report.run_date)}.</p>",
    ]
    parts += [f'<p class="notice">{escape(n)}</p>' for n in report.notices]
    diffs = [
        f"<h3>{escape(title)}</h3><pre>{escape(diff)}</pre>"
        for title, diff in report.amendment_diffs
    ]
    parts += _section("Protocol", [table(report.protocol), table(report.amendments), *diffs])
    search = [table(t) for t in report.search_log] or [_p("No search is recorded.")]
    parts += _section("Search (PRISMA-S)", search)
    if report.changes is not None:
        changed = [_p(report.changes.note)]
        if report.changes.papers.rows:
            changed.append(table(report.changes.papers))
        parts += _section("New since the last run", changed)
    prisma = [_figure(pictures["prisma"])] if "prisma" in pictures else []
    parts += _section("PRISMA 2020 flow diagram", [*prisma, _p(report.prisma_note)])
    agreement = [table(t) for t in report.agreement] + [_p(report.agreement_note)]
    parts += _section("Screening agreement", agreement)
    parts += _section("Characteristics of included studies", [table(report.studies)])
    parts += _section("Case table", [table(report.cases)])
    appraisal = [table(t) for t in report.appraisal_tables]
    appraisal += [_figure(f) for f in figures if f.name.startswith("appraisal-")]
    notes = _list("ul", report.appraisal_notes) if report.appraisal_notes else []
    parts += _section("Appraisal", [*appraisal, *notes, _p(report.appraisal_note)])
    for outcome in report.outcomes:
        parts += _outcome(outcome, pictures)
    parts += _section("Methods", [_p(m) for m in report.methods])
    parts += _section("Limitations", _list("ul", report.limitations))
    parts += _section("References", _list("ol", report.references))
    parts += _section("Provenance", [table(report.provenance)])
    if report.run_log:
        parts += _section("Run log", [f"<pre>{escape(chr(10).join(report.run_log))}</pre>"])
    parts += ["</main></body>", "</html>", ""]
    return "\n".join(p for p in parts if p)


def _section(title: str, body: Sequence[str]) -> list[str]:
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    return [f'<section id="{escape(slug)}">', f"<h2>{escape(title)}</h2>", *body, "</section>"]


def _list(tag: str, items: Sequence[str]) -> list[str]:
    return [f"<{tag}>", *(f"<li>{escape(x)}</li>" for x in items), f"</{tag}>"]


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>" if text else ""


def _figure(figure: Figure) -> str:
    svg = inline_svg(figure.svg, figure.caption, figure.name)
    return (
        f'<figure id="figure-{escape(figure.name)}">{svg}'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
    )


def table(data: TableData) -> str:
    """A table in a sideways-scrolling box; an empty one says so."""
    if not data.rows:
        return f"<p><strong>{escape(data.caption)}</strong>: none.</p>"
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in data.columns)
    body = "".join("<tr>" + "".join(_td(cell) for cell in row) + "</tr>" for row in data.rows)
    notes = ""
    if data.notes:
        notes = '<ol class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in data.notes)
        notes += "</ol>"
    return (
        f'<div class="scroll"><table id="table-{escape(data.name)}">'
        f"<caption>{escape(data.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{notes}"
    )


def _td(cell: str) -> str:
    numeric = cell.replace(".", "", 1).replace("-", "", 1).isdigit()
    return f'<td class="num">{escape(cell)}</td>' if numeric else f"<td>{escape(cell)}</td>"


def summary_table(name: str, summary: PooledSummary) -> TableData:
    """The rows of a pooled result as a table (the forest plot's numbers)."""
    rows = []
    for row in summary.rows:
        rows.append((row.label, row.events_n, row.ci_text, row.weight_text))
    columns = ("Study", "Events/n", f"% [{summary.level * 100:g}% CI]", "Weight")
    keep = [0, 1, 2] + ([3] if summary.show_weights else [])
    return TableData(
        f"pooled-{name}",
        f"{summary.title}",
        tuple(columns[i] for i in keep),
        tuple(tuple(r[i] for i in keep) for r in rows),
    )


def _outcome(outcome: OutcomeSection, pictures: dict[str, Figure]) -> list[str]:
    body = []
    if outcome.definition:
        body.append(f"<p><em>Definition:</em> {escape(outcome.definition)}</p>")
    body.append(
        f'<p class="headline" id="headline-{escape(outcome.name)}">{escape(outcome.headline)}</p>'
    )
    body.append(table(outcome.counts))
    if outcome.summary is not None:
        body.append(table(summary_table(outcome.name, outcome.summary)))
        body.append(_p(outcome.summary.heterogeneity))
        body += [_p(w) for w in outcome.summary.warnings]
    forest = pictures.get(f"forest-{outcome.name}")
    if forest is not None:
        body.append(_figure(forest))
    body += [_p(line) for line in outcome.subgroup_lines]
    if outcome.sensitivity is not None:
        body.append(table(outcome.sensitivity))
    sensitivity = pictures.get(f"sensitivity-{outcome.name}")
    if sensitivity is not None:
        body.append(_figure(sensitivity))
    return _section(f"{outcome.label}", body)
