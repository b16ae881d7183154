"""Extraction spreadsheets on SQLite and PostgreSQL: the template's sheets, dropdowns,
checks, input messages, required marks and frozen headers; a filled workbook imported
with every problem's sheet, row, column and value, all or nothing or (partial) the valid
rows; malformed workbooks refused in one line."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from extract_sheets import LABELS, bundled_rows, fill, register
from openpyxl import Workbook, load_workbook
from screening import ready_review
from stores import store_snapshot

from extraction.forms import Form, FormField
from review.api import Review
from review.errors import BlindError, ExtractImportError, ParseError
from review.extract.sheets import STUDY_LABEL, read_workbook


def template(review_dir: Path, tmp_path: Path, **options: Any) -> Path:
    out = tmp_path / "template.xlsx"
    with Review.open(review_dir) as rv:
        assert rv.extraction.template(out, **options) == [out]
    return out


def validation(sheet: Any, column: str) -> Any:
    """The data validation of a column's data cells."""
    found = [
        dv
        for dv in sheet.data_validations.dataValidation
        if str(dv.sqref).startswith(f"{column}3:")
    ]
    assert len(found) == 1, column
    return found[0]


def listed(book: Any, formula: str) -> list[str]:
    """The values of a dropdown's list on the hidden lists sheet."""
    sheet_name, cells = formula.split("!")
    first, last = cells.replace("$", "").split(":")
    sheet = book[sheet_name.strip("'")]
    return [c.value for row in sheet[first:last] for c in row]


def test_the_template_is_a_readme_then_a_sheet_per_form_with_two_frozen_header_rows(
    review_dir: Path, tmp_path: Path
) -> None:
    register(review_dir)
    book = load_workbook(template(review_dir, tmp_path))
    assert book.sheetnames == ["README", "study", "case", "aggregate", "lists"]
    assert book["lists"].sheet_state == "hidden"
    with Review.open(review_dir) as rv:
        names = {f: rv.extraction.form(f).names for f in ("study", "case", "aggregate")}
    for form in ("study", "case", "aggregate"):
        sheet = book[form]
        assert sheet.freeze_panes == "B3"
        assert [c.value for c in sheet[1]] == ["study", *names[form]]
    case = book["case"]
    labels = dict(zip([c.value for c in case[1]], [c.value for c in case[2]], strict=True))
    assert labels["study"] == STUDY_LABEL
    assert labels["age"] == "Age at first RTX (years)"
    assert labels["ssc_subtype"] == "SSc subtype *"
    assert labels["sex"] == "Sex"
    required = {c.value for c in case[1] if c.fill.fgColor.rgb.endswith("FCE4D6")}
    assert {"study", "case_id", "ssc_subtype", "rtx_regimen"} <= required
    assert "age" not in required and "sex" not in required
    readme = [row[0] for row in book["README"].iter_rows(values_only=True)]
    assert readme[0].startswith("Extraction template: ")
    assert any("write NR when the report does not say" in (line or "") for line in readme)
    dictionary = [r for r in book["README"].iter_rows(values_only=True) if r[1] == "age"]
    assert dictionary == [
        ("case", "age", "Age at first RTX", "number", "years", "0 to 110", None, None, None, None)
    ]


def test_the_template_prefills_the_studies_and_offers_them_in_a_dropdown(
    review_dir: Path, tmp_path: Path
) -> None:
    register(review_dir, (*LABELS, "=HYPERLINK(1)"))
    book = load_workbook(template(review_dir, tmp_path))
    study = book["study"]
    assert [study.cell(row=r, column=1).value for r in range(3, 8)] == [
        *LABELS,
        "'=HYPERLINK(1)",  # neutralised: text, not a formula
        None,
    ]
    for form in ("study", "case", "aggregate"):
        rule = validation(book[form], "A")
        assert rule.type == "list"
        assert listed(book, rule.formula1) == [*LABELS, "'=HYPERLINK(1)"]


