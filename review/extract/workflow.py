"""Extraction's use cases: register studies, enter rows (all or nothing, every problem
with its place), compare and resolve dual extraction, the trail of a study, and each
study's count for an outcome, derived from its case rows or taken from its aggregate row.

Rows come in as text cells keyed by field name, each with its place (``cases.csv, row
4``); ``extraction.values`` checks them against the protocol's forms. A cell left empty
is not entered and writes nothing; ``NR`` records that the report does not say. A cell
whose value is what the person entered before writes nothing either, so importing the
same file twice is a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from extraction.forms import Form, FormField
from extraction.values import Value, check_row, typed
from review.errors import ExtractError, ExtractImportError
from review.extract.events import Cell, ExtractionEvent, FormName, RowInput, Study, Via
from review.extract.state import CellState, replay
from review.protocol.model import Protocol
from review.screening.events import check_name
from review.store import Store
from review.store import extraction as sql

LABEL_LIMIT = 200
AGGREGATE_FIELDS = ("outcome", "events", "assessed")


@dataclass(frozen=True)
class Entered:
    """What an entry did: values written, values unchanged, rows read, studies added."""

    written: int
    unchanged: int
    rows: int
    studies_added: tuple[str, ...] = ()
    rejected: int = 0
    """Rows a partial import left out (``enter_valid``)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "written": self.written,
            "unchanged": self.unchanged,
            "rows": self.rows,
            "studies_added": list(self.studies_added),
            "rejected": self.rejected,
        }


def forms_of(protocol: Protocol) -> dict[FormName, Form]:
    """The study and case forms, and the aggregate form built from the outcomes."""
    from extraction.forms import Form, FormField

    names = tuple(o.name for o in protocol.outcomes)
    outcome = (
        FormField(name="outcome", label="Outcome", type="choice", choices=names, required=True)
        if len(names) > 1
        else FormField(name="outcome", label="Outcome", type="text", required=True)
    )
    aggregate = Form(
        label="Aggregate outcome (series reported only as totals)",
        fields=(
            outcome,
            FormField(
                name="events",
                label="Patients with the outcome",
                type="integer",
                min=0,
                required=True,
            ),
            FormField(
                name="assessed", label="Patients assessed", type="integer", min=1, required=True
            ),
        ),
    )
    forms = protocol.extraction.forms
    return {"study": forms.study, "case": forms.case, "aggregate": aggregate}


def _row_field(form: FormName, forms: Mapping[FormName, Form]) -> str | None:
    """The field whose value names a row: the case id (the case form's first field) or
    the outcome; the study form has one row."""
    if form == "case":
        return forms["case"].fields[0].name
    if form == "aggregate":
        return "outcome"
    return None


def check_label(label: str) -> str:
    text = label.strip()
    if not text:
        raise ExtractError("give the study's label, e.g. 'Narváez 2019'")
    if len(text) > LABEL_LIMIT or any(ord(c) < 32 for c in text):
        raise ExtractError(f"a study label is one line of at most {LABEL_LIMIT} characters")
    return text


def add_study(
    store: Store, label: str, *, cluster_id: int | None, at: str, by: str | None
) -> Study:
    """Register a study to extract (refused if the label is taken)."""
    from review.store.dedup import membership

    text = check_label(label)
    with store.transaction() as tx:
        known = {s.label.casefold(): s for s in sql.studies(tx)}
        if text.casefold() in known:
            taken = known[text.casefold()]
            raise ExtractError(
                f"a study called {taken.label!r} is already registered (id {taken.id})"
            )
        record_id = None
        if cluster_id is not None:
            current = membership(tx)
            found = current.resolve(cluster_id)
            if found is None:
                raise ExtractError(f"there is no cluster {cluster_id} in this review")
            cluster_id, record_id = found, current.primary_of[found]
        return sql.add_study(tx, text, cluster_id=cluster_id, record_id=record_id, at=at, by=by)


def studies(store: Store) -> list[Study]:
    with store.read() as tx:
        return sql.studies(tx)


