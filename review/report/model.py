"""The report's model: every section as frozen data, built from the library API only.

``build_report`` asks an open review for its protocol, search log, PRISMA flow, screening
agreement, extraction tables, appraisal summary and each outcome's pooled plan; the
sentences a reader needs (notices, methods, limitations) are worded from what it found by
``statements``. The renderers (``html``, ``markdown``, ``docx``) only lay the model out, so every
format shows the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meta.summary import PooledSummary, interval_text, level_percent, p_text, summarise
from review.report.statements import REFERENCES, limitations, methods, notices, studies_word

if TYPE_CHECKING:
    from extraction.appraisal import AppraisalSummary
    from review.analysis import PlanResult
    from review.api import Review
    from review.prisma.flow import PrismaFlow
    from review.report.changes import Changes, RunDelta

BUNDLED_PROTOCOL = "rtx-ssc-calcinosis.toml"
"""The file name of the bundled worked example's protocol."""

SOFTWARE = ("casepool", "numpy", "scipy", "pymare", "matplotlib", "forestplot", "python-docx")
"""The packages whose versions the methods and provenance name."""


@dataclass(frozen=True)
class TableData:
    """A table as the report shows it: a name (its CSV file), a caption, columns and rows
    of text."""

    name: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    """Numbered notes the rows refer to (1, 2, ...)."""


@dataclass(frozen=True)
class OutcomeSection:
    """One outcome of the analysis plan: its definition, per-study counts, the pooled plan
    (None when it could not be pooled, with ``error``), and the primary model's summary."""

    name: str
    label: str
    definition: str
    counts: TableData
    plan: PlanResult | None
    summary: PooledSummary | None
    sensitivity: TableData | None
    subgroup_lines: tuple[str, ...]
    error: str | None = None

    @property
    def headline(self) -> str:
        """'5/10 patients in 3 studies; pooled % [95% CI]: 50.0 [22.5, 77.5] (GLMM ...)'."""
        if self.plan is None:
            return f"not pooled: {self.error}"
        r = self.plan.primary
        ci = interval_text(r.estimate, r.ci_lower, r.ci_upper)
        return (
            f"{r.events}/{r.total} patients in {r.k} {'study' if r.k == 1 else 'studies'}; "
            f"pooled % [{level_percent(r.level)} CI]: {ci} ({summarise_label(self)})"
        )


def summarise_label(section: OutcomeSection) -> str:
    return section.summary.model_label if section.summary is not None else ""


@dataclass(frozen=True)
class Report:
    """Everything the report says, in the order it says it."""

    title: str
    run_date: str
    notices: tuple[str, ...]
    protocol: TableData
    amendments: TableData
    amendment_diffs: tuple[tuple[str, str], ...]
    """Each amendment's heading and its unified diff from the version before."""
    search_log: tuple[TableData, ...]
    prisma: PrismaFlow | None
    prisma_note: str
    agreement: tuple[TableData, ...]
    agreement_note: str
    studies: TableData
    cases: TableData
    appraisal: tuple[AppraisalSummary, ...]
    appraisal_tables: tuple[TableData, ...]
    appraisal_note: str
    outcomes: tuple[OutcomeSection, ...]
    methods: tuple[str, ...]
    references: tuple[str, ...]
    limitations: tuple[str, ...]
    provenance: TableData
    run_log: tuple[str, ...]
    changes: Changes | None = None
    appraisal_notes: tuple[str, ...] = ()
    """The appraisers' notes, one per study and appraiser ('Study (person): note')."""
    """What the run added (``casepool run`` only; None for a report written on its own)."""

    def results(self) -> dict[str, Any]:
        """``results.json``: each outcome's plan as ``casepool pool --json`` gives its
        primary result (``PoolResult.to_dict``), with subgroups and sensitivity."""
        outcomes = []
        for o in self.outcomes:
            entry: dict[str, Any] = {"outcome": o.name, "label": o.label, "error": o.error}
            if o.plan is not None:
                entry.update(o.plan.to_dict())
            outcomes.append(entry)
        return {"title": self.title, "run_date": self.run_date, "outcomes": outcomes}


# --- building ---------------------------------------------------------------------------


