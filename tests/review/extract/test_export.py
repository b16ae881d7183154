"""The extraction as tidy tables on SQLite and PostgreSQL, and the round trip: template,
filled with the bundled example's values, imported, exported: the same values."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from extract_sheets import PROTOCOLS, bundled_rows, fill, register
from openpyxl import load_workbook

from review.api import Review
from review.errors import ExportError

KEYS = {"study": ("study",), "case": ("study", "case_id"), "aggregate": ("study", "outcome")}
TABLE = {"study": "studies", "case": "cases", "aggregate": "aggregates"}


def filled_review(review_dir: Path, tmp_path: Path) -> None:
    register(review_dir)
    blank, filled = tmp_path / "template.xlsx", tmp_path / "filled.xlsx"
    with Review.open(review_dir) as rv:
        rv.extraction.template(blank)
    fill(blank, filled)
    with Review.open(review_dir) as rv:
        rv.extraction.import_file(filled, extractor="ann")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_sheet(book: Any, name: str) -> list[dict[str, str]]:
    """A sheet's rows as text, as the CSV export writes them."""
    rows = list(book[name].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    text = [
        {h: "" if v is None else str(v) for h, v in zip(header, row, strict=True)}
        for row in rows[1:]
    ]
    return text


def same_values(exported: list[dict[str, str]], form: str) -> None:
    """Every bundled row is in the export with every bundled value, and nothing else."""
    keys = KEYS[form]
    by_key = {tuple(r[k] for k in keys): r for r in exported}
    bundled = bundled_rows(form)
    assert sorted(by_key) == sorted(tuple(r[k] for k in keys) for r in bundled)
    for row in bundled:
        got = by_key[tuple(row[k] for k in keys)]
        assert {c: got[c] for c in row} == row
        assert all(
            v == "" for c, v in got.items() if c not in row and c not in ("study_id", "cluster")
        )


def test_template_filled_imported_and_exported_as_csv_gives_the_bundled_values(
    review_dir: Path, tmp_path: Path
) -> None:
    filled_review(review_dir, tmp_path)
    with Review.open(review_dir) as rv:
        written = rv.extraction.export(tmp_path / "out.csv")
    assert [p.name for p in written] == [
        "out.studies.csv",
        "out.cases.csv",
        "out.aggregates.csv",
        "out.outcomes.csv",
        "out.patient_outcomes.csv",
        "out.appraisal.csv",
        "out.appraisal_scores.csv",
    ]
    for form, table in TABLE.items():
        same_values(read_csv(tmp_path / f"out.{table}.csv"), form)


def test_the_round_trip_through_an_xlsx_export_gives_the_bundled_values_as_numbers(
    review_dir: Path, tmp_path: Path
) -> None:
    filled_review(review_dir, tmp_path)
    with Review.open(review_dir) as rv:
        rv.extraction.export(tmp_path / "out.xlsx")
    book = load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == [
        "README",
        "studies",
        "cases",
        "aggregates",
        "outcomes",
        "patient_outcomes",
        "appraisal",
        "appraisal_scores",
    ]
    assert any(
        "appraisal_scores: " in (r[0] or "") for r in book["README"].iter_rows(values_only=True)
    )
    for form, table in TABLE.items():
        same_values(read_sheet(book, table), form)
    studies = book["studies"]
    header = [c.value for c in studies[1]]
    narvaez = [c.value for c in studies[2]]
    assert narvaez[header.index("n_patients")] == 8
    assert narvaez[header.index("rtx_cycles_mean")] == pytest.approx(3.12)
    assert narvaez[header.index("pmid")] == "30639647"  # a text field stays text
    assert studies.freeze_panes == "A2"


def test_the_outcomes_tables_hold_the_counts_pooled_and_each_patients_outcome(
    review_dir: Path, tmp_path: Path
) -> None:
    filled_review(review_dir, tmp_path)
    with Review.open(review_dir) as rv:
        rv.extraction.export(tmp_path / "out.csv")
    outcomes = read_csv(tmp_path / "out.outcomes.csv")
    expected = read_csv(PROTOCOLS / "rtx-ssc-calcinosis.counts.csv")
    for name in ("clinical_response", "radiological_response"):
        got = [
            (r["study"], r["events"], r["assessed"], r["source"])
            for r in outcomes
            if r["outcome"] == name
        ]
        assert got == [
            (
                e["study"],
                e[name],
                e["total"],
                "aggregate" if e["study"] == "Narváez 2019" else "patients",
            )
            for e in expected
        ]
    patients = read_csv(tmp_path / "out.patient_outcomes.csv")
    assert [
        (p["study"], p["case_id"], p["assessed"], p["event"])
        for p in patients
        if p["outcome"] == "clinical_response"
    ] == [("Daoussis 2012", "1", "yes", "yes"), ("Poormoghim 2016", "1", "yes", "no")]
    assert list(patients[0]) == ["study_id", "study", "case_id", "outcome", "assessed", "event"]


def test_not_reported_is_kept_apart_from_empty_and_formula_like_text_is_neutralised(
    review_dir: Path, tmp_path: Path
) -> None:
    register(review_dir, ("=Evil 2020",))
    rows = tmp_path / "studies.csv"
    rows.write_text(
        "study,study_label,design,source_type,n_patients,patient_level_data,centre\n"
        "'=Evil 2020,'=Evil 2020,case report,published,1,NR,@SUM(A1)\n",
        encoding="utf-8",
    )
    with Review.open(review_dir) as rv:
        rv.extraction.import_file(rows, extractor="ann")
        rv.extraction.export(tmp_path / "out.csv")
        rv.extraction.export(tmp_path / "out.xlsx")
    (study,) = read_csv(tmp_path / "out.studies.csv")
    assert (study["study"], study["centre"]) == ("'=Evil 2020", "'@SUM(A1)")
    assert (study["patient_level_data"], study["pmid"]) == ("NR", "")
    sheet = load_workbook(tmp_path / "out.xlsx")["studies"]
    header = [c.value for c in sheet[1]]
    cells = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert cells["study"].value == "'=Evil 2020" and cells["study"].data_type == "s"
    assert cells["centre"].value == "'@SUM(A1)"


def test_export_needs_a_format_it_knows(review_dir: Path, tmp_path: Path) -> None:
    with Review.open(review_dir) as rv, pytest.raises(ExportError) as caught:
        rv.extraction.export(tmp_path / "out.txt")
    assert str(caught.value) == (
        f"{tmp_path / 'out.txt'}: say --format csv or --format xlsx "
        "(or name the file .csv or .xlsx)"
    )


def test_in_dual_extraction_only_agreed_values_are_exported(
    review_dir: Path, tmp_path: Path
) -> None:
    path = review_dir / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("extractors = 1", "extractors = 2"))
    register(review_dir)
    rows = tmp_path / "aggregates.csv"
    rows.write_text("study,outcome,events,assessed\nNarváez 2019,clinical_response,4,8\n")
    other = tmp_path / "other.csv"
    other.write_text("study,outcome,events,assessed\nNarváez 2019,clinical_response,5,8\n")
    with Review.open(review_dir) as rv:
        rv.extraction.import_file(rows, extractor="ann")
        rv.extraction.export(tmp_path / "one.csv")
        rv.extraction.import_file(other, extractor="bo")
        rv.extraction.export(tmp_path / "two.csv")
    pending = read_csv(tmp_path / "one.aggregates.csv")
    assert [(r["events"], r["assessed"]) for r in pending] == [("", "")]
    (row,) = read_csv(tmp_path / "two.aggregates.csv")
    assert (row["events"], row["assessed"]) == ("", "8")  # 4 vs 5 in conflict; 8 agreed


