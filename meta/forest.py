"""Forest plots of pooled proportions, drawn with ``forestplot`` and finished with matplotlib.

The ``forestplot`` package lays out the text columns and draws the study estimates and
whiskers; we add what a meta-analysis needs on its axes (as metafor's ``forest()`` and
meta's ``forest.meta``): squares sized by weight, arrows where an interval leaves the
axis, diamonds for pooled estimates and subgroup subtotals, the prediction interval as a
bar, a heterogeneity line and footnotes. The rows are computed by the pure
:func:`meta.forest_layout.forest_rows`; this module only draws them.
"""

from __future__ import annotations

import math
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meta.errors import ForestPlotError
from meta.forest_layout import ForestLayout, ForestRow, forest_rows, sensitivity_rows
from meta.results import PoolResult, SubgroupResult
from meta.sensitivity import SensitivityTable

__all__ = [
    "ForestPlotError",
    "build_figure",
    "draw_forest",
    "draw_sensitivity_forest",
    "forest_rows",
    "sensitivity_rows",
]


FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
FONT_SIZE = 10.0
ROW_HEIGHT = 0.27  # inches per row; font sizes stay fixed, the figure grows with rows
PLOT_WIDTH = 3.6  # inches of the axis region
LAYOUT_DPI = 72  # forestplot measures label widths in pixels: at 72 dpi pixels are points
MAX_SIDE = 0.62  # side of the largest square, in rows
MIN_SIDE = 0.12
DIAMOND_HALF = 0.34  # half-height of a diamond, in rows
NBSP = "\u00a0"
FOOTNOTE_WIDTH = 105  # characters per footnote line
# spaces between the text columns and the axis ends (forestplot already keeps some room on
# the right): a square at 0% or 100% is drawn whole past the axis end and must not touch
# the events/n or the CI text
GAP_LEFT = 4
GAP_RIGHT = 2


def draw_forest(
    result: PoolResult | SubgroupResult, path: Path | str, *, title: str | None = None
) -> Path:
    """Draw the forest plot of ``result`` to ``path``; PNG, SVG or PDF by the file extension."""
    path = _check_path(path)
    return _save(forest_rows(result), path, title)


def draw_sensitivity_forest(
    table: SensitivityTable, path: Path | str, *, title: str | None = None
) -> Path:
    """Draw a sensitivity table as a forest plot, one row per analysis (leave-one-out and
    the other models and subsets), to ``path`` (PNG, SVG or PDF)."""
    path = _check_path(path)
    return _save(sensitivity_rows(table), path, title)


def _check_path(path: Path | str) -> Path:
    path = Path(path)
    if FORMATS.get(path.suffix.lower()) is None:
        raise ForestPlotError(
            f"{path}: unknown plot format {path.suffix or '(none)'!r}; use .png, .svg or .pdf"
        )
    if not path.parent.is_dir():
        raise ForestPlotError(f"{path}: the folder {path.parent} does not exist")
    return path


def _save(layout: ForestLayout, path: Path, title: str | None) -> Path:
    fmt = FORMATS[path.suffix.lower()]
    fig = _figure(layout, title)
    try:
        fig.savefig(path, format=fmt, dpi=200, bbox_inches="tight", pad_inches=0.15)
    except OSError as exc:
        raise ForestPlotError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def build_figure(
    result: PoolResult | SubgroupResult | SensitivityTable, *, title: str | None = None
) -> Any:
    """The matplotlib Figure of the forest plot (for notebooks and tests); close it after use."""
    if isinstance(result, SensitivityTable):
        return _figure(sensitivity_rows(result), title)
    return _figure(forest_rows(result), title)