def test_the_template_checks_choices_ranges_and_gives_each_field_its_help(
    review_dir: Path, tmp_path: Path
) -> None:
    register(review_dir)
    book = load_workbook(template(review_dir, tmp_path))
    case = book["case"]
    letters = {c.value: c.column_letter for c in case[1]}
    sex = validation(case, letters["sex"])
    assert (sex.type, sex.promptTitle, sex.prompt) == (
        "list",
        "Sex",
        "One of the list. NR if the report does not say.",
    )
    assert listed(book, sex.formula1) == ["female", "male", "unknown", "NR"]
    regimen = validation(case, letters["rtx_regimen"])
    assert listed(book, regimen.formula1) == [
        "1 g twice, two weeks apart",  # a comma inside a choice: the list is on a sheet
        "375 mg/m2 weekly x4",
        "other",
        "unknown",
        "NR",
    ]
    yes_no = validation(case, letters["radiological_assessed"])
    assert listed(book, yes_no.formula1) == ["yes", "no", "unknown", "NR"]
    age = validation(case, letters["age"])
    c = letters["age"]
    assert age.type == "custom"
    assert age.formula1 == (
        f'OR(AND(ISNUMBER({c}3),{c}3>=0,{c}3<=110),{c}3="NR",{c}3="not reported")'
    )
    assert age.prompt == (
        "A number in years, 0 to 110 (a decimal point, not a comma). NR if the report does not say."
    )
    cycles = validation(case, letters["rtx_cycles"])
    r = letters["rtx_cycles"]
    assert cycles.formula1 == (
        f'OR(AND(ISNUMBER({r}3),{r}3=INT({r}3),{r}3>=1,{r}3<=50),{r}3="NR",{r}3="not reported")'
    )
    sites = validation(case, letters["calcinosis_sites"])
    assert sites.type is None  # several values cannot be a dropdown: the message lists them
    assert sites.prompt.startswith("One or more of: fingers; hands; forearms;")
    assert "(separate with ;)" in sites.prompt
    change = validation(case, letters["radiological_change"])
    assert change.prompt.startswith("Scleroderma Clinical Trials Consortium")
    assert "Only when radiological_assessed == 'yes'." in change.prompt
    assert all(len(dv.prompt or "") <= 255 for dv in case.data_validations.dataValidation)
    assert case.column_dimensions[letters["case_id"]].number_format == "@"  # '01' stays text


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_a_csv_template_is_a_file_per_form_with_the_studies_filled_in(
    review_dir: Path, tmp_path: Path
) -> None:
    register(review_dir)
    with Review.open(review_dir) as rv:
        written = rv.extraction.template(tmp_path / "sheet.csv")
    assert [p.name for p in written] == ["sheet.study.csv", "sheet.case.csv", "sheet.aggregate.csv"]
    rows = csv_rows(written[0])
    assert rows[0][:3] == ["study", "study_label", "pmid"]
    assert [r[0] for r in rows[1:]] == list(LABELS)
    assert csv_rows(written[2]) == [["study", "outcome", "events", "assessed"]]


def test_included_studies_are_those_whose_report_was_included_at_full_text(
    review_dir: Path, tmp_path: Path
) -> None:
    clusters = ready_review(review_dir, 3)
    with Review.open(review_dir) as rv:
        s = rv.screening
        for person in ("ann", "bob"):
            for cluster in clusters:
                s.decide(cluster, stage="ta", reviewer=person, decision="include")
        s.unblind("ta", by="lead")
        for person in ("ann", "bob"):
            s.decide(clusters[0], stage="ft", reviewer=person, decision="include")
            s.decide(clusters[1], stage="ft", reviewer=person, decision="exclude", reason="no-rtx")
            s.decide(
                clusters[2],
                stage="ft",
                reviewer=person,
                decision="include" if person == "ann" else "exclude",
                reason=None if person == "ann" else "no-rtx",
            )
        for n, cluster in enumerate(clusters):
            rv.extraction.add_study(f"Paper {n}", cluster=cluster)
        rv.extraction.add_study("Local series")
    with Review.open(review_dir) as rv, pytest.raises(BlindError) as caught:
        rv.extraction.template(tmp_path / "t.xlsx", studies="included")
    assert str(caught.value).startswith("full-text screening is blind, so what it included")
    with Review.open(review_dir) as rv:
        rv.screening.unblind("ft", by="lead")
    book = load_workbook(template(review_dir, tmp_path, studies="included"))
    assert [book["study"].cell(row=r, column=1).value for r in (3, 4)] == ["Paper 0", None]
    book = load_workbook(template(review_dir, tmp_path))
    assert [book["study"].cell(row=r, column=1).value for r in range(3, 7)] == [
        "Paper 0",
        "Paper 1",
        "Paper 2",
        "Local series",
    ]


