"""Extraction in a review: the handle ``Review.extraction`` (studies, values entered and
imported, dual extraction, templates and exports, per-study counts and patient rows)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from extraction.derive import StudyCount
    from extraction.forms import Form
    from meta.counts import StudyCounts
    from meta.ipd import IPDFit
    from review.extract.events import ExtractionEvent, FormName, Study
    from review.extract.events import Via as ExtractVia
    from review.extract.export import Table as ExportTable
    from review.extract.outcomes import PatientRows
    from review.extract.state import CellState
    from review.extract.workflow import Entered, RowInput

if TYPE_CHECKING:
    from review.api import Review


class Extraction:
    """The extraction use cases of one review (``review.extraction``): the studies to
    extract, rows entered all or nothing, every value an event, dual extraction compared
    and resolved, and each study's count for an outcome."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.store = review.store
        self.protocol = review.protocol

    def add_study(self, label: str, *, cluster: int | None = None) -> Study:
        """Register a study to extract (the local series, or a report from screening)."""
        from review.extract.workflow import add_study

        return add_study(
            self.store, label, cluster_id=cluster, at=self.review.clock(), by=self.review.actor
        )

    def add_included(self) -> list[Study]:
        """Register every study that screening included at full text and that is not
        registered yet (reports of one study are one study)."""
        from review.extract.workflow import add_included

        return add_included(self.store, self.protocol, at=self.review.clock(), by=self.review.actor)

    def studies(self) -> list[Study]:
        from review.extract.workflow import studies

        return studies(self.store)

    def enter(
        self,
        rows: Sequence[RowInput],
        *,
        extractor: str,
        via: ExtractVia = "api",
        source: str | None = None,
        add_studies: bool = False,
    ) -> Entered:
        """Check every row and write every changed value in one transaction (nothing when
        any row has a problem: ExtractImportError lists them all, with their places)."""
        from review.extract.workflow import enter

        return enter(
            self.store,
            self.protocol,
            rows,
            person=extractor,
            at=self.review.clock(),
            via=via,
            source=source,
            add_studies=add_studies,
        )

    def import_file(
        self,
        path: Path | str,
        *,
        extractor: str,
        form: FormName | None = None,
        add_studies: bool = False,
        partial: bool = False,
        rejects: Path | str | None = None,
        fmt: Literal["auto", "redcap"] = "auto",
    ) -> tuple[str, Entered]:
        """Import an extraction CSV (study, case or aggregate rows; see
        ``review.extract.files``) or workbook (a sheet per form; ``review.extract.sheets``):
        all or nothing; the same file again writes nothing. With ``partial`` the valid rows
        are imported and the others written to ``rejects`` (default ``NAME.rejects.csv``
        beside the file) with their problems. Returns the form read (a workbook's sheets,
        joined with ', ') and what was entered. ``fmt="redcap"`` reads a REDCap records
        export (raw or labelled) made with ``casepool extract dictionary``."""
        from review.extract.files import read_rows
        from review.extract.sheets import entered_rows, read_workbook, rejects_path, write_rejects
        from review.extract.workflow import enter, enter_valid, forms_of

        source = Path(path)
        forms = forms_of(self.protocol)
        chosen: str
        if fmt == "redcap":
            from review.extract.redcap_rows import redcap_rows

            rows = redcap_rows(source, self.protocol.extraction.forms)
            chosen = "redcap"
        elif source.suffix.lower() == ".xlsx":
            sheets, rows = read_workbook(source, forms, form=form)
            chosen = ", ".join(sheets)
        else:
            chosen, rows = read_rows(source, forms, form=form)
        rows = entered_rows(rows)
        if not partial:
            done = enter(
                self.store,
                self.protocol,
                rows,
                person=extractor,
                at=self.review.clock(),
                via="spreadsheet",
                add_studies=add_studies,
            )
            return chosen, done
        done, rejected = enter_valid(
            self.store,
            self.protocol,
            rows,
            person=extractor,
            at=self.review.clock(),
            via="spreadsheet",
            add_studies=add_studies,
        )
        if rejected:
            write_rejects(rejects_path(source, rejects), rejected, forms)
        return chosen, done

    def write_dictionary(self, path: Path | str) -> Path:
        """The study and case forms as a REDCap data dictionary (CSV)."""
        from extraction.redcap import write_data_dictionary

        target = Path(path)
        write_data_dictionary(self.protocol.extraction.forms, target)
        return target

    def find_study(self, key: str) -> Study:
        """A study by id or label."""
        from review.extract.workflow import find_study

        return find_study(self.store, key)

    def form(self, name: FormName) -> Form:
        """The study, case or aggregate form."""
        from review.extract.workflow import forms_of

        return forms_of(self.protocol)[name]

    def row_values(
        self, study: Study, *, form: FormName, row: str, extractor: str
    ) -> dict[str, ExtractionEvent]:
        """An extractor's entries in force in one row (field -> event)."""
        from review.extract.workflow import row_values

        return row_values(
            self.store, self.protocol, study=study, form=form, row=row, person=extractor
        )

    def applies(
        self, study: Study, *, form: FormName, row: str, field: str, extractor: str
    ) -> bool | None:
        """Whether a field's ``when`` holds for what the extractor entered in the row."""
        from review.extract.workflow import field_applies

        entered = self.row_values(study, form=form, row=row, extractor=extractor)
        return field_applies(self.form(form), field, entered)

    def enter_value(
        self,
        study: Study,
        *,
        form: FormName,
        row: str,
        field: str,
        value: str,
        extractor: str,
        via: ExtractVia = "api",
    ) -> ExtractionEvent | None:
        """Check one value and commit it at once (None: unchanged or left empty)."""
        from review.extract.workflow import enter_value

        return enter_value(
            self.store,
            self.protocol,
            study=study,
            form=form,
            row=row,
            field_name=field,
            raw=value,
            person=extractor,
            at=self.review.clock(),
            via=via,
        )

    def template(
        self, out: Path | str, *, studies: Literal["all", "included"] = "all"
    ) -> list[Path]:
        """Write the extraction template (``review.extract.sheets``): an XLSX workbook, or
        a CSV per form for a ``.csv`` name, with the studies to extract filled in (every
        registered study, or only those whose report was included at full text)."""
        from review.extract.sheets import write_template
        from review.extract.workflow import forms_of, studies_included
        from review.extract.workflow import studies as registered

        chosen = (
            studies_included(self.store, self.protocol)
            if studies == "included"
            else registered(self.store)
        )
        return write_template(
            Path(out),
            forms_of(self.protocol),
            [s.label for s in chosen],
            title=self.protocol.review.title,
        )

    def tables(self) -> list[ExportTable]:
        """The extraction and appraisal as tidy tables as they stand (what ``export``
        writes), for the report."""
        from review.extract.export import review_tables

        return review_tables(self.store, self.protocol)

    def export(self, out: Path | str, *, fmt: Literal["csv", "xlsx"] | None = None) -> list[Path]:
        """Write the extraction and appraisal as tidy tables (``review.extract.export``:
        studies, cases, aggregates, outcomes, patient_outcomes, appraisal, appraisal_scores)
        to a workbook or a CSV per table; the files written."""
        from review.extract.export import check_format, review_tables, write_tables

        target = Path(out)
        chosen = check_format(target, fmt)
        return write_tables(target, review_tables(self.store, self.protocol), chosen)

    def cells(self) -> list[CellState]:
        """Every cell entered, with its status (entered, pending, agreed, conflict, resolved)."""
        from review.extract.workflow import cell_states

        return list(cell_states(self.store, self.protocol).values())

    def compare(self) -> list[CellState]:
        """The cells where two extractors differ."""
        from review.extract.workflow import compare

        return compare(self.store, self.protocol)

    def resolve(
        self,
        study: str,
        *,
        field: str,
        value: str,
        by: str,
        form: FormName = "study",
        row: str = "",
        why: str | None = None,
        via: ExtractVia = "api",
    ) -> ExtractionEvent:
        """Record the adjudicated value of one cell."""
        from review.extract.workflow import resolve

        return resolve(
            self.store,
            self.protocol,
            study=study,
            form=form,
            row=row,
            field_name=field,
            value=value,
            by=by,
            at=self.review.clock(),
            why=why,
            via=via,
        )

    def history(
        self, study: str, *, field: str | None = None
    ) -> tuple[Study, list[ExtractionEvent]]:
        """The trail of a study: every value entered or resolved, oldest first."""
        from review.extract.workflow import history

        return history(self.store, study, field_name=field)

    def counts(self, outcome: str) -> list[StudyCount]:
        """Each study's count for an outcome, from its case rows or its aggregate row."""
        from review.extract.outcomes import counts

        return counts(self.store, self.protocol, outcome)

    def patient_rows(self, outcome: str, covariates: Sequence[str] = ()) -> PatientRows:
        """The case rows usable for the one-stage (IPD) model of an outcome."""
        from review.extract.outcomes import patient_rows

        return patient_rows(self.store, self.protocol, outcome, covariates)

    def fit_ipd(self, outcome: str, covariates: Sequence[str] = ()) -> tuple[IPDFit, PatientRows]:
        """``meta``'s one-stage random-intercept logistic model on the patient rows."""
        from meta.ipd import fit_ipd

        rows = self.patient_rows(outcome, covariates)
        fit = fit_ipd(rows.outcome, rows.study, dict(rows.covariates) or None)
        return fit, rows

    def study_counts(self, outcome: str) -> StudyCounts:
        """The same counts as ``meta``'s input type, ready to pool (studies with nobody
        assessed are left out, as they hold no information on a proportion)."""
        from meta.counts import make_counts

        found = [c for c in self.counts(outcome) if c.assessed > 0]
        return make_counts(
            [c.events for c in found], [c.assessed for c in found], [c.study for c in found]
        )
