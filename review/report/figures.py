"""The report's pictures drawn in memory, as SVG text (inlined in the HTML, written as
files) and PNG bytes (for the DOCX): forest plots, the PRISMA diagram, appraisal plots.

Drawing is deterministic: a fixed ``svg.hashsalt`` per figure (so two figures inlined in one
page never share an element id, and the same figure draws the same ids each run) and no
date in the metadata.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meta.progress import silent

if TYPE_CHECKING:
    from meta.progress import Progress
    from review.report.model import Report

PNG_DPI = 150


@dataclass(frozen=True)
class Figure:
    """One picture: its file stem (``forest-clinical_response``), caption, SVG and PNG."""

    name: str
    caption: str
    svg: str
    png: bytes


def draw_figures(report: Report, progress: Progress | None = None) -> tuple[Figure, ...]:
    """Every picture the report shows, in the order it shows them; ``progress`` hears of
    each one drawn."""
    import matplotlib

    matplotlib.use("Agg")
    from meta.forest import build_figure

    total = (
        (report.prisma is not None)
        + 2 * len(report.appraisal)
        + 2 * sum(o.plan is not None for o in report.outcomes)
    )
    figures: list[Figure] = []
    tell = progress or silent

    def drawn(figure: Figure) -> None:
        figures.append(figure)
        tell("drawing the report's figures", len(figures), total, "figures")

    tell("drawing the report's figures", 0, total, "figures")
    if report.prisma is not None:
        from review.prisma.draw import font_measure, render
        from review.prisma.layout import layout

        fig = render(layout(report.prisma, font_measure()))
        drawn(_figure("prisma", "PRISMA 2020 flow diagram", fig, tight=False))
    for summary in report.appraisal:
        from extraction.appraisal_plots import summary_bars_figure, traffic_light_figure

        tool = summary.tool.name
        drawn(
            _figure(
                f"appraisal-{tool}-traffic-light",
                f"Appraisal ({tool}): answers per study and item",
                traffic_light_figure(summary),
                tight=False,
            )
        )
        drawn(
            _figure(
                f"appraisal-{tool}-summary",
                f"Appraisal ({tool}): share of studies per answer",
                summary_bars_figure(summary),
                tight=False,
            )
        )
    for outcome in report.outcomes:
        if outcome.plan is None:
            continue
        fig = build_figure(outcome.plan.primary, title=outcome.label)
        drawn(_figure(f"forest-{outcome.name}", f"{outcome.label}: forest plot", fig))
        fig = build_figure(outcome.plan.sensitivity, title=f"{outcome.label}: sensitivity")
        drawn(_figure(f"sensitivity-{outcome.name}", f"{outcome.label}: sensitivity analyses", fig))
    return tuple(figures)


def _figure(name: str, caption: str, fig: Any, *, tight: bool = True) -> Figure:
    import matplotlib
    import matplotlib.pyplot as plt

    extra: dict[str, Any] = {"bbox_inches": "tight", "pad_inches": 0.15} if tight else {}
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"casepool-{name}"}):
            svg_out = io.StringIO()
            fig.savefig(svg_out, format="svg", metadata={"Date": None}, **extra)
            png_out = io.BytesIO()
            fig.savefig(png_out, format="png", dpi=PNG_DPI, metadata={"Software": None}, **extra)
    finally:
        plt.close(fig)
    return Figure(name, caption, svg_out.getvalue(), png_out.getvalue())


def inline_svg(svg: str, label: str, prefix: str) -> str:
    """The SVG without its XML prologue and metadata block, labelled for screen readers,
    every element id (and each reference to one) prefixed, so several pictures in one page
    never share an id (matplotlib names groups ``axes_1``, ``patch_3`` in every figure)."""
    body = svg[svg.index("<svg") :]
    body = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', body)
    body = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", body)
    body = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', body)
    body = re.sub(r"\s*<metadata>.*?</metadata>", "", body, count=1, flags=re.DOTALL)
    body = re.sub(r"^<svg\b", f'<svg role="img" aria-label="{_attr(label)}"', body, count=1)
    return body


def _attr(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