def _figure(layout: ForestLayout, title: str | None) -> Any:
    import numpy as np
    import pandas as pd

    plt = _pyplot()
    forestplot = _import_forestplot()

    rows = layout.rows
    lo, hi = layout.xlim
    last = len(layout.left_headers) - 1
    left = {
        f"left{i}": _column(_cells(rows, "left", i), header, gap=GAP_LEFT if i == last else 0)
        for i, header in enumerate(layout.left_headers)
    }
    right = {
        f"right{i}": _column(_cells(rows, "right", i), header, lead=GAP_RIGHT if i == 0 else 0)
        for i, header in enumerate(layout.right_headers)
    }
    columns = left | right
    frame = pd.DataFrame(
        {
            "label": _unique_labels(rows),
            "estimate": [_nan(r.estimate) if r.kind == "study" else np.nan for r in rows],
            "lower": [_clip(r.lower, lo, hi) if r.kind == "study" else np.nan for r in rows],
            "upper": [_clip(r.upper, lo, hi) if r.kind == "study" else np.nan for r in rows],
            "size": _square_areas(rows, layout.show_weights),
            **columns,
        }
    )
    headers = dict(zip(columns, (*layout.left_headers, *layout.right_headers), strict=True))
    height = ROW_HEIGHT * (len(rows) + 1) + 0.9
    fig = plt.figure(figsize=(PLOT_WIDTH, height), dpi=LAYOUT_DPI, facecolor="white")
    ax = fig.add_axes((0.0, 0.9 / height, 1.0, 1.0 - 1.2 / height))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # forestplot's pandas idioms
        # forestplot relabels the categorical ticks it made itself, which matplotlib flags
        warnings.filterwarnings("ignore", "set_ticklabels", UserWarning)
        forestplot.forestplot(
            frame,
            estimate="estimate",
            ll="lower",
            hl="upper",
            varlabel="label",
            annote=list(left),
            annoteheaders=[_header(columns[c], headers[c]) for c in left],
            rightannote=list(right),
            right_annoteheaders=[_header(columns[c], headers[c]) for c in right],
            variable_header=layout.label_header,
            ci_report=False,
            form_ci_report=False,
            flush=True,
            ax=ax,
            xlim=(lo, hi),
            xticks=_ticks(lo, hi),
            xline=None,
            marker="s",
            markersize="size",
            markercolor="0.2",
            markeralpha=1.0,
            linecolor="0.25",
            lw=1.0,
            fontsize=FONT_SIZE,
            xtick_size=FONT_SIZE - 1,
            xlabel="Proportion (%)",
            xlabel_size=FONT_SIZE,
            xlabel_fontweight="normal",
            tableheader_fontweight="bold",
        )
    _decorate(ax, layout, title)
    return fig


def _decorate(ax: Any, layout: ForestLayout, title: str | None) -> None:
    """Percent axis, reference line, then per row: bold labels, diamonds, the PI bar,
    arrows and notes; then the title and footnotes."""
    from matplotlib.ticker import PercentFormatter

    lo, hi = layout.xlim
    n = len(layout.rows)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.6, n + 0.6)
    from matplotlib.collections import PathCollection

    for collection in ax.collections:
        collection.set_clip_on(False)  # squares at 0% or 100% are drawn whole
        if isinstance(collection, PathCollection):
            collection.set_gid("study-squares")
    drawn = [n - 1 - i for i, r in enumerate(layout.rows) if r.kind not in ("note", "blank")]
    if layout.reference is not None:
        ax.vlines(
            [layout.reference] * len(drawn),
            [y - 0.5 for y in drawn],
            [y + 0.5 for y in drawn],
            linestyles=(0, (3, 3)),
            colors="0.55",
            linewidth=0.8,
            zorder=0,
            gid="reference-line",
        )
    ticklabels = ax.get_yticklabels()
    for i, row in enumerate(layout.rows):
        y = n - 1 - i  # forestplot draws the first row at the top; the header is row n
        if row.kind in ("group", "subtotal", "overall"):
            ticklabels[y].set_fontweight("bold")
        _draw_row(ax, row, y, (lo, hi), ticklabels[y])
    _draw_text(ax, layout, title, ticklabels[n])
    for text in [*ticklabels, *ax.texts]:
        text.set_parse_math(False)  # a '$' in a study label is text, not mathtext


def _draw_row(ax: Any, row: ForestRow, y: float, xlim: tuple[float, float], label: Any) -> None:
    from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

    lo, hi = xlim
    if row.kind in ("subtotal", "overall") and row.estimate is not None:
        lower, upper = _nan(row.lower), _nan(row.upper)
        corners = [
            (lower, y),
            (row.estimate, y + DIAMOND_HALF),
            (upper, y),
            (row.estimate, y - DIAMOND_HALF),
        ]
        shade = "0.15" if row.kind == "overall" else "0.55"
        ax.add_patch(
            Polygon(
                corners,
                closed=True,
                facecolor=shade,
                edgecolor="0.1",
                linewidth=0.6,
                gid=f"diamond-{row.kind}",
            )
        )
    elif row.kind == "pi" and row.lower is not None and row.upper is not None:
        left, right = max(row.lower, lo), min(row.upper, hi)
        ax.add_patch(
            Rectangle(
                (left, y - 0.12),
                right - left,
                0.24,
                facecolor="0.8",
                edgecolor="0.2",
                linewidth=0.6,
                gid="prediction-interval",
            )
        )
    elif row.kind == "study":
        head = (hi - lo) * 0.035
        ends = []
        if row.lower is not None and row.lower < lo - 1e-12:
            ends.append((lo + head, lo))
        if row.upper is not None and row.upper > hi + 1e-12:
            ends.append((hi - head, hi))
        for start, tip in ends:
            ax.add_patch(
                FancyArrowPatch(
                    (start, y),
                    (tip, y),
                    arrowstyle="-|>,head_length=4,head_width=2.2",
                    color="0.25",
                    linewidth=1.0,
                    shrinkA=0,
                    shrinkB=0,
                    clip_on=False,
                    gid="ci-arrow",
                )
            )
    elif row.kind == "note" and row.note:
        ax.annotate(
            row.note,
            xy=(0.0, 0.5),
            xycoords=label,
            fontsize=FONT_SIZE - 1,
            style="italic",
            va="center",
            ha="left",
            annotation_clip=False,
        )


