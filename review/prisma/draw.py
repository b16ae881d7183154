"""Draw the PRISMA 2020 flow diagram (``review.prisma.layout``) with matplotlib, to SVG,
PNG or PDF chosen by the file's suffix; written atomically, so a run that is killed
leaves the old file (or none), never half a picture."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from review.errors import ExportError
from review.prisma.files import check_target
from review.prisma.flow import PrismaFlow
from review.prisma.layout import (
    FONT_SIZE,
    INDENT,
    LINE_HEIGHT,
    PAD,
    TITLE_SIZE,
    Box,
    Layout,
    Measure,
    layout,
)
from review.replacing import replacing

FORMATS: dict[str, str] = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
"""The suffixes ``draw_prisma`` writes, and matplotlib's name for each format."""
DPI = 200
"""Resolution of a PNG: a 3-record diagram is then about 1,700 pixels wide."""

FILL: dict[str, str] = {
    "box": "#ffffff",
    "header-main": "#ffc000",
    "header-other": "#d9d9d9",
    "phase": "#9dc3e6",
}
"""The template's colours: yellow and grey column titles, blue phase bars, white boxes."""


def draw_prisma(flow: PrismaFlow, out: Path) -> Path:
    """Draw ``flow`` to ``out`` (.svg, .png or .pdf) and return the path written."""
    out = Path(out)
    check_target(out)
    fmt = diagram_format(out)
    figure = render(layout(flow, font_measure()))
    import matplotlib

    with (
        replacing(out) as temporary,
        matplotlib.rc_context(
            # text stays text in SVG (searchable, read back); element ids the same each run
            {"svg.fonttype": "none", "svg.hashsalt": "casepool-prisma"}
        ),
    ):
        figure.savefig(temporary, format=fmt, dpi=DPI, metadata=_metadata(fmt))
    return out


def diagram_format(out: Path) -> str:
    """The format ``out``'s suffix asks for (``svg``, ``png``, ``pdf``); anything else is
    refused before any work."""
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        given = out.suffix or "no suffix"
        raise ExportError(f"{out}: the diagram is drawn as .svg, .png or .pdf, not {given}")
    return fmt


def _metadata(fmt: str) -> dict[str, Any]:
    # no creation date, so the same flow draws the same file
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}


def font_measure() -> Measure:
    """The width of a text in matplotlib's default font (what ``render`` draws with)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, 72)
    fonts = {bold: FontProperties(weight="bold" if bold else "normal") for bold in (False, True)}

    def measure(text: str, size: float, bold: bool) -> float:
        font = fonts[bold].copy()
        font.set_size(size)
        width, _, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
        return float(width)

    return measure


def render(plan: Layout) -> Any:
    """A matplotlib Figure of the layout, one point per layout unit, text kept as text in
    SVG (so the numbers can be searched and read back)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle

    figure = Figure(figsize=(plan.width / 72, plan.height / 72))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, plan.width)
    axes.set_ylim(plan.height, 0)
    axes.set_axis_off()
    for box in plan.boxes:
        axes.add_patch(
            Rectangle(
                (box.x, box.y),
                box.width,
                box.height,
                facecolor=FILL[box.style],
                edgecolor="#000000" if box.style == "box" else FILL[box.style],
                linewidth=0.8,
            )
        )
        _text(axes, box)
    for arrow in plan.arrows:
        points = arrow.points
        for a, b in itertools.pairwise(points[:-1]):
            axes.plot([a[0], b[0]], [a[1], b[1]], color="#000000", linewidth=0.8)
        axes.add_patch(
            FancyArrowPatch(
                points[-2],
                points[-1],
                arrowstyle="-|>",
                mutation_scale=9,
                color="#000000",
                linewidth=0.8,
                shrinkA=0,
                shrinkB=0,
            )
        )
    return figure


def _text(axes: Any, box: Box) -> None:
    if box.style == "phase":
        axes.text(
            box.mid_x,
            box.mid_y,
            box.lines[0],
            rotation=90,
            ha="center",
            va="center",
            fontsize=TITLE_SIZE,
            fontweight="bold",
        )
        return
    if box.style != "box":
        step = 1.3 * TITLE_SIZE
        top = box.mid_y - step * len(box.lines) / 2
        for i, line in enumerate(box.lines):
            axes.text(
                box.mid_x,
                top + step * (i + 0.5),
                line,
                ha="center",
                va="center",
                fontsize=TITLE_SIZE,
                fontweight="bold",
            )
        return
    for i, line in enumerate(box.lines):
        indent = len(line) - len(line.lstrip(" "))
        axes.text(
            box.x + PAD + indent / 2 * INDENT,
            box.y + PAD + LINE_HEIGHT * (i + 0.5),
            line.lstrip(" "),
            ha="left",
            va="center",
            fontsize=FONT_SIZE,
        )
