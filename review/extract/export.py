"""Extraction exported as tidy tables for R, Stata and SPSS: one row per observation,
one column per field, named as in the protocol's forms.

- ``studies``: one row per study (its id, label, screening cluster, study-form fields);
- ``cases``: one row per patient (study id and label, case-form fields);
- ``aggregates``: one row per study and outcome reported only as totals;
- ``outcomes``: one row per study and outcome, the count analysis pools (events,
  assessed, unknown, not assessed, from patient rows or an aggregate row);
- ``patient_outcomes``: one row per patient and outcome, derived from the case row
  (``assessed`` and ``event``: yes, no or unknown; ``event`` empty when not assessed).

Values are those that stand (agreed or resolved in dual extraction; a cell pending or in
conflict is empty). ``NR`` (not reported) is kept as ``NR``, apart from empty (not
entered): read with ``na.strings = c("", "NR")`` in R.

- ``appraisal``: one row per study and item of its appraisal tool, the answer that stands;
- ``appraisal_scores``: per finished appraisal, its yes count among applicable items.

CSV: one file per table, ``NAME.TABLE.csv``; XLSX: a
sheet per table after a ``README`` sheet. Text that a spreadsheet would run as a formula
is neutralised (``tabular.neutralise``).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from extraction.appraisal import Appraisal
from extraction.appraisal_tools import Tool
from extraction.derive import OutcomeRule, StudyCount, patient_outcome
from extraction.forms import Form
from review.errors import ExportError
from review.extract.appraisal import ItemState
from review.extract.events import FormName, Study
from review.extract.outcomes import StudyValues
from review.extract.state import CellState
from review.protocol.model import Protocol
from review.sources.tabular import neutralise
from review.store import Store

TableFormat = Literal["csv", "xlsx"]
Cell = str | int | float | None
OUTCOME_COLUMNS = (
    "study_id",
    "study",
    "outcome",
    "events",
    "assessed",
    "unknown",
    "not_assessed",
    "source",
    "note",
)
TABLES = (
    "studies",
    "cases",
    "aggregates",
    "outcomes",
    "patient_outcomes",
    "appraisal",
    "appraisal_scores",
)


@dataclass(frozen=True)
class Table:
    """One tidy table: its name, column names and rows (None: empty)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[str] = frozenset()
    """Columns of numbers (integer and number fields): numeric cells in a workbook."""


def _natural(key: str) -> tuple[object, ...]:
    """Patient ids in the order people count them: 2 before 10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))


def _numeric(form: Form) -> frozenset[str]:
    return frozenset(f.name for f in form.fields if f.type in ("integer", "number"))


def _three(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def build_tables(
    forms: Mapping[FormName, Form],
    studies: Sequence[Study],
    states: Mapping[tuple[int, FormName, str, str], CellState],
    counts: Sequence[StudyCount],
    values: Sequence[StudyValues],
    outcomes: Sequence[OutcomeRule],
) -> list[Table]:
    """The tables, from the studies, the cells' states, each outcome's counts and the
    typed values that stand (pure)."""
    shown: dict[tuple[int, FormName, str], dict[str, str]] = defaultdict(dict)
    rows_of: dict[tuple[int, FormName], set[str]] = defaultdict(set)
    for (study_id, form, row, name), state in states.items():
        standing = state.standing
        if standing is not None and standing.status != "cleared":
            shown[(study_id, form, row)][name] = standing.shown()
        resolved = state.resolution is not None and state.resolution.status != "cleared"
        if state.entries or resolved:  # a row pending or in conflict is listed, empty
            rows_of[(study_id, form)].add(row)
    study_fields = forms["study"].names
    case_fields = forms["case"].names
    out = [
        Table(
            "studies",
            ("study_id", "study", "cluster", *study_fields),
            tuple(
                (
                    s.id,
                    s.label,
                    s.cluster_id,
                    *(shown[(s.id, "study", "")].get(n) for n in study_fields),
                )
                for s in studies
            ),
            _numeric(forms["study"]),
        )
    ]
    cases = []
    aggregates = []
    for s in studies:
        for row in sorted(rows_of[(s.id, "case")], key=_natural):
            cells = shown[(s.id, "case", row)]
            cases.append((s.id, s.label, row, *(cells.get(n) for n in case_fields[1:])))
        for row in sorted(rows_of[(s.id, "aggregate")]):
            cells = shown[(s.id, "aggregate", row)]
            aggregates.append((s.id, s.label, row, cells.get("events"), cells.get("assessed")))
    out.append(
        Table("cases", ("study_id", "study", *case_fields), tuple(cases), _numeric(forms["case"]))
    )
    out.append(
        Table(
            "aggregates",
            ("study_id", "study", "outcome", "events", "assessed"),
            tuple(aggregates),
            frozenset({"events", "assessed"}),
        )
    )
    ids = {s.label: s.id for s in studies}
    out.append(
        Table(
            "outcomes",
            OUTCOME_COLUMNS,
            tuple(
                (
                    ids[c.study],
                    c.study,
                    c.outcome,
                    c.events,
                    c.assessed,
                    c.unknown,
                    c.not_assessed,
                    c.source,
                    c.note,
                )
                for c in counts
            ),
        )
    )
    derived = {
        (c.study, c.outcome, p.patient): p for c in counts for p in c.patients
    }  # what the counts derived already; a study counted from its aggregate row has none
    patients = []
    for v in values:
        for patient, typed in sorted(v.cases.items(), key=lambda p: _natural(p[0])):
            for rule in outcomes:
                result = derived.get((v.study.label, rule.name, patient)) or patient_outcome(
                    rule, patient, typed
                )
                event = "" if result.assessed is False else _three(result.event)
                patients.append(
                    (v.study.id, v.study.label, patient, rule.name, _three(result.assessed), event)
                )
    out.append(
        Table(
            "patient_outcomes",
            ("study_id", "study", case_fields[0], "outcome", "assessed", "event"),
            tuple(patients),
        )
    )
    return out


def table_paths(path: Path) -> dict[str, Path]:
    """The files a CSV export to ``path`` writes: ``NAME.TABLE.csv`` per table."""
    return {name: path.with_name(f"{path.stem}.{name}.csv") for name in TABLES}


def write_tables(path: Path, tables: Sequence[Table], fmt: TableFormat) -> list[Path]:
    """Write the tables: a workbook at ``path``, or a CSV per table beside it; each file
    appears whole or not at all. The files written."""
    from review.replacing import replacing

    if fmt == "xlsx":
        with replacing(path) as temporary:
            _write_xlsx(temporary, tables)
        return [path]
    targets = table_paths(path)
    for table in tables:
        with replacing(targets[table.name]) as temporary:
            _write_csv(temporary, table)
    return [targets[t.name] for t in tables]


def _write_csv(path: Path, table: Table) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(
                ["" if c is None else neutralise(c) if isinstance(c, str) else c for c in row]
            )


_ABOUT = (
    "Extraction tables: one row per observation, columns named as in the protocol's forms.",
    "studies: one row per study. cases: one row per patient. aggregates: a series' totals "
    "per outcome. outcomes: the count pooled per study and outcome. patient_outcomes: each "
    "patient's outcome derived from the case row.",
    "Empty: not entered (or pending / in conflict in dual extraction). NR: the report does "
    "not say. In R: readxl::read_excel(path, sheet, na = c('', 'NR')).",
    "appraisal: each study's answer per item of its appraisal tool (empty while appraisers "
    "differ). appraisal_scores: yes among the applicable items, per finished appraisal.",
)


def _write_xlsx(path: Path, tables: Sequence[Table]) -> None:
    """A streamed workbook: a README sheet, then a sheet per table with its header frozen
    and bold; number fields as numeric cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    about = book.create_sheet("README")
    for line in _ABOUT:
        about.append([line])
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.name)
        sheet.freeze_panes = "A2"
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        numeric = [c in table.numeric for c in table.columns]
        for row in table.rows:
            sheet.append([_xlsx_cell(c, n) for c, n in zip(row, numeric, strict=True)])
    book.save(path)


