"""The two appraisal plots review authors know from robvis (McGuinness LA, Higgins JPT. Res
Synth Methods 2021;12(1):55-61): a traffic-light plot (studies x items, one coloured circle with a
symbol per answer) and summary bars (the share of each answer per item, optionally weighted
by study size, as ``rob_summary(weighted = TRUE)``). Both draw an
:class:`~extraction.appraisal.AppraisalSummary` and name the tool and its source in a caption.

Matplotlib is imported inside the functions (Agg backend when we are the first to load it);
files are written atomically, PNG, SVG or PDF by suffix, SVG text kept as text.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from extraction.appraisal import AppraisalSummary
from extraction.appraisal_tools import NO, NOT_APPLICABLE, UNCLEAR, YES
from extraction.errors import AppraisalPlotError

__all__ = ["draw_summary_bars", "draw_traffic_light", "summary_bars_figure", "traffic_light_figure"]

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# robvis's "cochrane" colours, mapped from its low / some concerns / high / no information
COLOURS = {YES: "#02C100", UNCLEAR: "#E2DF07", NO: "#BF0000", NOT_APPLICABLE: "#BBBBBB"}
SYMBOLS = {YES: "+", UNCLEAR: "?", NO: "\u2212", NOT_APPLICABLE: "NA"}
LABELS = {YES: "Yes", UNCLEAR: "Unclear", NO: "No", NOT_APPLICABLE: "Not applicable"}
TEXT_COLOURS = {YES: "black", UNCLEAR: "black", NO: "white", NOT_APPLICABLE: "black"}
ORDER = (YES, UNCLEAR, NO, NOT_APPLICABLE)
"""Good to bad, then not applicable: the order of legends and of the stacked bars."""

FONT = 9.0
SMALL = 7.5
ROW = 0.30  # inches per study row in the traffic light; fonts stay fixed, the figure grows
COLUMN = 0.5  # inches per item column
CHAR = 0.068  # inches per character of FONT-point text (DejaVu Sans, a generous average)
SMALL_CHAR = 0.058
LINE = 0.15  # inches per caption line
BAR = 0.34  # inches per item bar in the summary plot
BAR_WIDTH = 4.6  # inches of the summary plot's axis


def draw_traffic_light(
    summary: AppraisalSummary, path: Path | str, by: Literal["item", "domain"] = "item"
) -> Path:
    """Draw the traffic-light plot of ``summary`` to ``path`` (.png, .svg or .pdf), one
    column per item (the answers) or per domain (the concerns)."""
    path = _check_path(path)
    return _save(traffic_light_figure(summary, by), path)


def draw_summary_bars(
    summary: AppraisalSummary, path: Path | str, weights: Mapping[str, float] | None = None
) -> Path:
    """Draw the summary bars of ``summary`` to ``path``; ``weights`` (study -> n) weight
    each study by its size."""
    path = _check_path(path)
    return _save(summary_bars_figure(summary, weights), path)


def _check_path(path: Path | str) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise AppraisalPlotError(
            f"{path}: unknown plot format {path.suffix or '(none)'!r}; use .png, .svg or .pdf"
        )
    if not path.parent.is_dir():
        raise AppraisalPlotError(f"{path}: the folder {path.parent} does not exist")
    return path


def _save(fig: Any, path: Path) -> Path:
    """Write to a temporary file beside ``path``, then rename: no half-written plot."""
    plt = _pyplot()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        with plt.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(tmp, format=FORMATS[path.suffix.lower()], dpi=200)
        os.replace(tmp, path)
    except OSError as exc:
        raise AppraisalPlotError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _pyplot() -> Any:
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _caption(summary: AppraisalSummary, width_in: float, by: str = "item") -> list[str]:
    """Tool title and source, then the item key (or the domains' items and the concern
    rule), wrapped to the figure width."""
    chars = max(40, int(width_in / SMALL_CHAR))
    tool = summary.tool
    lines = textwrap.wrap(f"{tool.title}. Source: {tool.citation}", chars)
    if by == "domain":
        members = "; ".join(
            f"{d}: {', '.join(i.id.upper() for i in tool.domain_items(d))}" for d in tool.domains
        )
        return (
            lines
            + textwrap.wrap(f"Items per domain: {members}.", chars)
            + textwrap.wrap(CONCERN_RULE, chars)
        )
    for item in tool.items:
        domain = f" ({item.domain})" if len(tool.domains) > 1 else ""
        lines += textwrap.wrap(
            f"{item.id.upper()}{domain}: {item.question}", chars, subsequent_indent="    "
        )
    return lines


@dataclass(frozen=True)
class _Mark:
    """How one value is drawn: circle colour, symbol, symbol colour, legend label."""

    colour: str
    symbol: str
    ink: str
    label: str


ANSWER_MARKS = {a: _Mark(COLOURS[a], SYMBOLS[a], TEXT_COLOURS[a], LABELS[a]) for a in ORDER}
CONCERN_MARKS = {
    "low": _Mark(COLOURS[YES], "+", "black", "Low concern"),
    "unclear": _Mark(COLOURS[UNCLEAR], "?", "black", "Unclear"),
    "high": _Mark(COLOURS[NO], "\u00d7", "white", "High concern"),
    "not applicable": _Mark(COLOURS[NOT_APPLICABLE], "NA", "black", "Not applicable"),
}
CONCERN_RULE = (
    "Domain concern (our stated rule): high if any item is answered no, else unclear if any "
    "is unclear, else low; items answered not applicable are skipped."
)


def _legend_handles(marks: list[_Mark]) -> list[Any]:
    from matplotlib.lines import Line2D

    return [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markersize=10,
            markerfacecolor=m.colour,
            markeredgecolor="#555555",
            label=f"{m.symbol}  {m.label}",
        )
        for m in marks
    ]


def traffic_light_figure(summary: AppraisalSummary, by: Literal["item", "domain"] = "item") -> Any:
    """The traffic-light Figure (for notebooks and tests): one circle per study and item
    (``by="item"``, the answers) or per study and domain (``by="domain"``, the concerns of
    :func:`extraction.appraisal.domain_concern`); close it after use."""
    tool = summary.tool
    if by == "item":
        headers = [i.upper() for i in tool.item_ids]
        values = [row.answers for row in summary.rows]
        marks: Mapping[str, _Mark] = ANSWER_MARKS
        allowed = tool.answers
        column = COLUMN
    elif by == "domain":
        headers = list(tool.domains)
        values = [row.concerns for row in summary.rows]
        marks = CONCERN_MARKS
        allowed = tuple({c for row in values for c in row} | {"low", "unclear", "high"})
        column = max(COLUMN, CHAR * max(len(d) for d in headers) + 0.15)
    else:
        raise AppraisalPlotError(f"traffic light by {by!r}: use 'item' or 'domain'")
    legend = [m for key, m in marks.items() if key in allowed]
    return _grid(summary, headers, values, marks, legend, column, by)


def _grid(
    summary: AppraisalSummary,
    headers: list[str],
    values: list[tuple[str, ...]],
    marks: Mapping[str, _Mark],
    legend: list[_Mark],
    column: float,
    by: str,
) -> Any:
    plt = _pyplot()
    n_rows, n_cols = len(values), len(headers)
    label_w = max(1.0, CHAR * max(len(s) for s in summary.studies) + 0.2)
    grid_w = column * n_cols
    width = max(label_w + grid_w + 0.7, 5.5)
    caption = _caption(summary, width - 0.3, by)
    top = 0.85 if by == "item" and len(summary.tool.domains) > 1 else 0.45
    legend_h = 0.45
    bottom = legend_h + LINE * len(caption) + 0.25
    height = top + ROW * n_rows + bottom
    fig = plt.figure(figsize=(width, height))
    left = (width - grid_w - label_w) / 2 + label_w
    ax = fig.add_axes((left / width, bottom / height, grid_w / width, ROW * n_rows / height))
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    marker = min(ROW, COLUMN) * 72 * 0.8  # points
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            mark = marks[value]
            ax.plot(
                c,
                r,
                marker="o",
                markersize=marker,
                markerfacecolor=mark.colour,
                markeredgecolor="#555555",
                markeredgewidth=0.6,
                linestyle="none",
            )
            ax.text(
                c,
                r,
                mark.symbol,
                ha="center",
                va="center_baseline",
                fontsize=SMALL - 1.5 if len(mark.symbol) > 1 else FONT + 1,
                fontweight="bold",
                color=mark.ink,
            )
    ax.set_yticks(range(n_rows), summary.studies, fontsize=FONT, parse_math=False)
    ax.set_xticks(range(n_cols), headers, fontsize=FONT, parse_math=False)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_axisbelow(True)
    ax.grid(True, color="#E6E6E6", linewidth=0.6)
    if by == "item":
        _domain_brackets(fig, summary, left, width, height - top)
    _legend_and_caption(fig, legend, caption)
    return fig


def _legend_and_caption(fig: Any, legend: list[_Mark], caption: list[str]) -> None:
    """The legend in one row above the caption; the caption at the foot, left-aligned."""
    width, height = fig.get_figwidth(), fig.get_figheight()
    fig.legend(
        handles=_legend_handles(legend),
        loc="lower center",
        ncol=len(legend),
        bbox_to_anchor=(0.5, (LINE * len(caption) + 0.2) / height),
        frameon=False,
        fontsize=FONT,
        handletextpad=0.3,
        columnspacing=1.2,
    )
    fig.text(
        0.15 / width,
        (LINE * len(caption) + 0.1) / height,
        "\n".join(caption),
        fontsize=SMALL,
        parse_math=False,
        va="top",
        ha="left",
        linespacing=1.35,
        color="#333333",
    )


def _domain_brackets(
    fig: Any, summary: AppraisalSummary, left: float, width: float, grid_top: float
) -> None:
    """Domain names above their items (one bracket per domain; omitted for one domain)."""
    tool = summary.tool
    if len(tool.domains) < 2:
        return
    height = fig.get_figheight()
    y = (grid_top + 0.42) / height
    for domain in tool.domains:
        columns = [c for c, item in enumerate(tool.items) if item.domain == domain]
        x0 = left + COLUMN * min(columns) + 0.05
        x1 = left + COLUMN * (max(columns) + 1) - 0.05
        fig.add_artist(_line(fig, [x0 / width, x1 / width], [y, y]))
        label = domain
        if SMALL_CHAR * len(domain) > x1 - x0 + 0.06:
            label = domain[: max(3, int((x1 - x0) / SMALL_CHAR) - 1)] + "."
        fig.text(
            (x0 + x1) / 2 / width,
            y + 0.03 / height,
            label,
            ha="center",
            va="bottom",
            fontsize=SMALL,
            parse_math=False,
            color="#333333",
        )


def _line(fig: Any, xs: list[float], ys: list[float]) -> Any:
    from matplotlib.lines import Line2D

    return Line2D(xs, ys, transform=fig.transFigure, color="#777777", linewidth=0.8)


def summary_bars_figure(
    summary: AppraisalSummary, weights: Mapping[str, float] | None = None
) -> Any:
    """The summary-bars Figure (for notebooks and tests); close it after use."""
    plt = _pyplot()
    tool = summary.tool
    shares = summary.proportions(weights)
    domains = len(tool.domains) > 1
    labels = [
        f"{item.id.upper()} {item.domain}" if domains else item.id.upper() for item in tool.items
    ]
    label_w = CHAR * max(len(s) for s in labels) + 0.25
    width = label_w + BAR_WIDTH + 0.5
    caption = _caption(summary, width - 0.3)
    n = len(tool.items)
    top = 0.5
    legend_h = 0.7
    bottom = legend_h + LINE * len(caption) + 0.25
    height = top + BAR * n + bottom
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((label_w / width, bottom / height, BAR_WIDTH / width, BAR * n / height))
    for r, item in enumerate(shares):
        start = 0.0
        for answer in (a for a in ORDER if a in tool.answers):
            share = item.share(answer)
            if share <= 0:
                continue
            ax.barh(
                r,
                share * 100,
                left=start * 100,
                height=0.72,
                color=COLOURS[answer],
                edgecolor="white",
                linewidth=0.6,
            )
            if share >= 0.08:
                ax.text(
                    (start + share / 2) * 100,
                    r,
                    f"{share * 100:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=SMALL,
                    color=TEXT_COLOURS[answer],
                )
            start += share
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_yticks(range(n), labels, fontsize=FONT, parse_math=False)
    ax.set_xticks(range(0, 101, 25), [f"{x}%" for x in range(0, 101, 25)], fontsize=FONT)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    studies = len(summary.rows)
    how = "weighted by study size (n)" if weights is not None else "each study counts once"
    fig.text(
        0.15 / width,
        1 - 0.12 / height,
        f"{tool.name}: {studies} stud{'y' if studies == 1 else 'ies'}, {how}",
        fontsize=FONT,
        parse_math=False,
        va="top",
        ha="left",
        fontweight="bold",
    )
    _legend_and_caption(fig, [ANSWER_MARKS[a] for a in ORDER if a in tool.answers], caption)
    return fig