ANSWERS = (
    "study,tool,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,note\n"
    "Narváez 2019,,yes,yes,yes,unclear,yes,no,yes,yes,yes,yes,\n"
    "Daoussis 2012,,yes,yes,yes,yes,yes,yes,unclear,yes,-,-,\n"
    "Poormoghim 2016,jbi-case-report,yes,no,unclear,yes,yes,unclear,no,yes,-,-,\n"
)


def test_the_appraisal_tables_hold_each_answer_and_each_finished_appraisals_score(
    review_dir: Path, tmp_path: Path
) -> None:
    filled_review(review_dir, tmp_path)
    answers = tmp_path / "appraisal.csv"
    answers.write_text(ANSWERS, encoding="utf-8")
    with Review.open(review_dir) as rv:
        rv.appraisal.import_file(answers, appraiser="ann")
        rv.extraction.export(tmp_path / "out.csv")
    items = read_csv(tmp_path / "out.appraisal.csv")
    assert list(items[0]) == ["study_id", "study", "tool", "item", "domain", "answer"]
    assert len(items) == 10 + 8 + 8
    poormoghim = [
        (r["tool"], r["item"], r["answer"]) for r in items if r["study"] == "Poormoghim 2016"
    ]
    assert [a for _, _, a in poormoghim] == [
        "yes",
        "no",
        "unclear",
        "yes",
        "yes",
        "unclear",
        "no",
        "yes",
    ]
    assert poormoghim[0][:2] == ("jbi-case-report", "q1")
    scores = read_csv(tmp_path / "out.appraisal_scores.csv")
    assert [(r["study"], r["tool"], r["yes"], r["applicable"]) for r in scores] == [
        ("Narváez 2019", "jbi-case-series", "8", "10"),
        ("Daoussis 2012", "jbi-case-report", "7", "8"),
        ("Poormoghim 2016", "jbi-case-report", "4", "8"),
    ]