def _find(known: Sequence[Study], key: str) -> Study | None:
    text = key.strip()
    if text.isdigit():
        for study in known:
            if study.id == int(text):
                return study
    folded = text.casefold()
    return next((s for s in known if s.label.casefold() == folded), None)


def find_study(store: Store, key: str) -> Study:
    """A study by id or label."""
    found = _find(studies(store), key)
    if found is None:
        raise ExtractError(
            f"there is no study {key!r} to extract; 'casepool extract studies' lists them"
        )
    return found


def _where(row: RowInput, name: str | None) -> str:
    if name is None:
        return row.place
    column = row.columns.get(name, name)
    return f"{row.place}, column {column}"


def value_problems(protocol: Protocol, rows: Sequence[RowInput]) -> list[str]:
    """Each problem of each row's values with its place, read against the forms alone (no
    store: whether the study exists is for ``enter``)."""
    forms = forms_of(protocol)
    outcomes = {o.name for o in protocol.outcomes}
    problems: list[str] = []
    for row in rows:
        values, found = check_row(forms[row.form], row.cells)
        problems.extend(f"{_where(row, p.field)}: {p.message}" for p in found)
        if row.form == "aggregate":
            problems.extend(_aggregate_problems(row, values, outcomes))
    return problems


def enter(
    store: Store,
    protocol: Protocol,
    rows: Sequence[RowInput],
    *,
    person: str,
    at: str,
    via: Via,
    source: str | None = None,
    add_studies: bool = False,
) -> Entered:
    """Check every row, then write every changed value in one transaction; any problem
    anywhere refuses the whole (ExtractImportError with each problem and its place).
    ``add_studies`` registers the study form's rows whose study is new."""
    person = check_name(person, "extractor")
    forms = forms_of(protocol)
    outcomes = {o.name for o in protocol.outcomes}
    problems: list[str] = []
    checked: list[tuple[RowInput, str, dict[str, Value]]] = []
    seen_rows: dict[tuple[str, FormName, str], str] = {}
    with store.transaction() as tx:
        known = sql.studies(tx)
        new_labels: list[str] = []
        # studies a study-form row of this same import adds (their other rows may come first)
        incoming = {r.study.strip().casefold() for r in rows if r.form == "study"}
        for row in rows:
            form = forms[row.form]
            values, found = check_row(form, row.cells)
            problems.extend(f"{_where(row, p.field)}: {p.message}" for p in found)
            if row.form == "aggregate":
                problems.extend(_aggregate_problems(row, values, outcomes))
            study = _find(known, row.study) if row.study.strip() else None
            if not row.study.strip():
                problems.append(f"{_where(row, 'study')}: the study is empty")
                continue
            if study is None:
                if add_studies and row.form == "study":
                    label = row.study.strip()
                    try:
                        check_label(label)
                    except ExtractError as exc:
                        problems.append(f"{_where(row, 'study')}: {exc}")
                        continue
                    if label.casefold() not in {n.casefold() for n in new_labels}:
                        new_labels.append(label)
                elif not (add_studies and row.study.strip().casefold() in incoming):
                    hint = (
                        "add it with 'casepool extract study add LABEL'"
                        if not add_studies
                        else "a study is added by its study-form row"
                    )
                    problems.append(f"{_where(row, 'study')}: unknown study {row.study!r}; {hint}")
                    continue
            key_field = _row_field(row.form, forms)
            key = ""
            if key_field is not None:
                key_value = values.get(key_field)
                if key_value is None or key_value.text is None:
                    continue  # reported above as required
                key = key_value.text
            ident = (row.study.strip().casefold(), row.form, key)
            if ident in seen_rows:
                what = {
                    "study": "study row",
                    "case": f"patient {key!r}",
                    "aggregate": f"outcome {key!r}",
                }
                problems.append(
                    f"{row.place}: {what[row.form]} of study {row.study!r} is also at "
                    f"{seen_rows[ident]}"
                )
                continue
            seen_rows[ident] = row.place
            checked.append((row, key, values))
        if problems:
            raise ExtractImportError(
                f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported",
                tuple(problems),
            )
        for label in new_labels:
            known.append(
                sql.add_study(tx, label, cluster_id=None, record_id=None, at=at, by=person)
            )
        states = replay(sql.events(tx), required=protocol.extraction.extractors)
        written: list[ExtractionEvent] = []
        unchanged = 0
        for row, key, values in checked:
            study = _find(known, row.study)
            assert study is not None
            for name, value in values.items():
                cell: Cell = (study.id, row.form, key, name)
                mine = states.get(cell)
                before = mine.entries.get(person) if mine else None
                if before is not None and (before.status, before.value) == (
                    value.status,
                    value.text,
                ):
                    unchanged += 1
                    continue
                written.append(
                    ExtractionEvent(
                        0,
                        study.id,
                        row.form,
                        key,
                        name,
                        "enter",
                        value.status,
                        value.text,
                        person,
                        at,
                        via,
                        source or row.place,
                    )
                )
        sql.add_events(tx, written)
    return Entered(len(written), unchanged, len(rows), tuple(new_labels))