def bad_workbook(review_dir: Path, tmp_path: Path) -> Path:
    from openpyxl import load_workbook

    register(review_dir)
    filled = tmp_path / "filled.xlsx"
    fill(template(review_dir, tmp_path), filled)
    book = load_workbook(filled)
    case = book["case"]
    letters = {c.value: c.column_letter for c in case[1]}
    case[f"{letters['age']}3"] = 130
    case[f"{letters['calcinosis_sites']}4"] = "fingers; toes"
    case["A5"] = "Nobody 2020"
    for name, value in (
        ("case_id", 1),
        ("ssc_subtype", "limited cutaneous"),
        ("rtx_regimen", "other"),
        ("new_inflammation_or_ulceration", "no"),
        ("radiological_assessed", "no"),
        ("adverse_event", "no"),
    ):
        case[f"{letters[name]}5"] = value
    study = book["study"]
    s = {c.value: c.column_letter for c in study[1]}
    study[f"{s['n_patients']}4"] = "one"
    book.save(filled)
    return filled


EXPECTED = (
    "filled.xlsx, sheet 'study', row 4, column H (n_patients): n_patients: 'one' is not a number",
    "filled.xlsx, sheet 'case', row 3, column C (age): age: 130 is above the maximum, 110 years",
    "filled.xlsx, sheet 'case', row 4, column G (calcinosis_sites): calcinosis_sites: 'toes' is "
    "not one of 'fingers', 'hands', 'forearms', 'elbows', 'knees', 'legs', 'feet', 'buttocks "
    "or hips', 'trunk', 'face', 'other' (separate several with ';')",
    "filled.xlsx, sheet 'case', row 5, column A (study): unknown study 'Nobody 2020'; add it "
    "with 'casepool extract study add LABEL'",
)


def test_a_filled_workbook_with_bad_cells_reports_each_with_its_sheet_row_and_column(
    review_dir: Path, tmp_path: Path
) -> None:
    filled = bad_workbook(review_dir, tmp_path)
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv, pytest.raises(ExtractImportError) as caught:
        rv.extraction.import_file(filled, extractor="ann")
    assert str(caught.value) == "4 problems; nothing was imported"
    assert caught.value.problems == EXPECTED
    assert store_snapshot(review_dir) == before


def test_a_partial_import_takes_the_valid_rows_and_writes_the_rest_with_their_problems(
    review_dir: Path, tmp_path: Path
) -> None:
    filled = bad_workbook(review_dir, tmp_path)
    with Review.open(review_dir) as rv:
        chosen, done = rv.extraction.import_file(filled, extractor="ann", partial=True)
        counts = [
            (c.study, c.events, c.assessed) for c in rv.extraction.counts("clinical_response")
        ]
    assert chosen == "study, case, aggregate"
    assert (done.rows, done.rejected) == (5, 4)  # 2 study rows and 3 aggregate rows
    rejects = tmp_path / "filled.rejects.csv"
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["place"], r["form"], r["study"]) for r in rows] == [
        ("filled.xlsx, sheet 'study', row 4", "study", "Daoussis 2012"),
        ("filled.xlsx, sheet 'case', row 3", "case", "Daoussis 2012"),
        ("filled.xlsx, sheet 'case', row 4", "case", "Poormoghim 2016"),
        ("filled.xlsx, sheet 'case', row 5", "case", "Nobody 2020"),
    ]
    assert rows[1]["age"] == "130"
    assert rows[1]["problems"] == "column C (age): age: 130 is above the maximum, 110 years"
    assert counts == [("Narváez 2019", 4, 8)]
    with Review.open(review_dir) as rv:
        _, again = rv.extraction.import_file(filled, extractor="ann", partial=True)
    assert (again.written, again.rejected) == (0, 4)


def test_a_second_import_of_the_same_workbook_writes_nothing(
    review_dir: Path, tmp_path: Path
) -> None:
    register(review_dir)
    filled = tmp_path / "filled.xlsx"
    fill(template(review_dir, tmp_path), filled)
    with Review.open(review_dir) as rv:
        _, first = rv.extraction.import_file(filled, extractor="ann")
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv:
        _, again = rv.extraction.import_file(filled, extractor="ann")
    assert first.rows == 3 + 2 + 3 and first.written > 0
    assert (again.written, again.unchanged) == (0, first.written)
    assert store_snapshot(review_dir) == before


def test_an_untouched_template_imports_nothing(review_dir: Path, tmp_path: Path) -> None:
    register(review_dir)
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv:
        _, done = rv.extraction.import_file(template(review_dir, tmp_path), extractor="ann")
    assert (done.rows, done.written) == (0, 0)
    assert store_snapshot(review_dir) == before