def _draw_text(ax: Any, layout: ForestLayout, title: str | None, header: Any) -> None:
    """The title above the header row and the footnotes below the x axis, both flush with
    the study labels."""
    if title:
        ax.annotate(
            title,
            xy=(0.0, 1.0),
            xycoords=header,
            xytext=(0, 10),
            textcoords="offset points",
            fontsize=FONT_SIZE + 3,
            fontweight="bold",
            va="bottom",
            ha="left",
            annotation_clip=False,
        )
    lines = [line for note in layout.footnotes for line in textwrap.wrap(note, FOOTNOTE_WIDTH)]
    for j, text in enumerate(lines):
        ax.annotate(
            text,
            xy=(0.0, 0.0),
            xycoords=(header, "axes fraction"),
            xytext=(0, -38 - j * (FONT_SIZE + 3)),
            textcoords="offset points",
            fontsize=FONT_SIZE - 1.5,
            color="0.25",
            va="top",
            ha="left",
            annotation_clip=False,
        )


def _import_forestplot() -> Any:
    """Import forestplot without keeping the global settings its import changes
    (it ignores all warnings, all numpy floating-point errors and resets the monospace font)."""
    import matplotlib
    import numpy as np

    saved_errors = np.geterr()
    saved_font = list(matplotlib.rcParams["font.monospace"])
    with warnings.catch_warnings():
        import forestplot
    np.seterr(**saved_errors)
    matplotlib.rcParams["font.monospace"] = saved_font
    return forestplot


def _pyplot() -> Any:
    """pyplot on the Agg backend when we are the first to use it (no display needed);
    a session that already chose a backend keeps it (the figure is closed after saving)."""
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _unique_labels(rows: Sequence[ForestRow]) -> list[str]:
    """forestplot places rows by label text, so blank rows (and rows shown without a label)
    get distinct invisible labels (runs of no-break spaces, as wide as spaces in the
    monospace font)."""
    labels: list[str] = []
    blanks = 0
    for row in rows:
        if row.kind in ("note", "blank") or not row.label:
            blanks += 1
            labels.append(NBSP * blanks)
        else:
            labels.append(row.label)
    return labels


def _square_areas(rows: Sequence[ForestRow], show_weights: bool) -> list[float]:
    """Marker areas in points² with area proportional to weight (equal when no weights)."""
    side_max = MAX_SIDE * ROW_HEIGHT * 72
    side_min = MIN_SIDE * ROW_HEIGHT * 72
    weights = [r.weight for r in rows if r.kind == "study" and r.weight is not None]
    top = max(weights) if show_weights and weights and max(weights) > 0 else None
    areas: list[float] = []
    for r in rows:
        if r.kind != "study":
            areas.append(0.0)
        elif top is None or r.weight is None:
            areas.append((0.7 * side_max) ** 2)
        else:
            side = max(side_min, side_max * math.sqrt(r.weight / top))
            areas.append(side**2)
    return areas


def _cells(rows: Sequence[ForestRow], side: str, index: int) -> list[str]:
    """Each row's text in column ``index`` of the ``side`` ('left' or 'right') columns."""
    cells = []
    for row in rows:
        values = row.left if side == "left" else row.right
        cells.append(values[index] if index < len(values) else "")
    return cells


def _column(texts: Sequence[str], header: str, gap: int = 0, lead: int = 0) -> list[str]:
    """Right-justify a text column to its header's width (forestplot left-justifies);
    ``gap`` trailing or ``lead`` leading spaces keep it clear of the plot."""
    width = max([len(header), *(len(t) for t in texts)]) + lead
    return [(t.rjust(width) if t else "") + " " * gap for t in texts]


def _header(column: Sequence[str], header: str) -> str:
    width = max((len(t.rstrip()) for t in column), default=0)
    return header.rjust(max(width, len(header)))


def _ticks(lo: float, hi: float) -> list[float]:
    """At most 7 ticks, from ``lo`` to ``hi`` when a round step fits the range exactly."""
    span = hi - lo
    steps = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25)
    for step in steps:
        count = span / step
        if count <= 6 + 1e-9 and abs(count - round(count)) < 1e-6:
            return [round(lo + i * step, 10) for i in range(round(count) + 1)]
    step = next(s for s in steps if span / s <= 6)
    first = math.ceil(lo / step - 1e-9) * step
    count = math.floor((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 10) for i in range(count)]


def _clip(value: float | None, lo: float, hi: float) -> float:
    if value is None or math.isnan(value):
        return math.nan
    return min(max(value, lo), hi)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
