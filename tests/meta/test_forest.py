"""Forest plots: files in each format, and the artists drawn (not pixels)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meta.counts import make_counts
from meta.errors import ForestPlotError
from meta.forest import build_figure, draw_forest, draw_sensitivity_forest
from meta.forest_layout import PI_TAU2_ZERO_NOTE, axis_limits, forest_rows, sensitivity_rows
from meta.pooling import pool
from meta.results import PoolResult, SubgroupResult
from meta.sensitivity import sensitivity_table
from meta.subgroups import pool_subgroups

WORKED = make_counts(
    [4, 1, 0], [8, 1, 1], ["Narváez 2019 (local series)", "Daoussis 2012", "Poormoghim 2016"]
)
RARE = make_counts([0, 1, 0, 2, 0, 1], [40, 35, 60, 50, 1, 80], list("ABCDEF"))


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _dl(counts=WORKED) -> PoolResult:  # type: ignore[no-untyped-def]
    return pool(counts, method="DL")


def _as_glmm(result: PoolResult) -> PoolResult:
    """A two-stage result relabelled as GLMM: studies without weights, as pool() gives them."""
    studies = tuple(dataclasses.replace(s, weight=None) for s in result.studies)
    return dataclasses.replace(result, method="GLMM", studies=studies)


def _subgroups() -> SubgroupResult:
    local = make_counts([4], [8], ["Narváez 2019"], ["local series"])
    published = make_counts(
        [1, 0, 2], [1, 1, 3], ["Daoussis", "Poormoghim", "X"], ["published"] * 3
    )
    both = make_counts(
        [4, 1, 0, 2],
        [8, 1, 1, 3],
        ["Narváez 2019", "Daoussis", "Poormoghim", "X"],
        ["local series", "published", "published", "published"],
    )
    groups = (
        ("local series", pool(local, method="DL")),
        ("published", pool(published, method="DL")),
    )
    return SubgroupResult(pool(both, method="DL"), groups, 0.4, 1, 0.53)


def _gids(ax, gid: str) -> list:  # type: ignore[no-untyped-def]
    return [p for p in ax.patches if p.get_gid() == gid]


def _squares(ax):  # type: ignore[no-untyped-def]
    """forestplot's scatter of study estimates: offsets (finite ones) and marker areas."""
    (scatter,) = [c for c in ax.collections if c.get_gid() == "study-squares"]
    offsets = np.asarray(scatter.get_offsets(), dtype=float)
    finite = np.isfinite(offsets).all(axis=1)
    order = np.argsort(-offsets[finite][:, 1])  # top row first, as the studies are listed
    return offsets[finite][order], np.asarray(scatter.get_sizes())[finite][order]


@pytest.mark.parametrize(
    "suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_writes_each_format_by_extension(tmp_path: Path, suffix: str, magic: bytes) -> None:
    path = draw_forest(_dl(), tmp_path / f"forest{suffix}", title="Clinical response")
    assert path == tmp_path / f"forest{suffix}"
    data = path.read_bytes()
    assert data.startswith(magic)
    assert len(data) > 2000


def test_unknown_extension_and_missing_folder_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ForestPlotError) as info:
        draw_forest(_dl(), tmp_path / "forest.jpg")
    assert (
        str(info.value)
        == f"{tmp_path / 'forest.jpg'}: unknown plot format '.jpg'; use .png, .svg or .pdf"
    )
    target = tmp_path / "nowhere" / "forest.png"
    with pytest.raises(ForestPlotError) as info:
        draw_forest(_dl(), target)
    assert str(info.value) == f"{target}: the folder {tmp_path / 'nowhere'} does not exist"


def test_one_row_per_study_plus_header_pooled_pi_and_heterogeneity() -> None:
    fig = build_figure(_dl())
    ax = fig.axes[0]
    labels = [t.get_text().split("  ")[0].strip() for t in ax.get_yticklabels()][::-1]
    assert labels[:6] == [
        "Study",
        "Narváez 2019 (local series)",
        "Daoussis 2012",
        "Poormoghim 2016",
        "Random-effects model (DL)",
        "Prediction interval",
    ]
    offsets, _ = _squares(ax)
    assert len(offsets) == 3
    assert len(_gids(ax, "diamond-overall")) == 1
    assert len(_gids(ax, "diamond-subtotal")) == 0
    assert len(_gids(ax, "prediction-interval")) == 1
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("Heterogeneity: τ² = ") and "I² = " in t for t in texts)
    assert any("I² as in metafor: τ² / (τ² + typical within-study variance)" in t for t in texts)
    assert any("100.0 [2.5, 100.0]" in t for t in texts)


