"""The PRISMA 2020 flow diagram as boxes and arrows (pure: no drawing library).

The layout follows the template for new systematic reviews that searched databases,
registers and other sources (Page MJ et al., BMJ 2021;372:n71, Figure 1): three phases
down the left (identification, screening, included); databases and registers in the left
pair of columns, other methods in the right pair, drawn only when the review has records
from other methods. Each box is as large as its text: widths come from the longest line
(numbers with thousands separators), heights from the number of lines, so a review of
30,000 records or with many exclusion reasons grows its boxes instead of clipping them.
Records and reports that still wait for a decision are shown only when there are any, so
each box still follows from the one above it (see ``review.prisma.flow``).

Coordinates are points (1/72 inch), x to the right and y downwards from the top left.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from review.prisma.flow import PrismaFlow, ReasonCount, SourceCount

FONT_SIZE = 9.0
"""Body text size in points."""
TITLE_SIZE = 10.0
LINE_HEIGHT = 1.3 * FONT_SIZE
TITLE_LINE_HEIGHT = 1.3 * TITLE_SIZE
INDENT = 12.0
"""How far a box's sub-line (a database under "Databases", a reason) is set in, in points."""
PAD = 6.0
MARGIN = 10.0
PHASE_WIDTH = 24.0
PHASE_GAP = 10.0
COLUMN_GAP = 30.0
ROW_GAP = 22.0
PAIR_GAP = 40.0
WRAP = 60
"""Longest line, in characters, before it wraps (as the template's boxes do)."""

Measure = Callable[[str, float, bool], float]
"""The width in points of a text at a size in points, bold or not."""


def estimate(text: str, size: float, bold: bool) -> float:
    """A font-free width: a generous mean advance (0.6 em, 0.64 em bold; DejaVu Sans and
    Helvetica average about 0.55 em on these texts). The drawing measures the real font."""
    return len(text) * size * (0.64 if bold else 0.6)


Style = Literal["box", "header-main", "header-other", "phase"]

KIND_LABELS: dict[str, str] = {
    "website": "Websites",
    "organisation": "Organisations",
    "citation-search": "Citation searching",
    "hand-search": "Hand searching",
    "local": "Local case series",
    "other": "Other sources",
}
"""How the right column names each kind of other method (the template's words first)."""


@dataclass(frozen=True, slots=True)
class Box:
    """One box: a stable key (``screened``), its text lines, its place (top left) and
    size, and how it is drawn (a phase bar's one line runs upwards)."""

    key: str
    lines: tuple[str, ...]
    x: float
    y: float
    width: float
    height: float
    style: Style = "box"

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def mid_x(self) -> float:
        return self.x + self.width / 2

    @property
    def mid_y(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class Arrow:
    """A polyline from one box to another, with its head at the last point."""

    start: str
    end: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """The whole diagram: its size, its boxes (in drawing order) and its arrows."""

    width: float
    height: float
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]

    def box(self, key: str) -> Box:
        """The box named ``key`` (KeyError if the diagram has none)."""
        for box in self.boxes:
            if box.key == key:
                return box
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(b.key for b in self.boxes)


def count(n: int) -> str:
    """``(n = 30,000)``: the template's way of giving a box's number."""
    return f"(n = {n:,})"


def _wrapped(line: str) -> list[str]:
    """A line cut at ``WRAP`` characters; its continuations set in two spaces further."""
    indent = " " * (len(line) - len(line.lstrip(" ")))
    # a count never breaks, nor stands alone: "word (n = 1,234)" is one word while wrapping
    kept = re.sub(r" \(n = ([0-9,]+)\)", "\u00a0(n\u00a0=\u00a0\\1)", line.strip())
    parts = textwrap.wrap(kept, WRAP - len(indent), break_long_words=True) or [""]
    parts = [part.replace("\u00a0", " ") for part in parts]
    return [indent + parts[0]] + [indent + "  " + rest for rest in parts[1:]]


def _sources(title: str, sources: Sequence[SourceCount]) -> list[str]:
    lines = [f"{title} {count(sum(s.n for s in sources))}"]
    for source in sources:
        lines.append(f"  {source.name} {count(source.n)}")
    return lines


def _reasons(head: str, reasons: Sequence[ReasonCount]) -> list[str]:
    lines = [f"{head} {count(sum(r.n for r in reasons))}" + (":" if reasons else "")]
    for reason in reasons:
        lines.append(f"  {reason.label} {count(reason.n)}")
    return lines