def _aggregate_problems(
    row: RowInput, values: Mapping[str, Value], outcomes: set[str]
) -> list[str]:
    out = []
    outcome = values.get("outcome")
    if outcome is not None and outcome.text is not None and outcome.text not in outcomes:
        out.append(
            f"{_where(row, 'outcome')}: {outcome.text!r} is not an outcome of the protocol "
            f"({', '.join(sorted(outcomes))})"
        )
    events, assessed = values.get("events"), values.get("assessed")
    if (
        events
        and assessed
        and events.text is not None
        and assessed.text is not None
        and int(events.text) > int(assessed.text)
    ):
        out.append(
            f"{_where(row, 'events')}: {events.text} events of {assessed.text} assessed "
            "is more events than patients"
        )
    for name in ("events", "assessed"):
        value = values.get(name)
        if value is not None and value.status == "not_reported":
            out.append(f"{_where(row, name)}: an aggregate row needs the number, not NR")
    return out


def cell_states(store: Store, protocol: Protocol) -> dict[Cell, CellState]:
    with store.read() as tx:
        return replay(sql.events(tx), required=protocol.extraction.extractors)


def compare(store: Store, protocol: Protocol) -> list[CellState]:
    """Every cell where the extractors differ (dual extraction), in study order."""
    return [s for s in cell_states(store, protocol).values() if s.status == "conflict"]


def resolve(
    store: Store,
    protocol: Protocol,
    *,
    study: str,
    form: FormName,
    row: str,
    field_name: str,
    value: str,
    by: str,
    at: str,
    why: str | None = None,
    via: Via = "api",
) -> ExtractionEvent:
    """Record the adjudicated value of one cell (checked like an entry)."""
    from extraction.values import ValueProblem, parse_value

    by = check_name(by, "person resolving")
    forms = forms_of(protocol)
    fields: dict[str, FormField] = {f.name: f for f in forms[form].fields}
    if field_name not in fields:
        raise ExtractError(f"the {form} form has no field {field_name!r}")
    try:
        parsed = parse_value(fields[field_name], value)
    except ValueProblem as exc:
        raise ExtractError(str(exc)) from None
    with store.transaction() as tx:
        found = _find(sql.studies(tx), study)
        if found is None:
            raise ExtractError(f"there is no study {study!r} to extract")
        cell: Cell = (found.id, form, row, field_name)
        state = replay(sql.events(tx, study_id=found.id), required=protocol.extraction.extractors)
        if cell not in state:
            where = f" row {row!r}" if row else ""
            raise ExtractError(f"nothing was entered for {field_name} in {found.label!r}{where}")
        status = "cleared" if parsed is None else parsed.status
        event = ExtractionEvent(
            0,
            found.id,
            form,
            row,
            field_name,
            "resolve",
            status,
            None if parsed is None else parsed.text,
            by,
            at,
            via,
            why,
        )
        sql.add_events(tx, [event])
    return event


