"""Traffic-light and summary-bar plots: files in each format, their text, and the layout."""

from __future__ import annotations

import itertools
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from extraction.appraisal import (
    BUILT_IN_TOOLS,
    MURAD_2018,
    AppraisalSummary,
    Tool,
    appraise,
    custom_tool,
    summary_table,
)
from extraction.appraisal_plots import (
    COLOURS,
    CONCERN_MARKS,
    draw_summary_bars,
    draw_traffic_light,
    summary_bars_figure,
    traffic_light_figure,
)
from extraction.errors import AppraisalPlotError

MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}
LABELS = ["Narváez 2019 (local series)", "Daoussis & Liossis 2012", "Poormoghim 2016"]


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _summary(tool: Tool = MURAD_2018, n: int = 3) -> AppraisalSummary:
    appraisals = []
    for k in range(n):
        label = LABELS[k] if k < len(LABELS) else f"Study {k:02d} et al. {1990 + k}"
        answers = {
            item.id: item.answers[(k + j) % len(item.answers)] for j, item in enumerate(tool.items)
        }
        appraisals.append(appraise(tool, label, "ann", answers))
    return summary_table(appraisals)


def _svg_text(path: Path) -> str:
    """All text of an SVG (entities decoded), as a reader's screen reader would get it."""
    return " ".join(t for t in ET.parse(path).getroot().itertext())


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
@pytest.mark.parametrize("draw", [draw_traffic_light, draw_summary_bars])
def test_each_plot_is_written_in_the_format_of_its_suffix(
    tmp_path: Path, suffix: str, draw: Any
) -> None:
    path = draw(_summary(), tmp_path / f"plot{suffix.upper() if suffix == '.pdf' else suffix}")
    assert path.read_bytes().startswith(MAGIC[suffix])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("tool", list(BUILT_IN_TOOLS.values()), ids=lambda t: t.name)
def test_the_traffic_light_svg_names_every_study_item_and_the_tools_source(
    tmp_path: Path, tool: Tool
) -> None:
    summary = _summary(tool, n=5)
    text = _svg_text(draw_traffic_light(summary, tmp_path / "tl.svg"))
    for study in summary.studies:
        assert study in text
    for item in tool.item_ids:
        assert item.upper() in text
    doi = tool.citation.split("doi:")[1]
    assert doi in text.replace("\n", " ")
    assert "Not applicable" in text and "Unclear" in text


def test_the_summary_bars_say_whether_they_are_weighted(tmp_path: Path) -> None:
    summary = _summary()
    plain = _svg_text(draw_summary_bars(summary, tmp_path / "plain.svg"))
    assert "murad-2018: 3 studies, each study counts once" in plain
    weights = dict(zip(summary.studies, (1, 2, 7), strict=True))
    weighted = _svg_text(draw_summary_bars(summary, tmp_path / "w.svg", weights))
    assert "murad-2018: 3 studies, weighted by study size (n)" in weighted


def test_the_bars_are_as_long_as_the_weighted_shares() -> None:
    summary = _summary()
    weights = dict(zip(summary.studies, (1, 2, 7), strict=True))
    fig = summary_bars_figure(summary, weights)
    ax = fig.axes[0]
    expected = {
        (round(p.share(a) * 100, 6), COLOURS[a])
        for p in summary.proportions(weights)
        for a, _ in p.shares
        if p.share(a) > 0
    }
    drawn = {(round(bar.get_width(), 6), _hex(bar.get_facecolor())) for bar in ax.patches}
    assert drawn == expected
    for row in range(len(MURAD_2018.items)):
        widths = [b.get_width() for b in ax.patches if round(b.get_y() + b.get_height() / 2) == row]
        assert sum(widths) == pytest.approx(100)


def _hex(rgba: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(c * 255):02X}" for c in rgba[:3])


def test_the_traffic_light_draws_one_circle_per_study_and_item_in_the_answers_colour() -> None:
    summary = _summary(n=4)
    ax = traffic_light_figure(summary).axes[0]
    circles = {(round(line.get_xdata()[0]), round(line.get_ydata()[0])): line for line in ax.lines}
    assert len(circles) == 4 * 8
    for r, row in enumerate(summary.rows):
        for c, answer in enumerate(row.answers):
            assert circles[(c, r)].get_markerfacecolor() == COLOURS[answer]


