"""The protocol's analysis plan applied to one outcome's per-study counts (pure).

The primary model pools every study; each subgroup variable of the plan (a study-form field)
is compared with the Q-between test; the sensitivity analyses run in the plan's order. A
subgroup comparison or a sensitivity row that cannot be computed is reported with its
reason, never dropped: the report shows what the protocol promised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meta.counts import StudyCounts
from meta.errors import MetaError
from meta.progress import Progress
from meta.results import PoolResult, SubgroupResult
from meta.sensitivity import Analysis, SensitivityTable, planned_table
from review.protocol.model import AnalysisPlan, AnalysisSpec


@dataclass(frozen=True)
class SubgroupComparison:
    """One subgroup variable of the plan: its pooled subgroups, or why there are none."""

    variable: str
    result: SubgroupResult | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"variable": self.variable, "error": self.error}
        data["result"] = None if self.result is None else self.result.to_dict()
        return data


@dataclass(frozen=True)
class PlanResult:
    """An outcome pooled as the protocol's analysis plan says."""

    outcome: str | None
    primary: PoolResult
    subgroups: tuple[SubgroupComparison, ...]
    sensitivity: SensitivityTable

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and ``results.json``."""
        return {
            "outcome": self.outcome,
            "primary": self.primary.to_dict(),
            "subgroups": [s.to_dict() for s in self.subgroups],
            "sensitivity": self.sensitivity.to_dict(),
        }


def spec_options(spec: AnalysisSpec) -> dict[str, Any]:
    """The ``meta.pooling.pool`` options of an analysis spec."""
    return {
        "measure": spec.measure,
        "method": spec.method,
        "test": spec.test,
        "study_ci": spec.study_ci,
        "cc": spec.cc,
        "cc_mode": spec.cc_mode,
        "level": spec.level,
    }


def planned_analyses(plan: AnalysisPlan) -> tuple[Analysis, ...]:
    """The plan's sensitivity analyses in ``meta``'s terms, in the plan's order."""
    analyses = []
    for item in plan.sensitivity:
        options: tuple[tuple[str, Any], ...] = ()
        if item.spec is not None:
            spec = spec_options(item.spec)
            options = tuple((k, spec[k]) for k in ("measure", "method", "test", "cc", "cc_mode"))
        analyses.append(Analysis(item.label, item.kind, options, tuple(item.studies)))
    return tuple(analyses)


def pool_plan(
    plan: AnalysisPlan,
    counts: StudyCounts,
    *,
    outcome: str | None = None,
    study_fields: Mapping[str, Sequence[str | None]] | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Pool ``counts`` by the plan: the primary model, each subgroup variable (its values per
    study, in the order of ``counts.studies``, from ``study_fields``) and the sensitivity
    analyses."""
    from meta.pooling import pool
    from meta.subgroups import pool_subgroups

    primary_options = spec_options(plan.primary)
    primary = pool(counts, **primary_options)
    fields = study_fields or {}
    comparisons = []
    for variable in plan.subgroups:
        values = fields.get(variable)
        if values is None:
            reason = f"no values of the study field {variable!r} for these studies"
            comparisons.append(SubgroupComparison(variable, None, reason))
            continue
        labelled = StudyCounts(counts.studies, counts.events, counts.totals, tuple(values))
        try:
            result = pool_subgroups(labelled, **primary_options)
        except MetaError as exc:
            comparisons.append(SubgroupComparison(variable, None, str(exc)))
            continue
        comparisons.append(SubgroupComparison(variable, result))
    table = planned_table(
        counts,
        planned_analyses(plan),
        level=plan.primary.level,
        method=plan.primary.method,
        measure=plan.primary.measure,
        test=plan.primary.test,
        cc=plan.primary.cc,
        cc_mode=plan.primary.cc_mode,
        study_ci=plan.primary.study_ci,
        progress=progress,
    )
    return PlanResult(outcome, primary, tuple(comparisons), table)
