"""Drawing the PRISMA 2020 diagram: SVG text that reads back as the flow's numbers, the
real font's text inside its boxes, PNG and PDF by suffix, atomic writes, a clear error."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from prisma_flows import expected_numbers, flows, numbers, worked_flow

from review.errors import ExportError
from review.prisma.draw import draw_prisma, font_measure, render
from review.prisma.flow import PrismaFlow, ReasonCount, SourceCount
from review.prisma.layout import layout

SVG = "{http://www.w3.org/2000/svg}"


def svg_lines(path: Path) -> list[str]:
    """The text of every <text> element of an SVG, in document order."""
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_text_is_the_layouts_every_line(tmp_path: Path) -> None:
    flow = worked_flow()
    out = draw_prisma(flow, tmp_path / "prisma.svg")
    assert out == tmp_path / "prisma.svg"
    plan = layout(flow, font_measure())
    assert svg_lines(out) == [line.strip() for box in plan.boxes for line in box.lines]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flow=flows())
def test_every_number_in_the_svg_is_the_flows(flow: PrismaFlow, tmp_path: Path) -> None:
    out = draw_prisma(flow, tmp_path / "flow.svg")
    assert numbers(svg_lines(out)) == expected_numbers(flow)


def many_reasons_30000() -> PrismaFlow:
    reasons = tuple(
        ReasonCount(f"r{i}", f"Excluded for reason number {i} of the protocol", 10 + i)
        for i in range(1, 15)
    )
    return dataclasses.replace(
        worked_flow(),
        sources=(
            SourceCount("pubmed", "database", 18_000),
            SourceCount("embase", "database", 12_000),
            SourceCount("local-series", "local", 8),
        ),
        duplicates=9_000,
        records_screened=21_000,
        records_excluded=20_000,
        dbr_sought=1_000,
        dbr_assessed=998,
        dbr_excluded=reasons,
        dbr_included=998 - sum(r.n for r in reasons),
        other_removed=0,
        other_sought=8,
        other_assessed=8,
        other_excluded=(),
        other_included=8,
        new_studies=600,
        new_reports=998 - sum(r.n for r in reasons) + 8,
    )


@pytest.mark.parametrize("flow", [worked_flow(), many_reasons_30000()], ids=["worked", "30000"])
def test_drawn_text_stays_inside_its_box(flow: PrismaFlow) -> None:
    """Measured in the rendered font: no text runs over its box's edge."""
    figure = render(layout(flow, font_measure()))
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    plan = layout(flow, font_measure())
    texts = axes.texts
    boxes = [box for box in plan.boxes for _ in box.lines]
    assert len(texts) == len(boxes)
    for text, box in zip(texts, boxes, strict=True):
        inside = text.get_window_extent(renderer).transformed(axes.transData.inverted())
        x0, x1 = sorted((inside.x0, inside.x1))
        y0, y1 = sorted((inside.y0, inside.y1))
        assert box.x <= x0 and x1 <= box.right, (box.key, text.get_text())
        assert box.y <= y0 and y1 <= box.bottom, (box.key, text.get_text())


@pytest.mark.parametrize(
    ("name", "magic"), [("f.png", b"\x89PNG\r\n\x1a\n"), ("f.PDF", b"%PDF-"), ("f.svg", b"<?xml")]
)
def test_the_suffix_chooses_the_format(tmp_path: Path, name: str, magic: bytes) -> None:
    out = draw_prisma(worked_flow(), tmp_path / name)
    assert out.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_the_same_flow_draws_the_same_svg(tmp_path: Path) -> None:
    a = draw_prisma(worked_flow(), tmp_path / "a.svg").read_bytes()
    b = draw_prisma(worked_flow(), tmp_path / "b.svg").read_bytes()
    assert a == b


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("flow.txt", "flow.txt: the diagram is drawn as .svg, .png or .pdf, not .txt"),
        ("flow", "flow: the diagram is drawn as .svg, .png or .pdf, not no suffix"),
    ],
)
def test_an_unknown_suffix_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(ExportError) as error:
        draw_prisma(worked_flow(), tmp_path / name)
    assert str(error.value) == f"{tmp_path}/{message}"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error:
        draw_prisma(worked_flow(), tmp_path / "no" / "flow.svg")
    assert str(error.value) == (
        f"{tmp_path}/no/flow.svg: the folder {tmp_path}/no does not exist; "
        "create it or choose another"
    )


def test_a_failed_drawing_keeps_the_old_file_and_leaves_no_part_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "prisma.svg"
    out.write_text("the diagram of yesterday")
    from matplotlib.figure import Figure

    def half_then_fail(self: Figure, fname: str, **kwargs: object) -> None:
        Path(fname).write_text("<svg half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        draw_prisma(worked_flow(), out)
    assert out.read_text() == "the diagram of yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["prisma.svg"]