def test_tau2_upper_bound_at_the_search_limit_is_shown_censored_as_metafor() -> None:
    """metafor's confint() on 2/10 and 7/9 (REML): tau^2 2.8484 [0.0592, >100.0000]."""
    censored = pool(make_counts([2, 7], [10, 9]), method="REML")
    texts = [t.get_text() for t in build_figure(censored).axes[0].texts]
    assert (
        "Heterogeneity: τ² = 2.85 [0.0592, >100]; I² = 81.8%; Q = 5.49, df = 1, p = 0.019" in texts
    )
    inside = pool(make_counts([0, 3, 2, 7, 1], [5, 3, 10, 9, 1]), method="REML")
    texts = [t.get_text() for t in build_figure(inside).axes[0].texts]
    assert any(t.startswith("Heterogeneity: τ² = 1.88 [0, 27.4]; ") for t in texts)


def test_long_labels_are_cut_in_the_middle_unless_that_makes_two_the_same() -> None:
    long_a = "A very long study label that goes on and on: Smith, Jones et al. 2019"
    long_b = "A very long study label that goes on and on: Smith, Jones et al. 2020"
    rows = forest_rows(pool(make_counts([1, 3, 2], [5, 3, 4], [long_a, long_b, "C"]), method="DL"))
    labels = [r.label for r in rows.rows if r.kind == "study"]
    assert labels == [
        "A very long study label that goe…nes et al. 2019",
        "A very long study label that goe…nes et al. 2020",
        "C",
    ]
    assert all(len(label) <= 48 for label in labels)
    start, end = "Smith J, Jones K, Brown L, White M et al. ", " (Ann Rheum Dis 2019)"
    differ_inside = [f"{start}first cohort{end}", f"{start}second cohort{end}"]
    rows = forest_rows(pool(make_counts([1, 3], [5, 3], differ_inside), method="DL"))
    assert [r.label for r in rows.rows if r.kind == "study"] == differ_inside


def test_diamond_spans_the_pooled_interval() -> None:
    result = _dl()
    ax = build_figure(result).axes[0]
    (diamond,) = _gids(ax, "diamond-overall")
    xs = diamond.get_xy()[:, 0]
    assert xs.min() == pytest.approx(result.ci_lower)
    assert xs.max() == pytest.approx(result.ci_upper)
    assert xs[1] == pytest.approx(result.estimate)


def test_squares_are_sized_by_weight_and_equal_for_glmm() -> None:
    result = pool(make_counts([5, 20, 3], [10, 100, 8]), method="DL")
    _, sizes = _squares(build_figure(result).axes[0])
    weights = [s.weight for s in result.studies]
    assert np.argmax(sizes) == int(np.argmax(weights))
    assert sizes[1] / sizes[0] == pytest.approx(weights[1] / weights[0])
    ax = build_figure(_as_glmm(result)).axes[0]
    _, sizes = _squares(ax)
    assert len(set(sizes.tolist())) == 1
    texts = [t.get_text() for t in ax.texts]
    assert any("GLMM has no study weights: all squares have the same size." in t for t in texts)
    assert not any(t.strip().startswith("Weight") for t in texts)


def test_arrows_where_study_intervals_leave_the_axis() -> None:
    result = pool(RARE, method="DL")
    layout = forest_rows(result)
    lo, hi = layout.xlim
    assert lo == 0.0 and hi < 0.2
    leaving = [s for s in result.studies if s.ci_upper > hi]
    assert len(leaving) == 4
    ax = build_figure(result).axes[0]
    arrows = _gids(ax, "ci-arrow")
    assert len(arrows) == len(leaving)
    assert ax.get_xlim() == pytest.approx((lo, hi))
    assert not _gids(
        build_figure(pool(make_counts([30, 40], [60, 80]), method="DL")).axes[0], "ci-arrow"
    )


def test_axis_holds_pooled_interval_and_widens_for_study_intervals_when_modest() -> None:
    one = forest_rows(pool(make_counts([4], [8]), method="DL"))
    assert one.xlim == (0.1, 0.9)
    rows = forest_rows(_dl()).rows
    assert axis_limits(rows) == (0.0, 1.0)


