"""``casepool extract``: the studies to extract, rows imported from CSV (all or nothing,
every problem with its place), the trail of a study, dual extraction compared and
resolved, and each study's count for an outcome."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import typer

from review.cli.common import (
    db_option,
    json_option,
    open_review,
    print_json,
    refuse_file,
    review_option,
)
from review.wording import count

if TYPE_CHECKING:
    from review.extract.events import FormName

extract_app = typer.Typer(
    help=(
        "Extract studies: the protocol's study, case (one row per patient) and aggregate "
        "forms; every value an event; counts per study for pooling."
    ),
    no_args_is_help=True,
)
study_app = typer.Typer(help="Register studies to extract.", no_args_is_help=True)
extract_app.add_typer(study_app, name="study")

FORM_HELP = "study, case or aggregate (default: read off the file's header)."


def register(app: typer.Typer) -> None:
    """Add ``casepool extract`` to the root app."""
    app.add_typer(extract_app, name="extract")


def _open(review: Path | None, db: str | None) -> Any:
    return open_review(review, db, uses=("extraction", "outcomes"))


def _form(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in ("study", "case", "aggregate"):
        raise typer.BadParameter(f"{value!r} is not a form; use study, case or aggregate")
    return value


@study_app.command("add")
def study_add(
    label: str | None = typer.Argument(
        None, help="How people know the study, e.g. 'Narváez 2019'.", show_default=False
    ),
    included: bool = typer.Option(
        False, "--included", help="Register every study screening included at full text."
    ),
    cluster: int | None = typer.Option(
        None, "--cluster", help="The screening cluster of its report, when it has one."
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Register a study to extract (the centre's own series, or a report included at
    full text)."""
    if included == (label is not None):
        raise typer.BadParameter(
            "give a LABEL, or --included for the studies screening included",
            param_hint="'LABEL'",
        )
    with _open(review, db) as rv:
        if included:
            added = rv.extraction.add_included()
        else:
            assert label is not None
            added = [rv.extraction.add_study(label, cluster=cluster)]
    if as_json:
        print_json({"added": [s.as_dict() for s in added]})
        return
    if not added:
        typer.echo("Every included study is registered already.")
    for study in added:
        cluster_text = f" (cluster {study.cluster_id})" if study.cluster_id is not None else ""
        typer.echo(f"Registered study {study.id}: {study.label}{cluster_text}.")