def _awaiting(label: str, n: int) -> list[str]:
    return [f"{label} {count(n)}"] if n else []


def box_texts(flow: PrismaFlow) -> dict[str, tuple[str, ...]]:
    """Each box's lines, by key, in the template's words; the other-methods boxes only when
    the review has records from other methods."""
    texts: dict[str, list[str]] = {
        "identified": [
            "Records identified from:",
            *_sources("Databases", flow.databases),
            *_sources("Registers", flow.registers),
        ],
        "removed": [
            "Records removed before screening:",
            f"  Duplicate records removed {count(flow.duplicates)}",
            f"  Records marked as ineligible by automation tools {count(flow.excluded_automatic)}",
            f"  Records removed for other reasons {count(flow.excluded_other)}",
        ],
        "screened": [f"Records screened {count(flow.records_screened)}"],
        "records_excluded": [
            f"Records excluded {count(flow.records_excluded)}",
            *_awaiting("Records awaiting screening", flow.records_awaiting),
        ],
        "sought": [f"Reports sought for retrieval {count(flow.dbr_sought)}"],
        "not_retrieved": [
            f"Reports not retrieved {count(flow.dbr_not_retrieved)}",
            *_awaiting("Reports awaiting retrieval", flow.dbr_awaiting_retrieval),
        ],
        "assessed": [f"Reports assessed for eligibility {count(flow.dbr_assessed)}"],
        "reports_excluded": [
            *_reasons("Reports excluded", flow.dbr_excluded),
            *_awaiting("Reports awaiting assessment", flow.dbr_awaiting),
        ],
        "included": [
            f"Studies included in review {count(flow.new_studies)}",
            f"Reports of included studies {count(flow.new_reports)}",
        ],
    }
    if flow.has_other_methods:
        identified = ["Records identified from:"]
        for kind, label in KIND_LABELS.items():
            group = [s for s in flow.other_sources if s.kind == kind]
            if group:
                identified += _sources(label, group)
        texts["other_identified"] = identified
        removed = [
            *_awaiting("Duplicates of records already identified", flow.other_removed),
            *_awaiting("Records excluded at screening", flow.other_screened_out),
            *_awaiting("Records awaiting screening", flow.other_awaiting_screening),
        ]
        if removed:
            texts["other_removed"] = removed
        texts["other_sought"] = [f"Reports sought for retrieval {count(flow.other_sought)}"]
        texts["other_not_retrieved"] = [
            f"Reports not retrieved {count(flow.other_not_retrieved)}",
            *_awaiting("Reports awaiting retrieval", flow.other_awaiting_retrieval),
        ]
        texts["other_assessed"] = [f"Reports assessed for eligibility {count(flow.other_assessed)}"]
        texts["other_excluded"] = [
            *_reasons("Reports excluded", flow.other_excluded),
            *_awaiting("Reports awaiting assessment", flow.other_awaiting),
        ]
    return {key: tuple(w for line in lines for w in _wrapped(line)) for key, lines in texts.items()}


ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("identified", "removed", "other_identified", "other_removed"),
    ("screened", "records_excluded", "", ""),
    ("sought", "not_retrieved", "other_sought", "other_not_retrieved"),
    ("assessed", "reports_excluded", "other_assessed", "other_excluded"),
    ("included", "", "", ""),
)
"""The template's grid: per row, the main and side box of each column pair."""

PHASES: tuple[tuple[str, str, int, int], ...] = (
    ("phase_identification", "Identification", 0, 0),
    ("phase_screening", "Screening", 1, 3),
    ("phase_included", "Included", 4, 4),
)
"""Each phase bar's key, label and first and last row."""

HEADER_MAIN = "Identification of new studies via databases and registers"
HEADER_OTHER = "Identification of new studies via other methods"


def line_width(line: str, measure: Measure) -> float:
    """A box line's width: its text after its indent (two spaces per ``INDENT``)."""
    text = line.lstrip(" ")
    return (len(line) - len(text)) / 2 * INDENT + measure(text, FONT_SIZE, False)


def _box_width(lines: Sequence[str], measure: Measure) -> float:
    return max(line_width(line, measure) for line in lines) + 2 * PAD


def _box_height(n_lines: int, line_height: float = LINE_HEIGHT) -> float:
    return n_lines * line_height + 2 * PAD