def test_subgroups_get_headers_subtotal_diamonds_and_q_between() -> None:
    result = _subgroups()
    layout = forest_rows(result)
    kinds = [r.kind for r in layout.rows]
    assert kinds.count("group") == 2
    assert kinds.count("subtotal") == 2
    assert [r.label for r in layout.rows if r.kind == "subtotal"] == [
        "Subtotal: local series",
        "Subtotal: published",
    ]
    ax = build_figure(result).axes[0]
    assert len(_gids(ax, "diamond-subtotal")) == 2
    assert len(_gids(ax, "diamond-overall")) == 1
    offsets, _ = _squares(ax)
    assert len(offsets) == 4
    texts = [t.get_text() for t in ax.texts]
    assert "Test for subgroup differences: Q = 0.40, df = 1, p = 0.530" in texts
    subtotal_weights = [r.weight_text for r in layout.rows if r.kind == "subtotal"]
    overall_w = {s.study: s.weight for s in result.overall.studies}
    assert subtotal_weights[0] == f"{overall_w['Narváez 2019']:.1f}%"


def test_a_failed_subgroup_has_its_studies_and_no_diamond() -> None:
    counts = make_counts(
        [4, 3, 1, 0], [8, 7, 1, 1], ["A", "B", "C", "D"], ["series", "series", "case", "case"]
    )
    result = pool_subgroups(counts)  # the GLMM cannot fit 1/1 and 0/1
    layout = forest_rows(result)
    subtotals = [r for r in layout.rows if r.kind == "subtotal"]
    assert [(r.label, r.ci_text, r.estimate) for r in subtotals][1] == (
        "Subtotal: case",
        "not pooled",
        None,
    )
    ax = build_figure(result).axes[0]
    assert len(_gids(ax, "diamond-subtotal")) == 1
    offsets, _ = _squares(ax)
    assert len(offsets) == 4
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Not pooled: the reason is in the warnings below" in texts
    assert "Warning: subgroup 'case' not pooled: the GLMM cannot be fitted" in texts
    assert "Test for subgroup differences: not computed (only 1 subgroup could be pooled)" in texts


def test_height_grows_with_studies_and_fonts_stay_the_same() -> None:
    small = build_figure(_dl())
    many = make_counts([i % 7 for i in range(150)], [10 + i % 5 for i in range(150)])
    big = build_figure(pool(many, method="DL"))
    assert big.get_figheight() > 20 * small.get_figheight() / 3
    assert len(big.axes[0].get_yticklabels()) == 150 + 4  # header, pooled, PI, heterogeneity
    sizes = {t.get_fontsize() for f in (small, big) for t in f.axes[0].get_yticklabels()}
    assert sizes == {10.0}


def test_one_study_plot_shows_the_warning() -> None:
    result = pool(make_counts([4], [8]), method="DL")
    ax = build_figure(result).axes[0]
    assert len(_gids(ax, "prediction-interval")) == 0
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Warning: only one study" in texts
    assert "Heterogeneity: not estimable" in texts
    assert "I² as in metafor" not in texts  # no I² shown, so no definition either


def test_drawing_leaves_numpy_error_handling_and_warning_filters_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """forestplot's import ignores all warnings and numpy errors; ours must undo that."""
    import sys
    import warnings

    before = np.geterr()
    result = _dl()  # scipy and friends imported (they add their own filters)
    for name in [m for m in sys.modules if m == "forestplot" or m.startswith("forestplot.")]:
        monkeypatch.delitem(sys.modules, name)  # so this plot imports it afresh
    filters = list(warnings.filters)
    build_figure(result)
    assert "forestplot" in sys.modules
    assert np.geterr() == before
    assert warnings.filters == filters


def test_dollar_signs_in_labels_are_plain_text(tmp_path: Path) -> None:
    counts = make_counts([1, 2], [3, 4], ["Cost $5 $6 study", "B"])
    fig = build_figure(pool(counts, method="DL"))
    labels = [t for t in fig.axes[0].get_yticklabels() if "$5" in t.get_text()]
    assert labels and not labels[0].get_parse_math()
    draw_forest(pool(counts, method="DL"), tmp_path / "dollars.png")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.integers(min_value=1, max_value=60).flatmap(
            lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
        ),
        min_size=1,
        max_size=12,
    )
)
def test_axis_holds_every_point_and_pooled_interval(studies: list[tuple[int, int]]) -> None:
    counts = make_counts([e for e, _ in studies], [n for _, n in studies])
    result = pool(counts, method="DL")
    layout = forest_rows(result)
    lo, hi = layout.xlim
    assert 0.0 <= lo < hi <= 1.0
    for s in result.studies:
        assert lo - 1e-9 <= s.proportion <= hi + 1e-9
    assert lo - 1e-9 <= result.ci_lower and result.ci_upper <= hi + 1e-9
    studies_rows = [r for r in layout.rows if r.kind == "study"]
    assert len(studies_rows) == counts.k