def build_report(
    review: Review,
    run_log: Sequence[str] = (),
    *,
    run_date: str | None = None,
    inputs: Sequence[tuple[str, str]] = (),
    delta: RunDelta | None = None,
) -> Report:
    """The report of ``review`` as it stands; ``run_log`` holds the lines the run printed,
    ``run_date`` the run's time (default: the review's clock), ``inputs`` each input file's
    name and sha256 for the provenance, ``delta`` what the run added."""
    from review.report.changes import build_changes

    when = run_date if run_date is not None else review.clock()
    history = review.protocol_history()
    search = review.search_log()
    flow, blind = _flow(review)
    agreement, agreement_note = _agreement(review)
    tables = {t.name: t for t in review.extraction.tables()}
    summaries, unfinished = review.appraisal.summary()
    fields = _study_fields(tables.get("studies"), review.protocol.analysis.subgroups)
    outcomes = tuple(_outcome(review, name, fields) for name in review.protocol.analysis.outcomes)
    versions = software_versions()
    bundled = bool(history) and history[0].file_name == BUNDLED_PROTOCOL
    return Report(
        title=review.protocol.review.title,
        run_date=when,
        notices=notices(bundled, search, flow, blind, unfinished),
        protocol=_protocol_table(review),
        amendments=_amendments(history),
        amendment_diffs=tuple(
            (
                f"Amendment {v.number} ({v.recorded_at})",
                review.protocol_diff(v.number - 1, v.number),
            )
            for v in history
            if v.number > 1
        ),
        search_log=tuple(_search_table(e) for e in search),
        prisma=flow,
        prisma_note=_prisma_note(flow, blind),
        agreement=agreement,
        agreement_note=agreement_note,
        studies=_export_table(
            tables.get("studies"), "studies", "Characteristics of studies", _labels(review, "study")
        ),
        cases=_export_table(
            tables.get("cases"),
            "cases",
            "Case table (one row per patient)",
            _labels(review, "case"),
        ),
        appraisal=tuple(summaries),
        appraisal_tables=tuple(_appraisal_table(s) for s in summaries),
        appraisal_note=_appraisal_note(summaries, unfinished),
        outcomes=outcomes,
        methods=methods(review, versions),
        references=tuple(REFERENCES.values()),
        limitations=limitations(review, outcomes),
        provenance=_provenance(review, search, inputs, versions, when),
        run_log=tuple(run_log),
        changes=None if delta is None else build_changes(review, delta),
        appraisal_notes=_appraisal_notes(review.appraisal.items()),
    )