def _fit(title: str, width: float, measure: Measure) -> tuple[str, ...]:
    """The title's words in as few lines as fit ``width`` at the title size, bold."""
    lines: list[str] = []
    for word in title.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and measure(joined, TITLE_SIZE, True) <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return tuple(lines)


def layout(flow: PrismaFlow, measure: Measure = estimate) -> Layout:
    """Place every box of the flow on the template's grid, each sized to its text as
    ``measure`` sizes it; a phase bar is at least as tall as its upright label."""
    texts = box_texts(flow)
    columns = 4 if flow.has_other_methods else 2
    widths = [
        max((_box_width(texts[row[c]], measure) for row in ROWS if row[c] in texts), default=0.0)
        for c in range(columns)
    ]
    xs = [MARGIN + PHASE_WIDTH + PHASE_GAP]
    for c in range(1, columns):
        xs.append(xs[-1] + widths[c - 1] + (PAIR_GAP if c == 2 else COLUMN_GAP))
    headers: list[tuple[str, str, Style, int]] = [("header_main", HEADER_MAIN, "header-main", 0)]
    if flow.has_other_methods:
        headers.append(("header_other", HEADER_OTHER, "header-other", 2))
    placed: list[tuple[str, tuple[str, ...], float, float, Style]] = []
    for key, title, style, c in headers:
        span = xs[c + 1] + widths[c + 1] - xs[c]
        placed.append((key, _fit(title, span - 2 * PAD, measure), xs[c], span, style))
    header_h = max(_box_height(len(lines), TITLE_LINE_HEIGHT) for _, lines, *_ in placed)
    boxes = [
        Box(key, lines, x, MARGIN, span, header_h, style) for key, lines, x, span, style in placed
    ]
    heights = [max(_box_height(len(texts[k])) for k in row[:columns] if k in texts) for row in ROWS]
    for _, label, first, last in PHASES:
        span = sum(heights[first : last + 1]) + ROW_GAP * (last - first)
        heights[first] += max(0.0, measure(label, TITLE_SIZE, True) + 2 * PAD - span)
    tops = [MARGIN + header_h + ROW_GAP]
    for height in heights[:-1]:
        tops.append(tops[-1] + height + ROW_GAP)
    for row, top, height in zip(ROWS, tops, heights, strict=True):
        for c, key in enumerate(row[:columns]):
            if key in texts:
                h = _box_height(len(texts[key]))
                boxes.append(Box(key, texts[key], xs[c], top + (height - h) / 2, widths[c], h))
    for key, label, first, last in PHASES:
        bottom = tops[last] + heights[last]
        boxes.append(
            Box(key, (label,), MARGIN, tops[first], PHASE_WIDTH, bottom - tops[first], "phase")
        )
    by_key = {b.key: b for b in boxes}
    return Layout(
        width=xs[-1] + widths[-1] + MARGIN,
        height=tops[-1] + heights[-1] + MARGIN,
        boxes=tuple(boxes),
        arrows=tuple(_arrows(by_key)),
    )


def _down(a: Box, b: Box) -> Arrow:
    return Arrow(a.key, b.key, ((a.mid_x, a.bottom), (a.mid_x, b.y)))


def _across(a: Box, b: Box) -> Arrow:
    y = a.mid_y
    return Arrow(a.key, b.key, ((a.right, y), (b.x, y)))


def _arrows(boxes: dict[str, Box]) -> list[Arrow]:
    arrows = []
    main = ["identified", "screened", "sought", "assessed", "included"]
    for upper, lower in itertools.pairwise(main):
        arrows.append(_down(boxes[upper], boxes[lower]))
    for row in ROWS:
        for main_key, side_key in ((row[0], row[1]), (row[2], row[3])):
            if main_key in boxes and side_key in boxes:
                arrows.append(_across(boxes[main_key], boxes[side_key]))
    if "other_identified" in boxes:
        arrows.append(_down(boxes["other_identified"], boxes["other_sought"]))
        arrows.append(_down(boxes["other_sought"], boxes["other_assessed"]))
        start, end = boxes["other_assessed"], boxes["included"]
        arrows.append(
            Arrow(
                start.key,
                end.key,
                ((start.mid_x, start.bottom), (start.mid_x, end.mid_y), (end.right, end.mid_y)),
            )
        )
    return arrows