def test_sensitivity_plot_has_one_row_per_analysis_with_its_estimate_and_ci(
    tmp_path: Path,
) -> None:
    """A leave-one-out forest: each analysis's pooled proportion and CI, the primary model's
    estimate as the reference line, failed analyses named with their note."""
    table = sensitivity_table(WORKED, without=["Narváez 2019 (local series)"])
    layout = sensitivity_rows(table)
    analyses = [r for r in layout.rows if r.kind == "study"]
    assert len(analyses) == len(table.rows)
    assert [r.kind for r in layout.rows].count("blank") == 3  # between the kinds of analysis
    assert [r.label for r in analyses][:3] == ["All studies", "", ""]  # shown once
    assert [r.left for r in analyses][:2] == [("GLMM", "3"), ("PLO REML z", "3")]
    refs, notes = table.notes()
    assert [r.right for r in analyses] == [
        ("failed" if row.failed else r.ci_text, ref)
        for r, row, ref in zip(analyses, table.rows, refs, strict=True)
    ]
    loo = analyses[10]  # leave out Daoussis 2012
    assert (loo.estimate, loo.lower, loo.upper) == (table.rows[10].estimate, *table.rows[10].ci)
    assert analyses[9].estimate is None and analyses[9].right[0] == "failed"
    assert table.primary is not None and layout.reference == table.primary.estimate
    assert layout.xlim == (0.0, 1.0)
    assert layout.footnotes[1].startswith(
        "Dashed line: the primary model (GLMM) on all 3 studies, 50.0 [22.5, 77.5]"
    )
    assert layout.footnotes[2:] == tuple(f"{i}. {t}" for i, t in enumerate(notes, start=1))
    ax = build_figure(table).axes[0]
    offsets, _ = _squares(ax)
    assert len(offsets) == len(table.rows) - 2  # two analyses failed
    assert [c for c in ax.collections if c.get_gid() == "reference-line"]
    path = draw_sensitivity_forest(table, tmp_path / "loo.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_squares_at_0_and_100_percent_keep_clear_of_the_text_columns() -> None:
    """The 0% square (0/1) must not touch its events/n text, nor the 100% square its CI."""
    fig = build_figure(pool(make_counts([4, 1, 0], [8, 1, 1], ["A", "B", "C"])))
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()

    def width(text: object, string: str) -> float:
        prop = text.get_fontproperties()  # type: ignore[attr-defined]
        return float(renderer.get_text_width_height_descent(string, prop, ismath=False)[0])

    (scatter,) = [c for c in ax.collections if c.get_gid() == "study-squares"]
    half = np.sqrt(max(scatter.get_sizes())) * fig.dpi / 72 / 2
    left_edge = ax.transData.transform((0.0, 0.0))[0] - half
    right_edge = ax.transData.transform((1.0, 0.0))[0] + half
    label = next(t for t in ax.get_yticklabels() if t.get_text().rstrip().endswith("0/1"))
    ink_end = label.get_window_extent(renderer).x0 + width(label, label.get_text().rstrip())
    ci = next(t for t in ax.texts if t.get_text().strip() == "100.0 [2.5, 100.0]")
    text = ci.get_text()
    ink_start = ci.get_window_extent(renderer).x0 + width(
        ci, text[: len(text) - len(text.lstrip())]
    )
    two_characters = 2 * width(label, "0")
    assert left_edge - ink_end >= two_characters
    assert ink_start - right_edge >= two_characters


def test_prediction_interval_equal_to_the_ci_is_explained_when_tau2_is_zero() -> None:
    zero = pool(WORKED)  # GLMM: tau2 = 0 for 4/8, 1/1, 0/1
    assert zero.tau2 == 0 and (zero.pi_lower, zero.pi_upper) == (zero.ci_lower, zero.ci_upper)
    assert PI_TAU2_ZERO_NOTE in forest_rows(zero).footnotes
    positive = pool(make_counts([2, 7, 5], [10, 9, 12]), method="REML")
    assert positive.tau2 is not None and positive.tau2 > 0
    notes = forest_rows(positive).footnotes
    assert "Bar: prediction interval for the proportion in a new study." in notes
    assert PI_TAU2_ZERO_NOTE not in notes
