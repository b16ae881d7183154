"""Forest plots of pooled proportions, drawn with ``forestplot`` and finished with matplotlib.

The ``forestplot`` package lays out the text columns and draws the study estimates and
whiskers; we add what a meta-analysis needs on its axes (as metafor's ``forest()`` and
meta's ``forest.meta``): squares sized by weight, arrows where an interval leaves the
axis, diamonds for pooled estimates and subgroup subtotals, the prediction interval as a
bar, a heterogeneity line and footnotes. The rows are computed by a pure function,
:func:`forest_rows`; :func:`draw_forest` is the only part that touches matplotlib.
"""

from __future__ import annotations

import math
import sys
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from meta.errors import MetaError
from meta.results import PoolResult, StudyResult, SubgroupResult

RowKind = Literal["study", "group", "subtotal", "overall", "pi", "note", "blank"]

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
STUDY_CI_NAMES = {
    "CP": "Clopper-Pearson (exact)",
    "WS": "Wilson score",
    "AC": "Agresti-Coull",
    "SA": "Wald",
}
MEASURE_NAMES = {
    "PR": "raw proportion",
    "PLN": "log proportion",
    "PLO": "logit",
    "PAS": "arcsine square root",
    "PFT": "Freeman-Tukey double arcsine",
}
I2_NOTE = "I² as in metafor: τ² / (τ² + typical within-study variance)"

FONT_SIZE = 10.0
ROW_HEIGHT = 0.27  # inches per row; font sizes stay fixed, the figure grows with rows
PLOT_WIDTH = 3.6  # inches of the axis region
LAYOUT_DPI = 72  # forestplot measures label widths in pixels: at 72 dpi pixels are points
MAX_SIDE = 0.62  # side of the largest square, in rows
MIN_SIDE = 0.12
DIAMOND_HALF = 0.34  # half-height of a diamond, in rows
NBSP = "\u00a0"
EVENTS_HEADER = "Events / n"
FOOTNOTE_WIDTH = 105  # characters per footnote line


class ForestPlotError(MetaError):
    """A forest plot cannot be written (unknown file type, unwritable path)."""


@dataclass(frozen=True)
class ForestRow:
    """One row of the plot, top to bottom; intervals on the proportion scale."""

    kind: RowKind
    label: str
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    events_n: str = ""
    ci_text: str = ""
    weight_text: str = ""
    weight: float | None = None
    note: str = ""


@dataclass(frozen=True)
class ForestLayout:
    """All rows, the x-axis range and the footnotes of one plot."""

    rows: tuple[ForestRow, ...]
    xlim: tuple[float, float]
    show_weights: bool
    footnotes: tuple[str, ...]
    level: float
    reference: float


def forest_rows(result: PoolResult | SubgroupResult) -> ForestLayout:
    """The rows of a forest plot (studies, subgroup subtotals, overall, PI, notes)."""
    overall = result.overall if isinstance(result, SubgroupResult) else result
    show_weights = overall.method != "GLMM"
    rows: list[ForestRow] = []
    if isinstance(result, SubgroupResult):
        by_name = {s.study: s for s in overall.studies}
        for name, group in result.groups:
            rows.append(ForestRow("group", name))
            members = [by_name.get(s.study, s) for s in group.studies]
            rows.extend(_study_row(s, show_weights) for s in members)
            share = sum(s.weight or 0.0 for s in members) if show_weights else None
            rows.append(_pooled_row("subtotal", f"Subtotal: {name}", group, share))
            rows.append(ForestRow("note", "", note=_heterogeneity(group)))
            rows.append(ForestRow("blank", ""))
    else:
        rows.extend(_study_row(s, show_weights) for s in overall.studies)
    rows.append(_pooled_row("overall", _model_label(overall), overall, 100.0))
    if overall.pi_lower is not None and overall.pi_upper is not None:
        rows.append(
            ForestRow(
                "pi",
                "Prediction interval",
                lower=overall.pi_lower,
                upper=overall.pi_upper,
                ci_text=f"[{_pct(overall.pi_lower)}, {_pct(overall.pi_upper)}]",
            )
        )
    rows.append(ForestRow("note", "", note=_heterogeneity(overall)))
    if isinstance(result, SubgroupResult):
        rows.append(
            ForestRow(
                "note",
                "",
                note=(
                    f"Test for subgroup differences: Q = {result.q_between:.2f}, "
                    f"df = {result.q_between_df}, p {_p(result.q_between_pvalue)}"
                ),
            )
        )
    footnotes = _footnotes(result, overall)
    return ForestLayout(
        rows=tuple(rows),
        xlim=axis_limits(rows),
        show_weights=show_weights,
        footnotes=footnotes,
        level=overall.level,
        reference=overall.estimate,
    )


