"""Sensitivity of a pooled proportion to the model and to which studies are pooled.

One table, as recommended for sparse proportions (Schwarzer et al. 2019, Res Synth Methods
10:476-483): the estimate under the GLMM and the two-stage models (logit with REML and
DL, arcsine and Freeman-Tukey with REML; each with Wald and Hartung-Knapp-Sidik-Jonkman
intervals), then leave-one-out, without single-case reports (n = 1) and without the
studies the user names, each with the primary model. A model that fails on some subset
(e.g. the GLMM does not converge) is a failed row with its reason, not a failed table.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from meta.counts import StudyCounts
from meta.errors import InputDataError, MetaError
from meta.measures import check_cc, check_measure
from meta.pooling import pool
from meta.progress import Progress
from meta.study_ci import check_level, check_study_ci
from meta.types import METHODS, TESTS, CCMode, Measure, Method, StudyCIMethod, Test

MODELS: tuple[tuple[Measure, Method], ...] = (
    ("PLO", "GLMM"),
    ("PLO", "REML"),
    ("PLO", "DL"),
    ("PAS", "REML"),
    ("PFT", "REML"),
)
ALL_STUDIES = "All studies"
WITHOUT_SINGLE_CASES = "Without single-case reports (n = 1)"
NO_SINGLE_CASES = "no study has n = 1: the same studies as all studies"


AnalysisKind = Literal["method", "leave-one-out", "without-single-case-reports", "without"]


@dataclass(frozen=True)
class SensitivityRow:
    """One pooled estimate (proportion scale) with the subset and model it came from; the
    heterogeneity tests as :class:`meta.results.PoolResult` has them (``q_lrt`` for GLMM)."""

    label: str
    method: Method
    measure: Measure
    test: Test
    k: int
    estimate: float | None
    ci: tuple[float, float] | None
    pi: tuple[float, float] | None
    tau2: float | None
    i2: float | None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    q: float | None = None
    q_df: int | None = None
    q_pvalue: float | None = None
    q_lrt: float | None = None
    q_lrt_pvalue: float | None = None
    kind: AnalysisKind = "method"

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def model(self) -> str:
        """A short name of the model, e.g. ``GLMM`` or ``PLO REML knha``."""
        if self.method == "GLMM":
            return "GLMM" if self.test == "z" else f"GLMM {self.test}"
        return f"{self.measure} {self.method} {self.test}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "method": self.method,
            "measure": self.measure,
            "test": self.test,
            "k": self.k,
            "estimate": self.estimate,
            "ci_lower": None if self.ci is None else self.ci[0],
            "ci_upper": None if self.ci is None else self.ci[1],
            "pi_lower": None if self.pi is None else self.pi[0],
            "pi_upper": None if self.pi is None else self.pi[1],
            "tau2": self.tau2,
            "i2": self.i2,
            "q": self.q,
            "q_df": self.q_df,
            "q_pvalue": self.q_pvalue,
            "q_lrt": self.q_lrt,
            "q_lrt_pvalue": self.q_lrt_pvalue,
            "warnings": list(self.warnings),
            "failed": self.failed,
            "error": self.error,
        }


@dataclass(frozen=True)
class SensitivityTable:
    """The rows of a sensitivity analysis, in the order they should be shown, and the
    primary model on all studies (the reference every row is compared with)."""

    rows: tuple[SensitivityRow, ...]
    level: float
    primary: SensitivityRow | None = None
    study_ci: str = "CP"

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object of ``casepool sensitivity``."""
        return {
            "level": self.level,
            "study_ci": self.study_ci,
            "primary": None if self.primary is None else self.primary.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
        }

    def notes(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Each row's notes as numbers ('1,2') and the numbered texts, each text once (a
        failed row's note is 'failed: <reason>'): the terminal and the plot show these."""
        numbers: dict[str, int] = {}
        refs = []
        for row in self.rows:
            texts = [f"failed: {row.error}"] if row.failed else list(row.warnings)
            refs.append(",".join(str(numbers.setdefault(t, len(numbers) + 1)) for t in texts))
        return tuple(refs), tuple(numbers)


@dataclass(frozen=True)
class Analysis:
    """One sensitivity analysis: all studies under another model (``kind`` 'method', with
    its ``options``), or the primary model on fewer studies: each left out in turn, the
    single-case reports (n = 1) left out, or the named ``studies`` left out."""

    label: str
    kind: AnalysisKind
    options: tuple[tuple[str, Any], ...] = ()
    studies: tuple[str, ...] = ()

    def planned_rows(self, k: int) -> int:
        """How many rows the analysis gives for ``k`` studies."""
        return (k if k > 1 else 0) if self.kind == "leave-one-out" else 1


def default_analyses(
    without: Sequence[str] = (), subgroups: Sequence[tuple[str, Sequence[str]]] = ()
) -> tuple[Analysis, ...]:
    """The table of ``casepool sensitivity``: every model of :data:`MODELS` (two-stage ones
    with z and knha) on all studies, then leave-one-out, without n = 1 reports, if given
    without the named studies, and without each of ``subgroups`` (label, its studies) in
    turn."""
    rows: list[Analysis] = []
    for model_measure, model_method in MODELS:
        tests: tuple[Test, ...] = ("z",) if model_method == "GLMM" else ("z", "knha")
        for model_test in tests:
            options = (("measure", model_measure), ("method", model_method), ("test", model_test))
            rows.append(Analysis(ALL_STUDIES, "method", options))
    rows.append(Analysis("Leave one study out", "leave-one-out"))
    rows.append(Analysis(WITHOUT_SINGLE_CASES, "without-single-case-reports"))
    if without:
        label = "Without " + ", ".join(dict.fromkeys(without))
        rows.append(Analysis(label, "without", studies=tuple(without)))
    rows.extend(Analysis(label, "without", studies=tuple(s)) for label, s in subgroups)
    return tuple(rows)


def subgroup_analyses(
    counts: StudyCounts, variable: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Leave one subgroup out: for each subgroup of ``counts`` (in order of first
    appearance) the label 'Without <subgroup> (<variable>)' and its studies."""
    missing = [s for s, g in zip(counts.studies, counts.subgroups, strict=True) if g is None]
    if missing:
        raise InputDataError(
            f"study {missing[0]!r} has no {variable}; label every study ({len(missing)} unlabelled)"
        )
    names = list(dict.fromkeys(g for g in counts.subgroups if g is not None))
    return tuple(
        (
            f"Without {name} ({variable})",
            tuple(s for s, g in zip(counts.studies, counts.subgroups, strict=True) if g == name),
        )
        for name in names
    )


def sensitivity_table(
    counts: StudyCounts,
    *,
    without: Sequence[str] = (),
    level: float = 0.95,
    method: Method = "GLMM",
    measure: Measure = "PLO",
    test: Test = "z",
    cc: float = 0.5,
    cc_mode: CCMode = "only0",
    nodes: int = 7,
    study_ci: StudyCIMethod = "CP",
    subgroup: str | None = None,
    progress: Progress | None = None,
) -> SensitivityTable:
    """Pool ``counts`` under every model of :data:`MODELS` (two-stage ones with z and knha),
    then leave-one-out, without n = 1 reports, without ``without`` and, when ``subgroup``
    names the variable of ``counts.subgroups``, without each subgroup in turn, by the
    primary model (``method``, ``measure``, ``test``). ``study_ci`` is passed to every fit
    (the rows are pooled estimates, so it shows only in the results' studies).
    ``progress`` is told after each row."""
    groups = () if subgroup is None else subgroup_analyses(counts, subgroup)
    return planned_table(
        counts,
        default_analyses(without, groups),
        level=level,
        method=method,
        measure=measure,
        test=test,
        cc=cc,
        cc_mode=cc_mode,
        nodes=nodes,
        study_ci=study_ci,
        progress=progress,
    )


def planned_table(
    counts: StudyCounts,
    analyses: Sequence[Analysis],
    *,
    level: float = 0.95,
    method: Method = "GLMM",
    measure: Measure = "PLO",
    test: Test = "z",
    cc: float = 0.5,
    cc_mode: CCMode = "only0",
    nodes: int = 7,
    study_ci: StudyCIMethod = "CP",
    progress: Progress | None = None,
) -> SensitivityTable:
    """The rows of ``analyses`` in order: a 'method' analysis pools all studies under its
    own options (on top of ``level``, ``cc``, ``cc_mode``), the others pool fewer studies
    under the primary model (``method``, ``measure``, ``test``). The table's ``primary`` is
    the primary model on all studies (a 'method' row of that model if there is one)."""
    _check_primary(level, method, measure, test, cc, cc_mode)
    check_study_ci(study_ci)
    for analysis in analyses:
        missing = [name for name in analysis.studies if name not in counts.studies]
        if missing:
            known = ", ".join(repr(s) for s in counts.studies)
            raise InputDataError(
                f"cannot leave out {', '.join(repr(m) for m in missing)}: no such study; "
                f"the studies are: {known}"
            )
    common: dict[str, Any] = {
        "level": level,
        "cc": cc,
        "cc_mode": cc_mode,
        "nodes": nodes,
        "study_ci": study_ci,
    }
    primary: dict[str, Any] = {"measure": measure, "method": method, "test": test} | common
    rows: list[SensitivityRow] = []
    planned = sum(a.planned_rows(counts.k) for a in analyses)

    def add(row: SensitivityRow) -> None:
        rows.append(row)
        if progress is not None:
            progress("pooling subsets and models", len(rows), planned, "analyses")

    for analysis in analyses:
        if analysis.kind == "method":
            add(_row(analysis.label, counts, primary | dict(analysis.options)))
        elif analysis.kind == "leave-one-out" and counts.k > 1:
            for i, name in enumerate(counts.studies):
                keep = [j for j in range(counts.k) if j != i]
                add(_row(f"Leave out {name}", counts.subset(keep), primary, "leave-one-out"))
        elif analysis.kind == "without-single-case-reports":
            add(_without_single_cases(counts, primary, analysis.label))
        elif analysis.kind == "without":
            keep = [j for j, name in enumerate(counts.studies) if name not in analysis.studies]
            if keep:
                add(_row(analysis.label, counts.subset(keep), primary, "without"))
            else:
                add(_failed(analysis.label, primary, 0, "no studies left to pool", "without"))
    model = _model_of(primary)
    reference = next(
        (r for r in rows if r.kind == "method" and (r.method, r.measure, r.test) == model), None
    )
    if reference is None:
        reference = _row("All studies", counts, primary)
    return SensitivityTable(rows=tuple(rows), level=level, primary=reference, study_ci=study_ci)


def _model_of(options: dict[str, Any]) -> tuple[str, str, str]:
    """(method, measure, test) of a model; the GLMM's measure is always PLO."""
    method = options["method"]
    return (method, "PLO" if method == "GLMM" else options["measure"], options["test"])


def _check_primary(
    level: float, method: str, measure: str, test: str, cc: float, cc_mode: str
) -> None:
    """Bad options are one error for the whole table, not a failure in every row."""
    check_level(level)
    check_measure(measure)
    check_cc(cc, cc_mode)
    if method not in METHODS:
        raise InputDataError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if test not in TESTS:
        raise InputDataError(f"unknown test {test!r}; use one of {', '.join(TESTS)}")


def _without_single_cases(
    counts: StudyCounts, primary: dict[str, Any], label: str = WITHOUT_SINGLE_CASES
) -> SensitivityRow:
    kind: AnalysisKind = "without-single-case-reports"
    keep = [j for j, n in enumerate(counts.totals) if n > 1]
    if not keep:
        return _failed(label, primary, 0, "every study is a single-case report", kind)
    row = _row(label, counts.subset(keep), primary, kind)
    if len(keep) == counts.k:
        return _with_warning(row, NO_SINGLE_CASES)
    return row


def _row(
    label: str, counts: StudyCounts, options: dict[str, Any], kind: AnalysisKind = "method"
) -> SensitivityRow:
    """Pool one subset by one model; a failure becomes a failed row with its reason."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = pool(counts, **options)
        except (MetaError, ArithmeticError, ValueError) as exc:
            return _failed(label, options, counts.k, str(exc) or type(exc).__name__, kind)
    notes = list(result.warnings) + [str(w.message) for w in caught]
    pi = (
        None
        if result.pi_lower is None or result.pi_upper is None
        else (result.pi_lower, result.pi_upper)
    )
    return SensitivityRow(
        label=label,
        method=result.method,
        measure=result.measure,
        test=result.test,
        k=result.k,
        estimate=result.estimate,
        ci=(result.ci_lower, result.ci_upper),
        pi=pi,
        tau2=result.tau2,
        i2=result.i2,
        warnings=tuple(dict.fromkeys(notes)),
        q=result.q,
        q_df=result.q_df,
        q_pvalue=result.q_pvalue,
        q_lrt=result.q_lrt,
        q_lrt_pvalue=result.q_lrt_pvalue,
        kind=kind,
    )


def _failed(
    label: str, options: dict[str, Any], k: int, reason: str, kind: AnalysisKind = "method"
) -> SensitivityRow:
    return SensitivityRow(
        label=label,
        method=options["method"],
        measure="PLO" if options["method"] == "GLMM" else options["measure"],
        test=options["test"],
        k=k,
        estimate=None,
        ci=None,
        pi=None,
        tau2=None,
        i2=None,
        error=reason,
        kind=kind,
    )


def _with_warning(row: SensitivityRow, note: str) -> SensitivityRow:
    from dataclasses import replace

    return replace(row, warnings=(note, *row.warnings))