def history(
    store: Store, study: str, *, field_name: str | None = None
) -> tuple[Study, list[ExtractionEvent]]:
    """Every extraction event of a study (of one field when given), oldest first."""
    found = find_study(store, study)
    with store.read() as tx:
        trail = [
            e
            for e in sql.events(tx, study_id=found.id)
            if field_name is None or e.field == field_name
        ]
    return found, trail


# --- one value at a time (terminal entry) ---------------------------------------------


def row_values(
    store: Store, protocol: Protocol, *, study: Study, form: FormName, row: str, person: str
) -> dict[str, ExtractionEvent]:
    """A person's entries in force in one row (field -> event), for entry one field at a
    time: what they entered before is shown and 'when' conditions see it."""
    with store.read() as tx:
        states = replay(sql.events(tx, study_id=study.id), required=protocol.extraction.extractors)
    return {
        cell[3]: state.entries[person]
        for cell, state in states.items()
        if cell[1] == form and cell[2] == row and person in state.entries
    }


def field_applies(
    form: Form, field_name: str, entered: Mapping[str, ExtractionEvent]
) -> bool | None:
    """Whether a field's ``when`` holds for the values entered so far (None: unknown)."""
    from extraction.rules import parse_rule

    fields = {f.name: f for f in form.fields}
    spec = fields[field_name]
    if spec.when is None:
        return True
    seen = {
        name: typed(fields[name], Value(name, "value", e.value) if e.status == "value" else None)
        for name, e in entered.items()
        if name in fields
    }
    result = parse_rule(spec.when).evaluate(seen)
    return None if result is None else bool(result)


def enter_value(
    store: Store,
    protocol: Protocol,
    *,
    study: Study,
    form: FormName,
    row: str,
    field_name: str,
    raw: str,
    person: str,
    at: str,
    via: Via,
) -> ExtractionEvent | None:
    """Check one value and commit it at once (None when it equals the person's entry in
    force, or the cell is left empty); ExtractError when the field does not take it."""
    from extraction.values import ValueProblem, parse_value

    person = check_name(person, "extractor")
    fields = {f.name: f for f in forms_of(protocol)[form].fields}
    if field_name not in fields:
        raise ExtractError(f"the {form} form has no field {field_name!r}")
    try:
        parsed = parse_value(fields[field_name], raw)
    except ValueProblem as exc:
        raise ExtractError(str(exc)) from None
    if parsed is None:
        return None
    entered = row_values(store, protocol, study=study, form=form, row=row, person=person)
    if field_applies(forms_of(protocol)[form], field_name, entered) is False:
        raise ExtractError(f"{field_name}: the field applies only when {fields[field_name].when}")
    before = entered.get(field_name)
    if before is not None and (before.status, before.value) == (parsed.status, parsed.text):
        return None
    event = ExtractionEvent(
        0, study.id, form, row, field_name, "enter", parsed.status, parsed.text, person, at, via
    )
    with store.transaction() as tx:
        sql.add_events(tx, [event])
    return event


@dataclass(frozen=True)
class Rejected:
    """A row a partial import left out, with each of its problems (and their places)."""

    row: RowInput
    problems: tuple[str, ...]


def enter_valid(
    store: Store,
    protocol: Protocol,
    rows: Sequence[RowInput],
    *,
    person: str,
    at: str,
    via: Via,
    source: str | None = None,
    add_studies: bool = False,
) -> tuple[Entered, tuple[Rejected, ...]]:
    """A partial import: the rows ``enter`` finds no problem with are entered (in one
    transaction), the others returned with their problems. ``enter`` does the checking;
    each problem belongs to the row whose place it starts with."""
    places = sorted({r.place for r in rows}, key=len, reverse=True)
    problems_of: dict[str, list[str]] = defaultdict(list)
    remaining = list(rows)
    while True:
        try:
            done = enter(
                store,
                protocol,
                remaining,
                person=person,
                at=at,
                via=via,
                source=source,
                add_studies=add_studies,
            )
        except ExtractImportError as exc:
            found = _problems_by_place(exc.problems, places)
            if not found:
                raise
            for place, problems in found.items():
                problems_of[place].extend(problems)
            remaining = [r for r in remaining if r.place not in found]
            continue
        rejected = tuple(
            Rejected(r, tuple(problems_of[r.place])) for r in rows if r.place in problems_of
        )
        return replace(done, rejected=len(rejected)), rejected


