"""The rows of a forest plot, computed without drawing (the pure part of ``meta.forest``).

Rows follow metafor's ``forest()`` and meta's ``forest.meta``: studies, per subgroup a
header, its studies, a subtotal diamond and its heterogeneity; the overall diamond, the
prediction interval and the heterogeneity line (tau², I² as metafor defines it, Q with
its df and p), then footnotes that name the methods and repeat the result's warnings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from meta.results import PoolResult, SubgroupResult
from meta.sensitivity import SensitivityTable
from meta.summary import NOT_POOLED, interval_text, level_percent, summarise

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
NOT_POOLED_NOTE = "Not pooled: the reason is in the warnings below"
EVENTS_HEADER = "Events / n"
PI_TAU2_ZERO_NOTE = (
    "Bar: prediction interval for the proportion in a new study; with τ² estimated as 0 it "
    "is the same as the pooled estimate's CI (the model sees no differences between studies)."
)
I2_NOTE = "I² as in metafor: τ² / (τ² + typical within-study variance)"
GLMM_TESTS_NOTE = (
    "Heterogeneity tests as metafor's rma.glmm: the Wald-type Q and the likelihood-ratio test "
    "(LRT) of the saturated binomial model (one proportion per study) against one common "
    "proportion."
)
I2_EE_NOTE = "I² as in metafor for a common-effect model: (Q − df) / Q"


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
    left: tuple[str, ...] = ()
    right: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForestLayout:
    """All rows, the x-axis range and the footnotes of one plot. The text columns left of
    the axis (``left_headers``, each row's ``left``) and right of it (``right_headers``,
    ``right``) follow the labels under ``label_header``; ``reference`` is the dashed line."""

    rows: tuple[ForestRow, ...]
    xlim: tuple[float, float]
    show_weights: bool
    footnotes: tuple[str, ...]
    level: float
    reference: float | None
    label_header: str = "Study"
    left_headers: tuple[str, ...] = ()
    right_headers: tuple[str, ...] = ()


def forest_rows(result: PoolResult | SubgroupResult) -> ForestLayout:
    """The rows of a forest plot: the summary's rows (``meta.summary``), with a note under
    each subtotal and the overall estimate, labels cut to fit, and the footnotes."""
    summary = summarise(result)
    studies = short_labels([r.label for r in summary.rows if r.kind == "study"])
    groups = short_labels([r.label for r in summary.rows if r.kind == "group"])
    rows: list[ForestRow] = []
    group = ""
    for row in summary.rows:
        label = row.label
        if row.kind == "study":
            label = studies[row.label]
        elif row.kind == "group":
            group = row.label
            label = groups[group]
        elif row.kind == "subtotal":
            label = f"Subtotal: {groups[group]}"
        right = (row.ci_text, row.weight_text) if summary.show_weights else (row.ci_text,)
        rows.append(
            ForestRow(
                row.kind,
                label,
                estimate=row.estimate,
                lower=row.lower,
                upper=row.upper,
                events_n=row.events_n,
                ci_text=row.ci_text,
                weight_text=row.weight_text,
                weight=row.weight if row.kind == "study" else None,
                left=(row.events_n,),
                right=right,
            )
        )
        if row.kind == "subtotal":
            note = row.heterogeneity or (NOT_POOLED_NOTE if row.error else "")
            rows.append(ForestRow("note", "", note=note))
            rows.append(ForestRow("blank", ""))
    rows.append(ForestRow("note", "", note=summary.heterogeneity))
    if summary.subgroup_test is not None:
        rows.append(ForestRow("note", "", note=summary.subgroup_test))
    overall = result.overall if isinstance(result, SubgroupResult) else result
    ci_header = f"% [{level_percent(overall.level)} CI]"
    return ForestLayout(
        rows=tuple(rows),
        xlim=axis_limits(rows),
        show_weights=summary.show_weights,
        footnotes=_footnotes(result, overall, summary.warnings),
        level=overall.level,
        reference=overall.estimate,
        left_headers=(EVENTS_HEADER,),
        right_headers=(ci_header, "Weight") if summary.show_weights else (ci_header,),
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


def _footnotes(
    result: PoolResult | SubgroupResult, overall: PoolResult, warnings: Sequence[str]
) -> tuple[str, ...]:
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
        notes.append((I2_EE_NOTE if overall.method == "EE" else I2_NOTE) + ".")
    if overall.q_lrt is not None:
        notes.append(GLMM_TESTS_NOTE)
    if overall.method == "GLMM":
        notes.append("GLMM has no study weights: all squares have the same size.")
    else:
        notes.append("Square area is proportional to the study's weight.")
    if overall.pi_lower is not None and overall.pi_upper is not None:
        if overall.tau2 == 0:
            notes.append(PI_TAU2_ZERO_NOTE)
        else:
            notes.append("Bar: prediction interval for the proportion in a new study.")
    notes.extend(f"Warning: {w}" for w in warnings)
    return tuple(notes)


def sensitivity_rows(table: SensitivityTable) -> ForestLayout:
    """The rows of a sensitivity forest plot: one per analysis (each model on all studies,
    each study left out, the subsets) with its pooled estimate and CI, a blank row between
    kinds of analysis, the reference line at the primary model on all studies, and the
    table's numbered notes as footnotes (as R meta's ``forest(metainf(...))`` and the
    leave-one-out plots drawn from metafor's ``leave1out``)."""
    refs, notes = table.notes()
    rows: list[ForestRow] = []
    for i, (row, ref) in enumerate(zip(table.rows, refs, strict=True)):
        if i and row.kind != table.rows[i - 1].kind:
            rows.append(ForestRow("blank", ""))
        if row.failed or row.estimate is None or row.ci is None:
            ci_text = "failed"
            estimate = lower = upper = None
        else:
            ci_text = interval_text(row.estimate, *row.ci)
            estimate, (lower, upper) = row.estimate, row.ci
        rows.append(
            ForestRow(
                "study",
                row.label,
                estimate=estimate,
                lower=lower,
                upper=upper,
                ci_text=ci_text,
                left=(row.model, str(row.k)),
                right=(ci_text, ref),
            )
        )
    labels = short_labels([r.label for r in rows if r.kind == "study"])
    shown: list[ForestRow] = []
    for i, r in enumerate(rows):  # a label repeated on the next rows ('All studies') shows once
        before = rows[i - 1] if i else None
        repeat = r.kind == "study" and before is not None and before.label == r.label
        shown.append(replace(r, label="" if repeat else labels.get(r.label, r.label)))
    rows = shown
    level = level_percent(table.level)
    primary = table.primary
    reference = None if primary is None or primary.failed else primary.estimate
    footnotes = [f"Each row: the pooled proportion of one analysis, with its {level} CI."]
    if primary is not None and reference is not None and primary.ci is not None:
        footnotes.append(
            f"Dashed line: the primary model ({primary.model}) on all {primary.k} studies, "
            f"{interval_text(reference, *primary.ci)}; the leave-one-out rows and the subsets "
            "use it too."
        )
    elif primary is not None:
        footnotes.append(f"The primary model ({primary.model}) on all studies: {NOT_POOLED}.")
    footnotes.extend(f"{number}. {text}" for number, text in enumerate(notes, start=1))
    values = [v for r in rows for v in (r.estimate, r.lower, r.upper) if v is not None]
    return ForestLayout(
        rows=tuple(rows),
        xlim=_round_range(values) if values else (0.0, 1.0),
        show_weights=False,
        footnotes=tuple(footnotes),
        level=table.level,
        reference=reference,
        label_header="Analysis",
        left_headers=("Model", "k"),
        right_headers=(f"% [{level} CI]", "Notes"),
    )