@extract_app.command("studies")
def studies(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The studies to extract, with their ids."""
    with _open(review, db) as rv:
        found = rv.extraction.studies()
    if as_json:
        print_json({"studies": [s.as_dict() for s in found]})
        return
    if not found:
        typer.echo("No studies to extract yet; add one with 'casepool extract study add LABEL'.")
        return
    for study in found:
        cluster = f"  (cluster {study.cluster_id})" if study.cluster_id is not None else ""
        typer.echo(f"{study.id:>6}  {study.label}{cluster}")


@extract_app.command("import")
def import_rows(
    file: Path = typer.Argument(
        ..., help="A CSV of study, case or aggregate rows, or a filled template (.xlsx)."
    ),
    extractor: str | None = typer.Option(
        None,
        "--extractor",
        "-u",
        help="Who extracted these values (default: $CASEPOOL_EXTRACTOR).",
        envvar="CASEPOOL_EXTRACTOR",
        show_default=False,
    ),
    form: str | None = typer.Option(None, "--form", help=FORM_HELP, callback=_form),
    add_studies: bool = typer.Option(
        False, "--add-studies", help="Register the studies a study-form file names that are new."
    ),
    partial: bool = typer.Option(
        False,
        "--partial",
        help="Import the valid rows and write the others, with their problems, to --rejects.",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="Where --partial writes the refused rows (default: FILE.rejects.csv beside FILE).",
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        help="auto (CSV or workbook by suffix) or redcap (a REDCap records export, raw or "
        "labelled, made with 'casepool extract dictionary').",
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Import extraction rows (a CSV, or every form sheet of a workbook): every cell is
    checked (type, unit, range, choice, required, 'when', study, duplicate rows) and
    nothing is imported unless all are valid (--partial: the valid rows are). The same
    file again writes nothing; a changed value is a new event. A REDCap records export
    (--format redcap) gives a study row per record and a case row per case instance."""
    from extraction.errors import RedcapImportError
    from review.errors import ExtractImportError

    if fmt not in ("auto", "redcap"):
        raise typer.BadParameter(f"{fmt!r}: use auto or redcap", param_hint="'--format'")
    if not extractor:
        raise typer.BadParameter(
            "say who extracted: --extractor NAME (or set CASEPOOL_EXTRACTOR)",
            param_hint="'--extractor'",
        )
    if rejects is not None and not partial:
        raise typer.BadParameter(
            "--rejects is where --partial writes the rows it leaves out; add --partial",
            param_hint="'--rejects'",
        )
    with _open(review, db) as rv:
        try:
            chosen, done = rv.extraction.import_file(
                file,
                extractor=extractor,
                form=form,
                add_studies=add_studies,
                partial=partial,
                rejects=rejects,
                fmt=cast("Literal['auto', 'redcap']", fmt),
            )
        except (ExtractImportError, RedcapImportError) as exc:
            refuse_file(file.name, exc.problems)
    from review.extract.sheets import rejects_path

    target = rejects_path(file, rejects)
    if as_json:
        where = {"rejects": str(target) if done.rejected else None} if partial else {}
        print_json({"form": chosen, **done.as_dict(), **where})
        return
    added = f"; registered {', '.join(done.studies_added)}" if done.studies_added else ""
    sheets = f" (sheets {chosen})" if file.suffix.lower() == ".xlsx" else ""
    rows = count(done.rows, "row" if sheets else f"{chosen} row")
    typer.echo(
        f"Imported {rows} from {file.name}{sheets}: "
        f"{count(done.written, 'value')} recorded, {done.unchanged:,} unchanged{added}."
    )
    if done.rejected:
        typer.echo(
            f"Left out {count(done.rejected, 'row')} with problems, written to {target}; "
            "correct them there and import that file again."
        )


@extract_app.command("template")
def template(
    out: Path = typer.Option(
        ..., "--out", help="FILE.xlsx (a workbook), or FILE.csv (FILE.study.csv, .case.csv, ...)."
    ),
    studies: str = typer.Option(
        "all",
        "--studies",
        help="all registered studies, or included: those whose report was included at full text.",
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Write the extraction template: a README sheet, then a sheet per form (study, case,
    aggregate) with the studies filled in, dropdowns, range checks, each field's help as its
    input message, required columns marked and the headers frozen."""
    if studies not in ("all", "included"):
        raise typer.BadParameter(f"{studies!r}: use all or included", param_hint="'--studies'")
    with _open(review, db) as rv:
        written = rv.extraction.template(out, studies=cast("Any", studies))
        labels = len(rv.extraction.studies()) if studies == "all" else None
    if as_json:
        print_json({"files": [str(p) for p in written], "studies": studies})
        return
    which = (
        f"{count(labels, 'study', 'studies')} filled in"
        if labels is not None
        else "the included studies filled in"
    )
    typer.echo(f"Wrote {', '.join(str(p) for p in written)} ({which}).")


@extract_app.command("export")
def export(
    out: Path = typer.Option(
        ..., "--out", help="FILE.xlsx (a sheet per table) or FILE.csv (FILE.studies.csv, ...)."
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="csv or xlsx (default: from the --out extension)."
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Export the extraction as tidy tables for R, Stata and SPSS: studies, cases,
    aggregates, outcomes (the count per study), patient_outcomes, appraisal (each item's
    answer) and appraisal_scores; columns named as in the forms, NR kept apart from
    empty."""
    if fmt is not None and fmt not in ("csv", "xlsx"):
        raise typer.BadParameter(f"{fmt!r}: use csv or xlsx", param_hint="'--format'")
    with _open(review, db) as rv:
        written = rv.extraction.export(out, fmt=cast("Any", fmt))
    if as_json:
        print_json({"files": [str(p) for p in written]})
        return
    typer.echo(f"Wrote {', '.join(str(p) for p in written)}.")


@extract_app.command("dictionary")
def dictionary(
    out: Path = typer.Option(
        ..., "--out", "-o", help="The data dictionary CSV to write.", dir_okay=False
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Write the study and case forms as a REDCap data dictionary: REDCap's 18 columns,
    choices coded '1, label | 2, label', 'when' as branching logic, the case form to be
    made a repeating instrument (docs/redcap.md says how to set the project up)."""
    with _open(review, db) as rv:
        written = rv.extraction.write_dictionary(out)
    typer.echo(
        f"Wrote {written}: upload it in REDCap (Project Setup > Data Dictionary), make the "
        "'case' form repeating, and add the missing data code NR (Not reported)."
    )


@extract_app.command("counts")
def counts(
    outcome: str = typer.Option(..., "--outcome", help="The protocol outcome to count."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Each study's count for an outcome: events, patients assessed, patients whose result
    is unknown, and whether it came from patient rows or an aggregate row."""
    with _open(review, db) as rv:
        found = rv.extraction.counts(outcome)
    if as_json:
        print_json({"outcome": outcome, "studies": [c.as_dict() for c in found]})
        return
    if not found:
        typer.echo(f"No study has values for {outcome} yet.")
        return
    typer.echo(f"{'study':<28} {'events':>6} {'n':>5} {'unknown':>8}  from")
    for c in found:
        typer.echo(f"{c.study:<28} {c.events:>6} {c.assessed:>5} {c.unknown:>8}  {c.source}")
        if c.note:
            typer.echo(f"{'':<28} note: {c.note}")


@extract_app.command("history")
def history(
    study: str = typer.Argument(..., help="The study's id or label."),
    field: str | None = typer.Option(None, "--field", help="Only this field."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The trail of a study: every value entered or resolved, by whom and when."""
    with _open(review, db) as rv:
        found, trail = rv.extraction.history(study, field=field)
    if as_json:
        print_json({"study": found.as_dict(), "events": [e.as_dict() for e in trail]})
        return
    typer.echo(f"Study {found.id}: {found.label}")
    if not trail:
        typer.echo("  nothing entered yet")
    for e in trail:
        row = f"[{e.row}]" if e.row else ""
        what = "resolved" if e.kind == "resolve" else "entered"
        typer.echo(
            f"  {e.at}  {e.form}{row}.{e.field} = {e.shown()}  ({what} by {e.person} via {e.via})"
        )


@extract_app.command("compare")
def compare(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Every field where two extractors entered different values."""
    with _open(review, db) as rv:
        found = rv.extraction.compare()
        labels = {s.id: s.label for s in rv.extraction.studies()}
    if as_json:
        print_json({"differences": [s.as_dict() for s in found]})
        return
    if not found:
        typer.echo("No differences between extractors.")
        return
    typer.echo(f"{count(len(found), 'difference')}:")
    for state in found:
        study, form, row, field = state.cell
        entries = "; ".join(f"{p}: {e.shown()}" for p, e in sorted(state.entries.items()))
        where = f"[{row}]" if row else ""
        typer.echo(f"  {labels.get(study, study)}  {form}{where}.{field}  {entries}")
    typer.echo(
        "Resolve each with 'casepool extract resolve STUDY --form F [--row R] --field F "
        "--value V --by NAME'."
    )


@extract_app.command("resolve")
def resolve(
    study: str = typer.Argument(..., help="The study's id or label."),
    field: str = typer.Option(..., "--field", help="The field."),
    value: str = typer.Option(..., "--value", help="The adjudicated value (NR: not reported)."),
    by: str = typer.Option(..., "--by", help="Who adjudicated (recorded)."),
    form: str = typer.Option("study", "--form", help="study, case or aggregate.", callback=_form),
    row: str = typer.Option("", "--row", help="The patient id (case) or outcome (aggregate)."),
    why: str | None = typer.Option(None, "--why", help="Why, in a few words (recorded)."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Record the adjudicated value of one field; analysis uses it from now on."""
    with _open(review, db) as rv:
        event = rv.extraction.resolve(
            study,
            field=field,
            value=value,
            by=by,
            form=form,
            row=row,
            why=why,
            via="cli",
        )
    if as_json:
        print_json(event.as_dict())
        return
    typer.echo(
        f"Resolved {field} of {study}{f' [{row}]' if row else ''}: {event.shown()}, by {by}."
    )


@extract_app.command("enter")
def enter(
    study: str = typer.Option(..., "--study", help="The study's id or label."),
    form: str = typer.Option("case", "--form", help="study, case or aggregate.", callback=_form),
    extractor: str | None = typer.Option(
        None,
        "--extractor",
        "-u",
        help="Who is extracting (default: $CASEPOOL_EXTRACTOR).",
        envvar="CASEPOOL_EXTRACTOR",
        show_default=False,
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Enter one row at the terminal, field by field, with the same checks as an import:
    fields whose 'when' is false are skipped, each value is saved as it is entered (Ctrl-C
    keeps what was saved), Enter keeps what is there, NR means not reported."""
    if not extractor:
        raise typer.BadParameter(
            "say who is extracting: --extractor NAME (or set CASEPOOL_EXTRACTOR)",
            param_hint="'--extractor'",
        )
    name = cast("FormName", form)
    with _open(review, db) as rv:
        entry = _Entry(rv.extraction, rv.extraction.find_study(study), name, extractor)
        typer.echo(
            f"{entry.spec.label} of {entry.study.label} (study {entry.study.id}); "
            "NR = not reported."
        )
        try:
            entry.run()
        except typer.Abort:
            typer.echo(
                f"\nStopped: {count(entry.saved, 'value')} saved (each as it was entered).",
                err=True,
            )
            raise typer.Exit(130) from None
        missing = entry.missing()
    where = f" [{entry.row}]" if entry.row else ""
    typer.echo(f"Saved {count(entry.saved, 'value')} for {entry.study.label}{where}.")
    if missing:
        typer.echo(f"Still required: {', '.join(missing)}.")


class _Entry:
    """One row entered at the terminal: the row's key first, then each field that applies;
    every accepted answer is committed before the next question."""

    def __init__(self, x: Any, study: Any, form: FormName, extractor: str) -> None:
        self.x, self.study, self.form, self.extractor = x, study, form, extractor
        self.spec = x.form(form)
        self.row = ""
        self.saved = 0

    def run(self) -> None:
        fields = list(self.spec.fields)
        key = {"case": fields[0].name, "aggregate": "outcome"}.get(self.form)
        if key is not None:
            field = next(f for f in fields if f.name == key)
            self.row = self._ask_until_saved(field, None, key_only=True)
        for field in fields:
            if field.name == key:
                continue
            if self._applies(field.name) is False:
                continue
            before = self._entered().get(field.name)
            self._ask_until_saved(field, before.shown() if before is not None else None)

    def _entered(self) -> dict[str, Any]:
        return dict(
            self.x.row_values(self.study, form=self.form, row=self.row, extractor=self.extractor)
        )

    def _applies(self, field: str) -> bool | None:
        found: bool | None = self.x.applies(
            self.study, form=self.form, row=self.row, field=field, extractor=self.extractor
        )
        return found

    def _save(self, field: str, text: str) -> None:
        event = self.x.enter_value(
            self.study,
            form=self.form,
            row=self.row,
            field=field,
            value=text,
            extractor=self.extractor,
            via="terminal",
        )
        self.saved += event is not None

    def _ask_until_saved(self, field: Any, current: str | None, *, key_only: bool = False) -> str:
        from review.errors import ExtractError

        while True:
            if field.help:
                typer.echo(f"  {field.help}")
            text = str(
                typer.prompt(_prompt_text(field, current), default="", show_default=False)
            ).strip()
            if not text:
                if key_only or (field.required and current is None):
                    typer.echo(
                        f"  {field.name}: required (write NR if the report does not say)",
                        err=True,
                    )
                    if key_only:
                        continue
                return ""
            try:
                if key_only:
                    self.row = _checked_key(field, text)
                self._save(field.name, text)
            except ExtractError as exc:
                typer.echo(f"  {exc}", err=True)
                continue
            return self.row if key_only else text

    def missing(self) -> list[str]:
        entered = self._entered()
        return [
            f.name
            for f in self.spec.fields
            if f.required and f.name not in entered and self._applies(f.name) is not False
        ]


def _prompt_text(field: Any, current: str | None) -> str:
    unit = f" [{field.unit}]" if field.unit else ""
    choices = field.allowed_values
    options = f" ({' / '.join(choices)})" if choices and len(choices) <= 8 else ""
    if field.type == "multichoice" or len(choices) > 8:
        options = (
            f" (any of: {'; '.join(choices)})"
            if field.type == "multichoice"
            else (f" (one of: {'; '.join(choices)})")
        )
    now = f" <{current}>" if current else ""
    return f"{field.label}{unit}{options}{now}"


def _checked_key(field: Any, text: str) -> str:
    from extraction.values import ValueProblem, parse_value
    from review.errors import ExtractError

    try:
        value = parse_value(field, text)
    except ValueProblem as exc:
        raise ExtractError(str(exc)) from None
    if value is None or value.text is None:
        raise ExtractError(f"{field.name}: a row needs its {field.name}, not NR")
    return value.text