def test_the_domain_traffic_light_draws_each_studys_concern_per_domain(tmp_path: Path) -> None:
    summary = _summary(n=4)
    ax = traffic_light_figure(summary, by="domain").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(MURAD_2018.domains)
    circles = {(round(line.get_xdata()[0]), round(line.get_ydata()[0])): line for line in ax.lines}
    assert len(circles) == 4 * 4
    for r, row in enumerate(summary.rows):
        for c, concern in enumerate(row.concerns):
            assert circles[(c, r)].get_markerfacecolor() == CONCERN_MARKS[concern].colour
    text = _svg_text(draw_traffic_light(summary, tmp_path / "d.svg", by="domain"))
    assert "causality: Q4, Q5, Q6, Q7" in text and "High concern" in text
    assert "high if any item is answered no" in text


def test_a_traffic_light_by_anything_else_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AppraisalPlotError) as err:
        draw_traffic_light(_summary(), tmp_path / "x.png", by="study")  # type: ignore[arg-type]
    assert str(err.value) == "traffic light by 'study': use 'item' or 'domain'"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [3, 40])
def test_nothing_overlaps_at_3_or_40_studies(n: int) -> None:
    """Study labels do not touch each other, the grid, the legend or the caption, and all of
    it stays inside the figure."""
    figures = (
        traffic_light_figure(_summary(n=n)),
        traffic_light_figure(_summary(n=n), by="domain"),
        summary_bars_figure(_summary(n=n)),
    )
    for fig in figures:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        labels = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
        for upper, lower in itertools.pairwise(labels):
            assert upper.y0 >= lower.y1 - 0.5
        grid = ax.get_window_extent(renderer)
        assert all(label.x1 <= grid.x0 + 1 for label in labels)
        legend = fig.legends[0].get_window_extent(renderer)
        caption = fig.texts[-1].get_window_extent(renderer)
        figure = fig.bbox
        assert legend.y1 <= grid.y0 - 10 and caption.y1 <= legend.y0
        for box in [*labels, legend, caption, grid]:
            assert box.x0 >= figure.x0 and box.x1 <= figure.x1
            assert box.y0 >= figure.y0 and box.y1 <= figure.y1


def test_the_traffic_light_grows_with_the_studies_and_keeps_its_font() -> None:
    small = traffic_light_figure(_summary(n=3))
    large = traffic_light_figure(_summary(n=40))
    assert large.get_figheight() - small.get_figheight() == pytest.approx(37 * 0.30)
    size = {t.get_fontsize() for fig in (small, large) for t in fig.axes[0].get_yticklabels()}
    assert size == {9.0}


def test_domain_names_sit_above_their_items_without_touching() -> None:
    fig = traffic_light_figure(_summary())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    names = [t for t in fig.texts if t.get_text().rstrip(".") and t.get_fontsize() == 7.5][:-1]
    assert [t.get_text() for t in names][1:3] == ["ascertainment", "causality"]
    boxes = sorted((t.get_window_extent(renderer) for t in names), key=lambda b: b.x0)
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0


@pytest.mark.parametrize("name", ["plot.jpg", "plot", "plot.svg.gz"])
def test_an_unknown_format_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    suffix = path.suffix or "(none)"
    with pytest.raises(AppraisalPlotError) as err:
        draw_traffic_light(_summary(), path)
    assert str(err.value) == f"{path}: unknown plot format {suffix!r}; use .png, .svg or .pdf"
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "figures" / "bars.png"
    with pytest.raises(AppraisalPlotError) as err:
        draw_summary_bars(_summary(), path)
    assert str(err.value) == f"{path}: the folder {path.parent} does not exist"


def test_a_plot_replaces_an_older_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "tl.png"
    path.write_bytes(b"old")
    draw_traffic_light(_summary(), path)
    assert path.read_bytes().startswith(MAGIC[".png"])
    assert [p.name for p in tmp_path.iterdir()] == ["tl.png"]


def test_importing_the_plots_module_loads_no_matplotlib() -> None:
    code = "import sys, extraction.appraisal_plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_dollar_signs_in_labels_and_questions_are_text_not_mathematics(tmp_path: Path) -> None:
    tool = custom_tool(
        {
            "name": "local",
            "citation": "Protocol v2 $x^2$ appendix",
            "items": [{"id": "a1", "domain": "cost", "question": "Cost in $ and $ again?"}],
        }
    )
    summary = summary_table([appraise(tool, "Smith $10^3$ 2019", "ann", {"a1": "yes"})])
    for draw in (draw_traffic_light, draw_summary_bars):
        text = _svg_text(draw(summary, tmp_path / "d.svg"))
        assert "Smith $10^3$ 2019" in text or draw is draw_summary_bars
        assert "Protocol v2 $x^2$ appendix" in text
        assert "Cost in $ and $ again?" in text