def software_versions() -> tuple[tuple[str, str], ...]:
    """The installed version of each package in ``SOFTWARE`` ('not installed' if absent)."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in SOFTWARE:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)


def _flow(review: Review) -> tuple[PrismaFlow | None, tuple[str, ...]]:
    flow, blind = review.screening.flow()
    return flow, tuple(blind)


def _agreement(review: Review) -> tuple[tuple[TableData, ...], str]:
    from review.errors import BlindError
    from review.screening.events import PROTOCOL_STAGES, STAGE_NAMES

    tables = []
    notes = []
    for stage, long in PROTOCOL_STAGES.items():
        if long not in review.protocol.screening.stages:
            continue
        name = STAGE_NAMES[stage]
        try:
            result = review.screening.agreement(stage)
        except BlindError:
            notes.append(f"Agreement at {name} is not available: the stage is still blind.")
            continue
        if not result.compared:
            notes.append(f"Agreement at {name}: no record was screened by two reviewers.")
            continue
        rows = []
        for p in result.pairs:
            k = p.kappa
            kappa = "-" if k.value is None else f"{k.value:.2f}"
            if k.value is not None and k.ci_lower is not None and k.ci_upper is not None:
                kappa += f" [{k.ci_lower:.2f}, {k.ci_upper:.2f}]"
            elif k.value is not None:
                kappa += " [no interval]"
            rows.append(
                (
                    " and ".join(p.raters),
                    str(p.n),
                    _num(p.percent_agreement, "{:.1f}%"),
                    kappa,
                    _num(p.pabak, "{:.2f}"),
                    _num(p.ac1, "{:.2f}"),
                )
            )
        caption = f"Screening agreement at {name}"
        columns = ("Reviewers", "Records", "Agreement", "Cohen's kappa [95% CI]", "PABAK", "AC1")
        tables.append(TableData(f"agreement-{stage}", caption, columns, tuple(rows)))
    return tuple(tables), " ".join(notes)


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _protocol_table(review: Review) -> TableData:
    p = review.protocol
    q = p.review.question
    rows = [("Title", p.review.title)]
    for label, value in (
        ("Population", q.population),
        ("Intervention", q.intervention),
        ("Comparator", q.comparator),
        ("Outcome", q.outcome),
    ):
        if value:
            rows.append((label, str(value)))
    rows += [("Include", "; ".join(p.eligibility.include))]
    rows += [("Exclude", "; ".join(p.eligibility.exclude))]
    if p.search.pubmed is not None:
        rows.append(("PubMed query", " ".join(p.search.pubmed.query.split())))
    rows.append(("Outcomes", "; ".join(o.label for o in p.outcomes)))
    return TableData("protocol", "Protocol summary", ("Item", "Value"), tuple(rows))


def _amendments(history: Sequence[Any]) -> TableData:
    rows = tuple(
        (str(v.number), v.kind, v.recorded_at, v.recorded_by or "-", v.sha256) for v in history
    )
    columns = ("Version", "Kind", "Recorded", "By", "sha256")
    return TableData("protocol-versions", "Protocol versions and amendments", columns, rows)


def _search_table(entry: Any) -> TableData:
    from review.pubmed.log import log_lines

    lines = log_lines(entry)
    heading = lines[0][1]
    # the file's name, not the folder it was loaded from (the same run elsewhere reads alike)
    rows = tuple(
        (label or "", Path(value).name if label == "file" else value.strip())
        for label, value in lines[1:]
    )
    return TableData(f"search-{entry.load_id}", heading, ("Item", "Value"), rows)


def _prisma_note(flow: PrismaFlow | None, blind: Sequence[str]) -> str:
    if flow is None:
        return "No records are in the review yet."
    if not flow.sources:
        return "No records are in the review yet: the diagram shows empty boxes."
    if blind:
        return "Decisions at blind stages are counted as awaiting."
    return ""


def _labels(review: Review, form: Any) -> dict[str, str]:
    """The form's field labels by name (the tables' column headers)."""
    labels = {f.name: f.label or f.name for f in review.extraction.form(form).fields}
    return {"study": "Study", **labels}


def _export_table(table: Any, name: str, caption: str, labels: dict[str, str]) -> TableData:
    if table is None:
        return TableData(name, caption, (), ())
    at = {c: i for i, c in enumerate(table.columns)}
    same = "study_label" in at and all(r[at["study_label"]] == r[at["study"]] for r in table.rows)
    hidden = {"study_id", "cluster", *(["study_label"] if same else [])}
    keep = [i for i, c in enumerate(table.columns) if c not in hidden]
    used = [i for i in keep if any(r[i] not in (None, "") for r in table.rows)]
    rows = tuple(tuple(_cell(r[i]) for i in used) for r in table.rows)
    columns = tuple(labels.get(table.columns[i], table.columns[i]) for i in used)
    return TableData(name, caption, columns, rows)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _appraisal_table(summary: AppraisalSummary) -> TableData:
    tool = summary.tool
    columns = ("Study", *tool.item_ids, "Score")
    rows = tuple((row.study, *row.answers, row.score) for row in summary.rows)
    return TableData(f"appraisal-{tool.name}", f"Appraisal: {tool.name}", columns, rows)


def _appraisal_note(summaries: Sequence[AppraisalSummary], unfinished: Sequence[str]) -> str:
    if not summaries and not unfinished:
        return "Not appraised: no study has an appraisal."
    if unfinished:
        return f"Not finished for {len(unfinished)} {studies_word(len(unfinished))}."
    return ""


def _appraisal_notes(items: Sequence[Any]) -> tuple[str, ...]:
    """Each study's notes by each appraiser, once (a row's note rides on every item)."""
    seen: dict[tuple[str, str, str], None] = {}
    for state in items:
        for person, note in sorted(state.notes.items()):
            seen.setdefault((state.study.label, person, note), None)
    return tuple(f"{study} ({person}): {note}" for study, person, note in seen)


def _study_fields(table: Any, names: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Each subgroup field's standing value per study label (from the studies table)."""
    if table is None:
        return {}
    at = {c: i for i, c in enumerate(table.columns)}
    out: dict[str, dict[str, str | None]] = {}
    for name in names:
        if name not in at:
            continue
        values = {str(r[at["study"]]): r[at[name]] for r in table.rows}
        out[name] = {k: None if v in (None, "") else str(v) for k, v in values.items()}
    return out


