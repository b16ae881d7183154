"""One summary of a pooled result, in the words every front end shows (pure).

The terminal table, the forest plot and the report all present a pooled result the same
way: per study its events/n, proportion with CI and weight; per subgroup a subtotal and its
heterogeneity; the overall estimate with the model's name, the prediction interval, the
heterogeneity line (tau² with its Q-profile CI, I² as metafor defines it, Q with df and p;
for the GLMM the Wald-type Q and the likelihood-ratio test),
the test for subgroup differences, and the warnings, each once. This module computes those
rows and lines once; the front ends only lay them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from meta.results import PoolResult, StudyResult, SubgroupResult
from meta.tau2 import qprofile_search_limit

SummaryKind = Literal["study", "group", "subtotal", "overall", "pi"]


@dataclass(frozen=True)
class SummaryRow:
    """One line of a pooled result; intervals on the proportion scale."""

    kind: SummaryKind
    label: str
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    events_n: str = ""
    ci_text: str = ""
    weight: float | None = None
    weight_text: str = ""
    heterogeneity: str = ""
    error: str = ""


@dataclass(frozen=True)
class PooledSummary:
    """A pooled result as rows and lines, ready to lay out."""

    title: str
    model_label: str
    rows: tuple[SummaryRow, ...]
    heterogeneity: str
    subgroup_test: str | None
    group_heterogeneity: tuple[str, ...]
    warnings: tuple[str, ...]
    show_weights: bool
    level: float
    k: int


def pct(value: float) -> str:
    """0.125 -> '12.5'."""
    return f"{100 * value:.1f}"


def interval_text(estimate: float, lower: float, upper: float) -> str:
    """'50.0 [15.7, 84.3]' (percent)."""
    return f"{pct(estimate)} [{pct(lower)}, {pct(upper)}]"


def p_text(value: float) -> str:
    """'= 0.019' or '< 0.001'."""
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def level_percent(level: float) -> str:
    """0.95 -> '95%'."""
    return f"{100 * level:g}%"


def model_label(result: PoolResult) -> str:
    """The name of the pooled estimate's model, as the overall row shows it."""
    if result.method == "GLMM":
        return "GLMM (random intercept), median"
    if result.method == "EE":
        return "Common-effect model"
    return f"Random-effects model ({result.method})"


def model_title(result: PoolResult) -> str:
    """'3 studies; GLMM, median proportion' (or the two-stage method, measure and test)."""
    studies = f"{result.k} {'study' if result.k == 1 else 'studies'}"
    if result.method == "GLMM":
        return f"{studies}; GLMM, median proportion"
    return f"{studies}; {result.method}, measure {result.measure}, test {result.test}"


def heterogeneity_line(result: PoolResult, within: str | None = None) -> str:
    """tau² with its Q-profile CI ('>' when the upper bound is the search limit, as
    metafor's confint prints it; EE fixes it at 0), I² (metafor's definition), Q with df and
    p; for the GLMM both of metafor's tests, the Wald-type Q and the likelihood-ratio test.
    ``within`` names the subgroup the line is about ('Heterogeneity within series: ...')."""
    head = "Heterogeneity" if within is None else f"Heterogeneity within {within}"
    parts: list[str] = []
    if result.method == "EE" and result.tau2 is not None:
        parts.append(f"τ² = {result.tau2:.3g} (fixed by the common-effect model)")
    elif result.tau2 is not None:
        tau2 = f"τ² = {result.tau2:.3g}"
        lower, upper = result.tau2_ci_lower, result.tau2_ci_upper
        if lower is not None and upper is not None:
            censored = upper >= qprofile_search_limit(result.tau2)
            tau2 += f" [{lower:.3g}, {'>' if censored else ''}{upper:.3g}]"
        parts.append(tau2)
    if result.i2 is not None:
        parts.append(f"I² = {result.i2:.1f}%")
    wald = "Wald Q" if result.q_lrt is not None else "Q"
    for name, value, pvalue in (
        (wald, result.q, result.q_pvalue),
        ("LRT", result.q_lrt, result.q_lrt_pvalue),
    ):
        if value is None:
            continue
        test = f"{name} = {value:.2f}"
        if result.q_df is not None:
            test += f", df = {result.q_df}"
        if pvalue is not None:
            test += f", p {p_text(pvalue)}"
        parts.append(test)
    if not parts:
        return f"{head}: not estimable"
    return f"{head}: " + "; ".join(parts)


NOT_POOLED = "not pooled"


def subgroup_test_line(result: SubgroupResult) -> str:
    """The test for subgroup differences (Q-between); when a subgroup could not be pooled,
    which subgroups the test is over, or that it was not computed."""
    pooled = [name for name, _ in result.groups]
    if result.q_between is None or result.q_between_df is None or result.q_between_pvalue is None:
        could = f"only {len(pooled)} subgroup{'' if len(pooled) == 1 else 's'} could be pooled"
        return f"Test for subgroup differences: not computed ({could})"
    over = ""
    if result.failed:
        names = ", ".join(repr(n) for n in pooled)
        over = f" (over the {len(pooled)} subgroups that could be pooled: {names})"
    return (
        f"Test for subgroup differences{over}: Q = {result.q_between:.2f}, "
        f"df = {result.q_between_df}, p {p_text(result.q_between_pvalue)}"
    )