def _xlsx_cell(cell: Cell, number: bool) -> Cell:
    """A number field's text as a number (``NR`` stays text); text neutralised."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(cell, str):
        return cell
    if number:
        try:
            value = float(cell)
        except ValueError:
            pass
        else:
            return int(value) if re.fullmatch(r"[+-]?\d+", cell) else value
    return str(ILLEGAL_CHARACTERS_RE.sub("", neutralise(cell)))


def check_format(path: Path, fmt: str | None) -> TableFormat:
    """The format asked for, or read off ``path``'s extension."""
    chosen = fmt or path.suffix.lower().lstrip(".")
    if chosen == "csv":
        return "csv"
    if chosen == "xlsx":
        return "xlsx"
    raise ExportError(f"{path}: say --format csv or --format xlsx (or name the file .csv or .xlsx)")


def appraisal_tables(
    studies: Sequence[Study],
    states: Sequence[ItemState],
    appraisals: Sequence[Appraisal],
    tools: Mapping[str, Tool],
) -> list[Table]:
    """``appraisal``: one row per study and item of its tool, the answer that stands
    (empty while appraisers differ or one is awaited); ``appraisal_scores``: per study
    whose every item stands, its count of yes among the applicable items (pure)."""
    from extraction.appraisal import judge

    order = {s.id: i for i, s in enumerate(studies)}
    ids = {s.label: s.id for s in studies}

    def item_order(state: ItemState) -> tuple[int, str, int]:
        position = tools[state.tool].item_ids.index(state.item)
        return (order.get(state.study.id, len(order)), state.tool, position)

    items = tuple(
        (
            s.study.id,
            s.study.label,
            s.tool,
            s.item,
            tools[s.tool].item(s.item).domain,
            s.standing,
        )
        for s in sorted(states, key=item_order)
    )
    judged = [judge(a) for a in appraisals]
    scores = tuple(
        (ids.get(j.study), j.study, j.tool, j.yes, j.applicable)
        for j in sorted(judged, key=lambda j: (order.get(ids.get(j.study, -1), 0), j.tool))
    )
    return [
        Table("appraisal", ("study_id", "study", "tool", "item", "domain", "answer"), items),
        Table(
            "appraisal_scores",
            ("study_id", "study", "tool", "yes", "applicable"),
            scores,
            frozenset({"yes", "applicable"}),
        ),
    ]


def review_tables(store: Store, protocol: Protocol) -> list[Table]:
    """The tables of a review's extraction and appraisal as they stand."""
    from review.extract.appraisal import final_appraisals, item_states, tool_of
    from review.extract.outcomes import counts_of, standing_values
    from review.extract.workflow import cell_states, forms_of

    rules = [OutcomeRule(o.name, o.rule, o.assessed) for o in protocol.outcomes]
    values = standing_values(store, protocol)
    every = [c for o in protocol.outcomes for c in counts_of(protocol, values, o.name)]
    order = {v.study.label: i for i, v in enumerate(values)}
    every.sort(key=lambda c: order[c.study])
    studies = [v.study for v in values]
    items = item_states(store, protocol)
    done, _ = final_appraisals(store, protocol)
    tools = {name: tool_of(protocol, name) for name in {s.tool for s in items}}
    return [
        *build_tables(
            forms_of(protocol), studies, cell_states(store, protocol), every, values, rules
        ),
        *appraisal_tables(studies, items, done, tools),
    ]
