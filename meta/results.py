"""Pooling results as plain objects with named fields (as statsmodels' meta_analysis)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meta.types import Measure, Method, Test


@dataclass(frozen=True)
class StudyResult:
    """One study: its counts, proportion with confidence interval, and weight in percent."""

    study: str
    events: int
    total: int
    proportion: float
    ci_lower: float
    ci_upper: float
    weight: float | None
    yi: float | None = None
    vi: float | None = None
    subgroup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "events": self.events,
            "total": self.total,
            "proportion": self.proportion,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "weight": self.weight,
        }


@dataclass(frozen=True)
class PoolResult:
    """A pooled proportion. ``estimate``, CI and PI are on the proportion scale;
    ``estimate_transformed`` and ``se`` on the measure's scale (logit for PLO and GLMM).
    For GLMM the back-transformed estimate is the median proportion, ``q`` is metafor's
    Wald-type QE.Wld and ``q_lrt`` its likelihood-ratio QE.LRT (both on ``q_df``); two-stage
    models have no ``q_lrt``. A value a method does not have is None.
    """

    k: int
    measure: Measure
    method: Method
    test: Test
    level: float
    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float | None
    pi_upper: float | None
    estimate_transformed: float
    se: float
    tau2: float | None
    tau2_ci_lower: float | None
    tau2_ci_upper: float | None
    i2: float | None
    h2: float | None
    q: float | None
    q_df: int | None
    q_pvalue: float | None
    studies: tuple[StudyResult, ...]
    warnings: tuple[str, ...] = ()
    study_ci: str = "CP"
    q_lrt: float | None = None
    q_lrt_pvalue: float | None = None

    @property
    def events(self) -> int:
        """Events summed over the pooled studies (the pooled row's events/n)."""
        return sum(s.events for s in self.studies)

    @property
    def total(self) -> int:
        """Patients summed over the pooled studies."""
        return sum(s.total for s in self.studies)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object of ``casepool pool``: every number the terminal and the
        forest plot show (the tau² interval is metafor's Q-profile one)."""
        return {
            "k": self.k,
            "events": self.events,
            "total": self.total,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "study_ci": self.study_ci,
            "estimate": self.estimate,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "pi_lower": self.pi_lower,
            "pi_upper": self.pi_upper,
            "estimate_transformed": self.estimate_transformed,
            "se": self.se,
            "tau2": self.tau2,
            "tau2_ci_lower": self.tau2_ci_lower,
            "tau2_ci_upper": self.tau2_ci_upper,
            "i2": self.i2,
            "q": self.q,
            "q_df": self.q_df,
            "q_pvalue": self.q_pvalue,
            "q_lrt": self.q_lrt,
            "q_lrt_pvalue": self.q_lrt_pvalue,
            "studies": [s.to_dict() for s in self.studies],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class FailedSubgroup:
    """A subgroup that could not be pooled (e.g. the GLMM on 1/1 and 0/1), with the reason."""

    name: str
    k: int
    error: str


@dataclass(frozen=True)
class SubgroupResult:
    """Pooled results per subgroup, the overall result and the Q-between test.

    ``groups`` are the subgroups that could be pooled, ``failed`` those that could not; the
    Q-between test is over ``groups`` only, and None when fewer than two could be pooled.
    """

    overall: PoolResult
    groups: tuple[tuple[str, PoolResult], ...]
    q_between: float | None
    q_between_df: int | None
    q_between_pvalue: float | None
    warnings: tuple[str, ...] = ()
    failed: tuple[FailedSubgroup, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every subgroup, pooled or failed, in order of first appearance among the studies."""
        known = [name for name, _ in self.groups] + [f.name for f in self.failed]
        seen = [s.subgroup for s in self.overall.studies if s.subgroup in known]
        return tuple(dict.fromkeys([*seen, *known]))

    def members(self, name: str) -> tuple[StudyResult, ...]:
        """The studies of subgroup ``name`` as the overall result has them."""
        return tuple(s for s in self.overall.studies if s.subgroup == name)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object of ``casepool pool --subgroup``: the overall result's keys
        plus ``subgroups`` with each group in order (its result, or ``failed`` and ``error``),
        the Q-between test and the subgroups it is over."""
        pooled = dict(self.groups)
        failed = {f.name: f for f in self.failed}
        groups: list[dict[str, Any]] = []
        for name in self.names:
            if name in pooled:
                groups.append(
                    {"subgroup": name, "failed": False, "error": None, **pooled[name].to_dict()}
                )
            else:
                groups.append(
                    {
                        "subgroup": name,
                        "failed": True,
                        "error": failed[name].error,
                        "k": failed[name].k,
                        "studies": [s.to_dict() for s in self.members(name)],
                    }
                )
        data = self.overall.to_dict()
        data["subgroups"] = {
            "groups": groups,
            "q_between": self.q_between,
            "q_between_df": self.q_between_df,
            "q_between_pvalue": self.q_between_pvalue,
            "q_between_subgroups": [name for name, _ in self.groups],
            "warnings": list(self.warnings),
        }
        return data