def failed_subtotal_row(name: str, members: Sequence[StudyResult], error: str) -> SummaryRow:
    """The subtotal of a subgroup that could not be pooled: its counts, no estimate."""
    events = sum(s.events for s in members)
    total = sum(s.total for s in members)
    return SummaryRow(
        "subtotal",
        f"Subtotal: {name}",
        events_n=f"{events}/{total}",
        ci_text=NOT_POOLED,
        error=error,
    )


def all_warnings(result: PoolResult | SubgroupResult) -> tuple[str, ...]:
    """Every warning of the result once: the overall's, the subgroup analysis's, then each
    subgroup's own (named) unless the overall already gave it."""
    overall = result.overall if isinstance(result, SubgroupResult) else result
    seen = set(overall.warnings)
    shown = list(overall.warnings)
    if isinstance(result, SubgroupResult):
        shown += [w for w in result.warnings if w not in seen]
        seen.update(result.warnings)
        for name, group in result.groups:
            shown += [f"{name}: {w}" for w in group.warnings if w not in seen]
            seen.update(group.warnings)
    return tuple(dict.fromkeys(shown))


def study_row(study: StudyResult, show_weights: bool) -> SummaryRow:
    """A study's row; weights (percent of the overall model's) only for two-stage models."""
    return SummaryRow(
        "study",
        study.study,
        estimate=study.proportion,
        lower=study.ci_lower,
        upper=study.ci_upper,
        events_n=f"{study.events}/{study.total}",
        ci_text=interval_text(study.proportion, study.ci_lower, study.ci_upper),
        weight=study.weight if show_weights else None,
        weight_text=f"{study.weight:.1f}%" if show_weights and study.weight is not None else "",
    )


def pooled_row(
    kind: SummaryKind,
    label: str,
    result: PoolResult,
    members: Sequence[StudyResult],
    share: float | None,
) -> SummaryRow:
    """A pooled row: the members' summed events/n, the estimate [CI], their weight share."""
    events = sum(s.events for s in members)
    total = sum(s.total for s in members)
    weighted = share is not None and result.method != "GLMM"
    return SummaryRow(
        kind,
        label,
        estimate=result.estimate,
        lower=result.ci_lower,
        upper=result.ci_upper,
        events_n=f"{events}/{total}",
        ci_text=interval_text(result.estimate, result.ci_lower, result.ci_upper),
        weight=share if weighted else None,
        weight_text=f"{share:.1f}%" if weighted else "",
        heterogeneity=heterogeneity_line(result),
    )


def summarise(result: PoolResult | SubgroupResult) -> PooledSummary:
    """The rows and lines of a pooled result (see the module docstring)."""
    overall = result.overall if isinstance(result, SubgroupResult) else result
    show_weights = overall.method != "GLMM"
    rows: list[SummaryRow] = []
    if isinstance(result, SubgroupResult):
        by_name = {s.study: s for s in overall.studies}  # weights in the overall model
        pooled = dict(result.groups)
        failed = {f.name: f.error for f in result.failed}
        for name in result.names:
            rows.append(SummaryRow("group", name))
            if name not in pooled:
                members = list(result.members(name))
                rows.extend(study_row(s, show_weights) for s in members)
                rows.append(failed_subtotal_row(name, members, failed[name]))
                continue
            group = pooled[name]
            members = [by_name.get(s.study, s) for s in group.studies]
            rows.extend(study_row(s, show_weights) for s in members)
            share = sum(s.weight or 0.0 for s in members) if show_weights else None
            rows.append(pooled_row("subtotal", f"Subtotal: {name}", group, members, share))
    else:
        rows.extend(study_row(s, show_weights) for s in overall.studies)
    rows.append(pooled_row("overall", model_label(overall), overall, overall.studies, 100.0))
    if overall.pi_lower is not None and overall.pi_upper is not None:
        rows.append(
            SummaryRow(
                "pi",
                "Prediction interval",
                lower=overall.pi_lower,
                upper=overall.pi_upper,
                ci_text=f"[{pct(overall.pi_lower)}, {pct(overall.pi_upper)}]",
            )
        )
    return PooledSummary(
        title=model_title(overall),
        model_label=model_label(overall),
        rows=tuple(rows),
        heterogeneity=heterogeneity_line(overall),
        subgroup_test=subgroup_test_line(result) if isinstance(result, SubgroupResult) else None,
        group_heterogeneity=tuple(
            heterogeneity_line(group, within=name) for name, group in result.groups
        )
        if isinstance(result, SubgroupResult)
        else (),
        warnings=all_warnings(result),
        show_weights=show_weights,
        level=overall.level,
        k=overall.k,
    )