def axis_limits(rows: Sequence[ForestRow]) -> tuple[float, float]:
    """An x range on round numbers that holds every point estimate and pooled interval.

    Study intervals widen the range only while it at most doubles: a one-patient report's
    0-97.5% interval must not squash rare-event data; it gets an arrow instead (as
    metafor's ``forest()`` with ``alim``).
    """
    core: list[float] = []
    wide: list[float] = []
    for row in rows:
        if row.kind == "study" and row.estimate is not None:
            core.append(row.estimate)
            wide.extend(v for v in (row.lower, row.upper) if v is not None)
        elif row.kind in ("subtotal", "overall", "pi"):
            core.extend(v for v in (row.estimate, row.lower, row.upper) if v is not None)
    if not core:
        return (0.0, 1.0)
    narrow = _round_range(core)
    both = _round_range(core + wide)
    return both if both[1] - both[0] <= 2 * (narrow[1] - narrow[0]) + 1e-9 else narrow


def _round_range(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    margin = max(0.03 * (high - low), 0.004)
    low, high = low - margin, high + margin
    span = high - low
    step = 0.1 if span > 0.3 else 0.05 if span > 0.12 else 0.02 if span > 0.05 else 0.01
    lo = max(0.0, math.floor(low / step + 1e-9) * step)
    hi = min(1.0, math.ceil(high / step - 1e-9) * step)
    return (round(lo, 10), round(hi, 10))


def draw_forest(
    result: PoolResult | SubgroupResult, path: Path | str, *, title: str | None = None
) -> Path:
    """Draw the forest plot of ``result`` to ``path``; PNG, SVG or PDF by the file extension."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ForestPlotError(
            f"{path}: unknown plot format {path.suffix or '(none)'!r}; use .png, .svg or .pdf"
        )
    if not path.parent.is_dir():
        raise ForestPlotError(f"{path}: the folder {path.parent} does not exist")
    layout = forest_rows(result)
    fig = _figure(layout, title)
    try:
        fig.savefig(path, format=fmt, dpi=200, bbox_inches="tight", pad_inches=0.15)
    except OSError as exc:
        raise ForestPlotError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def build_figure(result: PoolResult | SubgroupResult, *, title: str | None = None) -> Any:
    """The matplotlib Figure of the forest plot (for notebooks and tests); close it after use."""
    return _figure(forest_rows(result), title)


def _figure(layout: ForestLayout, title: str | None) -> Any:
    import numpy as np
    import pandas as pd

    plt = _pyplot()
    forestplot = _import_forestplot()

    rows = layout.rows
    lo, hi = layout.xlim
    ci_header = f"% [{_level_pct(layout.level)} CI]"
    columns = {
        "events_n": _column([r.events_n for r in rows], EVENTS_HEADER, gap=2),
        "ci_text": _column([r.ci_text for r in rows], ci_header),
        "weight_text": _column([r.weight_text for r in rows], "Weight"),
    }
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
    right = ["ci_text", "weight_text"] if layout.show_weights else ["ci_text"]
    right_headers = [_header(columns["ci_text"], ci_header)]
    if layout.show_weights:
        right_headers.append(_header(columns["weight_text"], "Weight"))
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
            annote=["events_n"],
            annoteheaders=[_header(columns["events_n"], EVENTS_HEADER)],
            rightannote=right,
            right_annoteheaders=right_headers,
            variable_header="Study",
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


def _study_row(study: StudyResult, show_weights: bool) -> ForestRow:
    return ForestRow(
        "study",
        study.study,
        estimate=study.proportion,
        lower=study.ci_lower,
        upper=study.ci_upper,
        events_n=f"{study.events}/{study.total}",
        ci_text=f"{_pct(study.proportion)} [{_pct(study.ci_lower)}, {_pct(study.ci_upper)}]",
        weight_text=f"{study.weight:.1f}%" if show_weights and study.weight is not None else "",
        weight=study.weight if show_weights else None,
    )


def _pooled_row(kind: RowKind, label: str, result: PoolResult, weight: float | None) -> ForestRow:
    events = sum(s.events for s in result.studies)
    total = sum(s.total for s in result.studies)
    return ForestRow(
        kind,
        label,
        estimate=result.estimate,
        lower=result.ci_lower,
        upper=result.ci_upper,
        events_n=f"{events}/{total}",
        ci_text=(f"{_pct(result.estimate)} [{_pct(result.ci_lower)}, {_pct(result.ci_upper)}]"),
        weight_text=f"{weight:.1f}%" if weight is not None and result.method != "GLMM" else "",
    )


def _model_label(result: PoolResult) -> str:
    if result.method == "GLMM":
        return "GLMM (random intercept), median"
    if result.method == "EE":
        return "Common-effect model"
    return f"Random-effects model ({result.method})"


def _heterogeneity(result: PoolResult) -> str:
    """The heterogeneity line: tau², I² (metafor's definition), Q with df and p."""
    parts: list[str] = []
    if result.tau2 is not None:
        tau2 = f"τ² = {result.tau2:.3g}"
        if result.tau2_ci_lower is not None and result.tau2_ci_upper is not None:
            tau2 += f" [{result.tau2_ci_lower:.3g}, {result.tau2_ci_upper:.3g}]"
        parts.append(tau2)
    if result.i2 is not None:
        parts.append(f"I² = {result.i2:.1f}%")
    if result.q is not None:
        q = f"Q = {result.q:.2f}"
        if result.q_df is not None:
            q += f", df = {result.q_df}"
        if result.q_pvalue is not None:
            q += f", p {_p(result.q_pvalue)}"
        parts.append(q)
    if not parts:
        return "Heterogeneity: not estimable"
    return "Heterogeneity: " + "; ".join(parts)


def _footnotes(result: PoolResult | SubgroupResult, overall: PoolResult) -> tuple[str, ...]:
    level = _level_pct(overall.level)
    ci_name = STUDY_CI_NAMES.get(overall.study_ci, overall.study_ci)
    if overall.method == "GLMM":
        model = "Pooled: binomial-normal GLMM (random-intercept logistic regression, ML)"
    else:
        scale = MEASURE_NAMES.get(overall.measure, overall.measure)
        model = f"Pooled: inverse-variance, {overall.method}, on the {scale} scale"
    test = "Hartung-Knapp-Sidik-Jonkman" if overall.test == "knha" else "Wald (z)"
    notes = [
        f"Study intervals: {level} {ci_name}.",
        f"{model}; {level} CI: {test}.",
        I2_NOTE + ".",
    ]
    if overall.method == "GLMM":
        notes.append("GLMM has no study weights: all squares have the same size.")
    else:
        notes.append("Square area is proportional to the study's weight.")
    if overall.pi_lower is not None and overall.pi_upper is not None:
        notes.append("Bar: prediction interval for the proportion in a new study.")
    seen = set(overall.warnings)
    shown = list(overall.warnings)
    if isinstance(result, SubgroupResult):
        shown += [w for w in result.warnings if w not in seen]
        seen.update(result.warnings)
        for name, group in result.groups:
            shown += [f"{name}: {w}" for w in group.warnings if w not in seen]
            seen.update(group.warnings)
    notes.extend(f"Warning: {w}" for w in dict.fromkeys(shown))
    return tuple(notes)


def _unique_labels(rows: Sequence[ForestRow]) -> list[str]:
    """forestplot places rows by label text, so blank rows get distinct invisible labels
    (runs of no-break spaces, as wide as spaces in the monospace font)."""
    labels: list[str] = []
    blanks = 0
    for row in rows:
        if row.kind in ("note", "blank"):
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


def _column(texts: Sequence[str], header: str, gap: int = 0) -> list[str]:
    """Right-justify a text column to its header's width (forestplot left-justifies);
    ``gap`` trailing spaces keep it clear of the plot."""
    width = max([len(header), *(len(t) for t in texts)])
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


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def _level_pct(level: float) -> str:
    return f"{100 * level:g}%"