def _problems_by_place(problems: Sequence[str], places: Sequence[str]) -> dict[str, list[str]]:
    """Each problem under the place it names (``places`` longest first, so ``row 12`` is
    not taken for ``row 1``); a problem of no row makes the result empty."""
    out: dict[str, list[str]] = defaultdict(list)
    for problem in problems:
        place = next((p for p in places if problem.startswith((f"{p}:", f"{p}, column "))), None)
        if place is None:
            return {}
        out[place].append(problem)
    return dict(out)


def studies_included(store: Store, protocol: Protocol) -> list[Study]:
    """The registered studies whose report screening included at full text (its cluster
    among ``included_studies``'); a study registered without a cluster (a local series) is
    not among them. Refused while full-text screening is blind."""
    from review.store.dedup import membership

    found = included_studies(store, protocol)
    clusters = {c for cluster, reports in found for c in (cluster, *reports)}
    with store.read() as tx:
        current = membership(tx)
    return [
        s
        for s in studies(store)
        if s.cluster_id is not None and current.resolve(s.cluster_id) in clusters
    ]


# --- the studies screening included ---------------------------------------------------


def included_studies(store: Store, protocol: Protocol) -> list[tuple[int, list[int]]]:
    """The studies included at full text: each study's cluster (the smallest of its
    reports) and its included reports. Refused while full-text screening is blind."""
    from review.errors import BlindError
    from review.screening.events import Stage
    from review.screening.workflow import Settings, snapshot

    settings = Settings.of(protocol)
    view = snapshot(store, settings)
    stage: Stage = "ft" if "ft" in settings.stages else "ta"
    if view.blind[stage]:
        raise BlindError(
            "full-text screening is blind, so what it included is not known yet; a lead "
            f"unblinds it with 'casepool screen unblind --stage {stage} --by LEAD'"
        )
    outcome = "included" if stage == "ft" else "advanced"
    included = [c for c, s in view.states[stage].items() if s.outcome(settings.advance) == outcome]
    grouped: dict[int, list[int]] = defaultdict(list)
    for cluster in sorted(included):
        grouped[view.study_of.get(cluster, cluster)].append(cluster)
    return sorted(grouped.items())


def add_included(store: Store, protocol: Protocol, *, at: str, by: str | None) -> list[Study]:
    """Register each study screening included that is not registered yet, labelled by its
    first author and year (``Daoussis 2012``; ``a``/``b`` where two would be the same)."""
    from review.dedup.clusters import merged_view
    from review.store.dedup import membership
    from review.store.records import records_by_id

    found = included_studies(store, protocol)
    added: list[Study] = []
    with store.transaction() as tx:
        known = sql.studies(tx)
        registered = {s.cluster_id for s in known if s.cluster_id is not None}
        labels = {s.label.casefold() for s in known}
        current = membership(tx)
        for cluster, reports in found:
            if cluster in registered or any(r in registered for r in reports):
                continue
            primary = current.primary_of[cluster]
            members = current.members(cluster)
            records = records_by_id(tx, members)
            record = merged_view([records[primary], *(records[m] for m in members if m != primary)])
            author = next((a.last_name or a.collective_name for a in record.authors), None)
            base = f"{author or 'Cluster'} {record.year or cluster}"
            label, suffix = base, 0
            while label.casefold() in labels:
                suffix += 1
                label = f"{base}{chr(96 + suffix)}" if suffix < 27 else f"{base} ({cluster})"
            labels.add(label.casefold())
            added.append(
                sql.add_study(tx, label, cluster_id=cluster, record_id=primary, at=at, by=by)
            )
    return added