FORMS: dict[str, Form] = {
    "study": Form(
        label="Study",
        fields=(
            FormField(name="published", label="Published", type="date"),
            FormField(name="pmid", label="PMID", type="text"),
            FormField(name="n", label="Patients", type="integer"),
        ),
    ),
    "case": Form(label="Case", fields=(FormField(name="case_id", label="Id", type="text"),)),
    "aggregate": Form(label="Agg", fields=(FormField(name="outcome", label="O", type="text"),)),
}


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_cells_are_read_as_the_text_an_extractor_meant(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "w.xlsx",
        {
            "study": [
                ["study", "published", "pmid", "n"],
                ["A 2019", datetime(2019, 3, 14), 30639647, 8.0],
                ["B 2020", "2020-03", "'=1+1", None],
                ["C 2021", None, None, None],
            ]
        },
    )
    forms, rows = read_workbook(path, FORMS)  # type: ignore[arg-type]
    assert forms == ("study",)
    assert [(r.study, dict(r.cells), r.place) for r in rows] == [
        (
            "A 2019",
            {"published": "2019-03-14", "pmid": "30639647", "n": "8"},
            "w.xlsx, sheet 'study', row 2",
        ),
        (
            "B 2020",
            {"published": "2020-03", "pmid": "=1+1"},
            "w.xlsx, sheet 'study', row 3",
        ),
    ]  # row 4 holds only its study: skipped
    assert rows[0].columns["n"] == "D (n)"


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        (
            {"Sheet1": [["study", "x"]]},
            "w.xlsx: no sheet named study, case or aggregate; the workbook's sheets are "
            "'Sheet1' ('casepool extract template' writes one to fill)",
        ),
        ({"case": []}, "w.xlsx, sheet 'case': no header row; row 1 holds the field names"),
        (
            {"case": [["case_id"], ["1"]]},
            "w.xlsx, sheet 'case', row 1: no 'study' column (the study's label or id)",
        ),
        (
            {"case": [["study", "case_id", "case_id"]]},
            "w.xlsx, sheet 'case', row 1: the column 'case_id' appears twice",
        ),
    ],
)
def test_a_workbook_that_is_not_a_template_is_refused_naming_the_sheet(
    tmp_path: Path, sheets: dict[str, list[list[Any]]], message: str
) -> None:
    path = workbook(tmp_path / "w.xlsx", sheets)
    with pytest.raises(ParseError) as caught:
        read_workbook(path, FORMS)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_a_text_file_named_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.xlsx"
    path.write_text("study,case_id\nA,1\n", encoding="utf-8")
    with pytest.raises(ParseError) as caught:
        read_workbook(path, FORMS)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "rows.xlsx: not an XLSX workbook (every .xlsx is a ZIP archive); save it as a "
        "workbook, or give a CSV file a .csv name"
    )


def test_the_bundled_rows_are_what_the_fill_helper_types(review_dir: Path, tmp_path: Path) -> None:
    """The round-trip tests rest on this: every bundled value lands in its column."""
    register(review_dir)
    filled = tmp_path / "filled.xlsx"
    fill(template(review_dir, tmp_path), filled)
    _, rows = read_workbook(filled, FORMS)  # type: ignore[arg-type]
    case = [r for r in rows if r.form == "case"]
    assert [r.cells.get("rtx_regimen") for r in case] == [
        r["rtx_regimen"] for r in bundled_rows("case")
    ]


def test_a_filled_csv_template_imports_form_by_form(review_dir: Path, tmp_path: Path) -> None:
    register(review_dir)
    with Review.open(review_dir) as rv:
        written = rv.extraction.template(tmp_path / "sheet.csv")
    for path, form in zip(written, ("study", "case", "aggregate"), strict=True):
        header = csv_rows(path)[0]
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header)
            writer.writeheader()
            writer.writerows(bundled_rows(form))
    with Review.open(review_dir) as rv:
        chosen = [rv.extraction.import_file(p, extractor="ann")[0] for p in written]
        counts = [
            (c.study, c.events, c.assessed) for c in rv.extraction.counts("clinical_response")
        ]
    assert chosen == ["study", "case", "aggregate"]
    assert counts == [("Narváez 2019", 4, 8), ("Daoussis 2012", 1, 1), ("Poormoghim 2016", 0, 1)]


def test_form_reads_only_that_sheet_of_a_workbook(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "w.xlsx",
        {"study": [["study", "n"], ["A 2019", 3]], "Case": [["study", "case_id"], ["A 2019", 1]]},
    )
    forms, rows = read_workbook(path, FORMS, form="case")  # type: ignore[arg-type]
    assert forms == ("case",)
    assert [(r.form, r.place) for r in rows] == [("case", "w.xlsx, sheet 'Case', row 2")]
    with pytest.raises(ParseError) as caught:
        read_workbook(path, FORMS, form="aggregate")  # type: ignore[arg-type]
    assert str(caught.value).startswith("w.xlsx: no sheet 'aggregate'; the workbook's sheets")
