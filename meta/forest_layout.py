"""The rows of a forest plot, computed without drawing (the pure part of ``meta.forest``).

Rows follow metafor's ``forest()`` and meta's ``forest.meta``: studies, per subgroup a
header, its studies, a subtotal diamond and its heterogeneity; the overall diamond, the
prediction interval and the heterogeneity line (tau², I² as metafor defines it, Q with
its df and p), then footnotes that name the methods and repeat the result's warnings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from meta.results import PoolResult, StudyResult, SubgroupResult
from meta.tau2 import qprofile_search_limit

RowKind = Literal["study", "group", "subtotal", "overall", "pi", "note", "blank"]

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
    labels = short_labels([s.study for s in overall.studies])
    if isinstance(result, SubgroupResult):
        by_name = {s.study: s for s in overall.studies}
        group_labels = short_labels([name for name, _ in result.groups])
        for name, group in result.groups:
            rows.append(ForestRow("group", group_labels[name]))
            members = [by_name.get(s.study, s) for s in group.studies]
            rows.extend(_study_row(s, show_weights, labels.get(s.study)) for s in members)
            share = sum(s.weight or 0.0 for s in members) if show_weights else None
            subtotal = f"Subtotal: {group_labels[name]}"
            rows.append(_pooled_row("subtotal", subtotal, group, share))
            rows.append(ForestRow("note", "", note=_heterogeneity(group)))
            rows.append(ForestRow("blank", ""))
    else:
        rows.extend(_study_row(s, show_weights, labels[s.study]) for s in overall.studies)
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


MAX_LABEL = 48  # a longer study or subgroup label is cut in the middle, so the plot keeps its width


def short_labels(labels: Sequence[str]) -> dict[str, str]:
    """Each label, cut in the middle with '…' when longer than MAX_LABEL (the end usually holds
    the year); all labels stay whole if cutting would make two of them the same."""
    head = MAX_LABEL * 2 // 3
    tail = MAX_LABEL - head - 1
    short = {
        label: label if len(label) <= MAX_LABEL else f"{label[:head].rstrip()}…{label[-tail:]}"
        for label in labels
    }
    return short if len(set(short.values())) == len(short) else {label: label for label in labels}


def _study_row(study: StudyResult, show_weights: bool, label: str | None = None) -> ForestRow:
    return ForestRow(
        "study",
        study.study if label is None else label,
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
        lower, upper = result.tau2_ci_lower, result.tau2_ci_upper
        if lower is not None and upper is not None:
            censored = upper >= qprofile_search_limit(result.tau2)
            tau2 += f" [{lower:.3g}, {'>' if censored else ''}{upper:.3g}]"
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
    level = level_percent(overall.level)
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
    ]
    groups = [g for _, g in result.groups] if isinstance(result, SubgroupResult) else []
    if any(r.i2 is not None for r in (overall, *groups)):
        notes.append(I2_NOTE + ".")
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


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def level_percent(level: float) -> str:
    """0.95 -> "95%"."""
    return f"{100 * level:g}%"
