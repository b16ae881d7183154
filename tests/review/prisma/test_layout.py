"""The PRISMA 2020 diagram's layout (pure): the template's boxes and words, sized to their
text, the right column only with other methods, waiting records only when there are any."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from prisma_flows import expected_numbers, flows, numbers, worked_flow

from review.prisma.flow import PrismaFlow, ReasonCount, SourceCount
from review.prisma.layout import (
    FONT_SIZE,
    PAD,
    WRAP,
    box_texts,
    estimate,
    layout,
    line_width,
)


def test_worked_flow_has_the_templates_boxes_in_its_words() -> None:
    assert box_texts(worked_flow()) == {
        "identified": (
            "Records identified from:",
            "Databases (n = 200)",
            "  pubmed (n = 120)",
            "  embase (n = 80)",
            "Registers (n = 0)",
        ),
        "removed": (
            "Records removed before screening:",
            "  Duplicate records removed (n = 50)",
            "  Records marked as ineligible by automation tools (n = 0)",
            "  Records removed for other reasons (n = 0)",
        ),
        "screened": ("Records screened (n = 150)",),
        "records_excluded": ("Records excluded (n = 120)",),
        "sought": ("Reports sought for retrieval (n = 30)",),
        "not_retrieved": ("Reports not retrieved (n = 2)",),
        "assessed": ("Reports assessed for eligibility (n = 28)",),
        "reports_excluded": (
            "Reports excluded (n = 10):",
            "  Not systemic sclerosis (n = 6)",
            "  Not treated with rituximab (n = 4)",
        ),
        "included": ("Studies included in review (n = 25)", "Reports of included studies (n = 27)"),
        "other_identified": (
            "Records identified from:",
            "Citation searching (n = 5)",
            "  reference-lists (n = 5)",
            "Local case series (n = 8)",
            "  local-series (n = 8)",
        ),
        "other_removed": ("Duplicates of records already identified (n = 3)",),
        "other_sought": ("Reports sought for retrieval (n = 10)",),
        "other_not_retrieved": ("Reports not retrieved (n = 0)",),
        "other_assessed": ("Reports assessed for eligibility (n = 10)",),
        "other_excluded": ("Reports excluded (n = 1):", "  No calcinosis (n = 1)"),
    }


def test_worked_flow_has_both_columns_three_phases_and_the_templates_arrows() -> None:
    plan = layout(worked_flow())
    assert plan.keys[:2] == ("header_main", "header_other")
    assert plan.keys[-3:] == ("phase_identification", "phase_screening", "phase_included")
    assert [(a.start, a.end) for a in plan.arrows] == [
        ("identified", "screened"),
        ("screened", "sought"),
        ("sought", "assessed"),
        ("assessed", "included"),
        ("identified", "removed"),
        ("other_identified", "other_removed"),
        ("screened", "records_excluded"),
        ("sought", "not_retrieved"),
        ("other_sought", "other_not_retrieved"),
        ("assessed", "reports_excluded"),
        ("other_assessed", "other_excluded"),
        ("other_identified", "other_sought"),
        ("other_sought", "other_assessed"),
        ("other_assessed", "included"),
    ]
    into_included = plan.arrows[-1].points
    included = plan.box("included")
    assert into_included[-1] == (included.right, included.mid_y)


def pubmed_only(n: int) -> PrismaFlow:
    """A finished review of n PubMed records: a third excluded, the rest included."""
    excluded = n // 3
    return dataclasses.replace(
        worked_flow(),
        sources=(SourceCount("pubmed", "database", n),),
        duplicates=0,
        records_screened=n,
        records_excluded=excluded,
        dbr_sought=n - excluded,
        dbr_not_retrieved=0,
        dbr_assessed=n - excluded,
        dbr_excluded=(),
        dbr_included=n - excluded,
        other_removed=0,
        other_sought=0,
        other_assessed=0,
        other_excluded=(),
        other_included=0,
        new_studies=n - excluded,
        new_reports=n - excluded,
    )


def test_without_other_methods_the_right_column_is_left_out() -> None:
    plan = layout(pubmed_only(3))
    assert not any(key.startswith("other_") or key == "header_other" for key in plan.keys)
    assert plan.box("header_main").right == plan.box("removed").right
    assert plan.width == plan.box("removed").right + 10


def test_thirty_thousand_records_show_thousands_separators_and_widen_the_boxes() -> None:
    small, large = layout(pubmed_only(3)), layout(pubmed_only(30_000))
    assert large.box("identified").lines[1] == "Databases (n = 30,000)"
    assert large.box("screened").lines == ("Records screened (n = 30,000)",)
    assert large.box("records_excluded").lines == ("Records excluded (n = 10,000)",)
    assert large.box("included").lines == (
        "Studies included in review (n = 20,000)",
        "Reports of included studies (n = 20,000)",
    )
    assert large.box("identified").width > small.box("identified").width


def test_waiting_records_are_shown_only_when_there_are_some() -> None:
    flow = dataclasses.replace(
        pubmed_only(30), records_excluded=5, records_awaiting=5, dbr_sought=20
    )
    flow = dataclasses.replace(
        flow, dbr_awaiting_retrieval=4, dbr_assessed=16, dbr_awaiting=6, dbr_included=10
    )
    texts = box_texts(flow)
    assert texts["records_excluded"] == (
        "Records excluded (n = 5)",
        "Records awaiting screening (n = 5)",
    )
    assert texts["not_retrieved"] == (
        "Reports not retrieved (n = 0)",
        "Reports awaiting retrieval (n = 4)",
    )
    assert texts["reports_excluded"] == (
        "Reports excluded (n = 0)",
        "Reports awaiting assessment (n = 6)",
    )
    finished = box_texts(pubmed_only(30))
    assert not any("awaiting" in line for lines in finished.values() for line in lines)


def test_many_exclusion_reasons_make_the_box_and_its_row_taller() -> None:
    reasons = tuple(ReasonCount(f"r{i}", f"Reason number {i}", 1) for i in range(1, 13))
    flow = dataclasses.replace(pubmed_only(30), dbr_excluded=reasons, dbr_included=8)
    plan, before = layout(flow), layout(pubmed_only(30))
    box = plan.box("reports_excluded")
    assert box.lines[0] == "Reports excluded (n = 12):"
    assert box.lines[-1] == "  Reason number 12 (n = 1)"
    assert len(box.lines) == 13
    assert box.height == pytest.approx(13 * 1.3 * FONT_SIZE + 2 * PAD)
    assert box.height > before.box("reports_excluded").height
    # the row grows with it: the box below starts below the taller box
    assert plan.box("included").y > box.bottom
    assert plan.box("assessed").mid_y == pytest.approx(box.mid_y)


def test_a_long_reason_wraps_and_its_count_stays_whole() -> None:
    label = "Case report of a patient whose calcinosis was treated before rituximab was given"
    flow = dataclasses.replace(
        pubmed_only(3), dbr_excluded=(ReasonCount("x", label, 1_234),), dbr_included=0
    )
    lines = layout(flow).box("reports_excluded").lines
    assert lines == (
        "Reports excluded (n = 1,234):",
        "  Case report of a patient whose calcinosis was treated",
        "    before rituximab was given (n = 1,234)",
    )
    assert all(len(line) <= WRAP for line in lines)


@settings(max_examples=200, deadline=None)
@given(flows())
def test_every_number_shown_is_the_flows(flow: PrismaFlow) -> None:
    plan = layout(flow)
    assert numbers([line for box in plan.boxes for line in box.lines]) == expected_numbers(flow)


@settings(max_examples=200, deadline=None)
@given(flows())
def test_boxes_hold_their_text_and_never_overlap(flow: PrismaFlow) -> None:
    plan = layout(flow)
    boxes = plan.boxes
    for box in boxes:
        assert box.x >= 0 and box.right <= plan.width
        assert box.y >= 0 and box.bottom <= plan.height
        if box.style == "box":
            assert all(line_width(line, estimate) + 2 * PAD <= box.width for line in box.lines)
            assert box.height >= len(box.lines) * 1.3 * FONT_SIZE + 2 * PAD
        if box.style == "phase":
            assert estimate(box.lines[0], 10.0, True) + 2 * PAD <= box.height + 1e-9
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a.right <= b.x or b.right <= a.x or a.bottom <= b.y or b.bottom <= a.y
            assert apart, (a.key, b.key)
    for arrow in plan.arrows:
        start, end = plan.box(arrow.start), plan.box(arrow.end)
        (x0, y0), (x1, y1) = arrow.points[0], arrow.points[-1]
        assert (x0, y0) in (
            (start.right, pytest.approx(start.mid_y)),
            (start.mid_x, start.bottom),
        )
        assert (x1, y1) in (
            (end.x, pytest.approx(end.mid_y)),
            (end.right, pytest.approx(end.mid_y)),
            (end.mid_x, end.y),
        )
    main = [plan.box(k) for k in ("identified", "screened", "sought", "assessed", "included")]
    assert all(a.bottom < b.y for a, b in itertools.pairwise(main))