def _outcome(review: Review, name: str, fields: dict[str, dict[str, str | None]]) -> OutcomeSection:
    from meta.errors import MetaError

    spec = review.protocol.outcome(name)
    counts = review.extraction.counts(name)
    table = TableData(
        f"counts-{name}",
        f"{spec.label}: per-study counts",
        ("Study", "Events", "Assessed", "Unknown", "Not assessed", "From"),
        tuple(
            (c.study, str(c.events), str(c.assessed), str(c.unknown), str(c.not_assessed), c.source)
            for c in counts
        ),
    )
    try:
        counted = review.extraction.study_counts(name)
        by_study = {
            variable: [values.get(s) for s in counted.studies]
            for variable, values in fields.items()
            if all(values.get(s) is not None for s in counted.studies)
        }
        plan = review.pool_plan(counted, outcome=name, study_fields=by_study)
    except MetaError as exc:
        return OutcomeSection(
            name, spec.label, spec.definition or "", table, None, None, None, (), str(exc)
        )
    return OutcomeSection(
        name,
        spec.label,
        spec.definition or "",
        table,
        plan,
        summarise(plan.primary),
        _sensitivity_table(name, spec.label, plan),
        tuple(_subgroup_line(s) for s in plan.subgroups),
    )


def _subgroup_line(comparison: Any) -> str:
    from meta.summary import subgroup_test_line

    if comparison.result is None:
        return f"By {comparison.variable}: not compared ({comparison.error})"
    return f"By {comparison.variable}: {subgroup_test_line(comparison.result)}"


def _sensitivity_table(name: str, label: str, plan: PlanResult) -> TableData:
    table = plan.sensitivity
    refs, texts = table.notes()
    rows = []
    primary = table.primary
    every = ([primary] if primary is not None else []) + list(table.rows)
    marks = ([""] if primary is not None else []) + list(refs)
    for row, mark in zip(every, marks, strict=True):
        if row.estimate is None or row.ci is None:
            estimate = "not pooled"
        else:
            estimate = interval_text(row.estimate, row.ci[0], row.ci[1])
        label_text = row.label if row is not primary else f"Primary: {row.label}"
        rows.append(
            (
                label_text,
                row.model,
                str(row.k),
                estimate,
                _num(row.tau2, "{:.3g}"),
                _num(row.i2, "{:.1f}%"),
                mark,
            )
        )
    columns = ("Analysis", "Model", "k", "Estimate % [CI]", "τ²", "I²", "Notes")
    caption = f"{label}: sensitivity analyses"
    return TableData(f"sensitivity-{name}", caption, columns, tuple(rows), tuple(texts))


def _provenance(
    review: Review,
    search: Sequence[Any],
    inputs: Sequence[tuple[str, str]],
    versions: Sequence[tuple[str, str]],
    when: str,
) -> TableData:
    rows = [("Run date", when)]
    current = review.protocol_version
    rows.append(("Protocol sha256", f"{current.sha256} (version {current.number})"))
    files = dict(inputs)
    for entry in search:
        if entry.file_name and entry.sha256:
            files.setdefault(Path(entry.file_name).name, entry.sha256)
    rows += [(f"Input {name} sha256", files[name]) for name in sorted(files)]
    rows += [(f"{name} version", v) for name, v in versions]
    return TableData("provenance", "Provenance", ("Item", "Value"), tuple(rows))


def p_value(value: float | None) -> str:
    """'p = 0.019' or '-'."""
    return "-" if value is None else f"p {p_text(value)}"
