"""``casepool extract``: importing the bundled example, counts, history, compare and
resolve, terminal entry field by field, and ``pool --outcome`` from the review; every
refusal a one-line error and the store as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stores import store_snapshot
from typer.testing import CliRunner

from review.api import Review
from review.cli import app

runner = CliRunner()
PROTOCOLS = Path(__file__).resolve().parents[2] / "protocols"


def run(review_dir: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--review", str(review_dir)], input=input)


def bundled(name: str) -> str:
    return str(PROTOCOLS / f"rtx-ssc-calcinosis.{name}.csv")


@pytest.fixture
def example(review_dir: Path) -> Path:
    first = run(review_dir, "extract", "import", bundled("studies"), "-u", "ann", "--add-studies")
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        "Imported 3 study rows from rtx-ssc-calcinosis.studies.csv: 31 values recorded, 0 "
        "unchanged; registered Narváez 2019, Daoussis 2012, Poormoghim 2016.\n"
    )
    for name in ("cases", "aggregates"):
        assert run(review_dir, "extract", "import", bundled(name), "-u", "ann").exit_code == 0
    return review_dir


def test_counts_for_the_bundled_example(example: Path) -> None:
    result = run(example, "extract", "counts", "--outcome", "clinical_response")
    assert result.stdout.splitlines() == [
        "study                        events     n  unknown  from",
        "Narváez 2019                      4     8        0  aggregate",
        "Daoussis 2012                     1     1        0  patients",
        "Poormoghim 2016                   0     1        0  patients",
    ]
    found = json.loads(
        run(example, "extract", "counts", "--outcome", "radiological_response", "--json").stdout
    )
    assert [(s["events"], s["assessed"]) for s in found["studies"]] == [(2, 8), (1, 1), (0, 1)]


def test_pool_outcome_pools_straight_from_the_review(example: Path) -> None:
    result = run(example, "pool", "--outcome", "clinical_response", "--json")
    assert result.exit_code == 0, result.output
    pooled = json.loads(result.stdout)
    assert [s["events"] for s in pooled["studies"]] == [4, 1, 0]
    assert [s["total"] for s in pooled["studies"]] == [8, 1, 1]
    table = run(example, "sensitivity", "--outcome", "clinical_response")
    assert table.exit_code == 0, table.output


def test_pool_needs_a_table_or_an_outcome_not_both(example: Path) -> None:
    result = run(example, "pool", "--outcome", "clinical_response", "--input", "x.csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--outcome': --input reads a table; --outcome pools from "
        "the review, so give one or the other"
    )
    result = runner.invoke(app, ["pool", "--events", "e"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--input': give --input: pool a table (--input FILE "
        "--events COL --total COL) or an outcome of the review (--outcome NAME)"
    )


def test_a_refused_import_lists_every_problem_exits_1_and_writes_nothing(
    example: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "cases.csv"
    bad.write_text("study,case_id,age\nDaoussis 2012,7,old\nDaoussis 2012,8,-3\n")
    before = store_snapshot(example)
    result = run(example, "extract", "import", str(bad), "-u", "ann")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "cases.csv, row 2, column C (age): age: 'old' is not a number"
    assert lines[1] == (
        "cases.csv, row 2, column ssc_subtype: ssc_subtype: required (write NR if the report "
        "does not say)"
    )
    assert "cases.csv, row 3, column C (age): age: -3 is below the minimum, 0 years" in lines
    assert lines[-1] == "Error: cases.csv: 12 problems; nothing was imported"
    assert len(lines) == 13
    assert store_snapshot(example) == before


def test_an_import_without_an_extractor_is_a_usage_error(example: Path) -> None:
    result = runner.invoke(
        app,
        ["extract", "import", bundled("cases"), "--review", str(example)],
        env={"CASEPOOL_EXTRACTOR": ""},
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--extractor': say who extracted: --extractor NAME (or set "
        "CASEPOOL_EXTRACTOR)"
    )


def test_terminal_entry_saves_each_value_as_it_is_entered(example: Path) -> None:
    answers = (
        "\n".join(
            [
                "2",  # case id
                "61",  # age
                "f",  # sex: refused, asked again
                "female",
                "limited cutaneous",
                "",
                "",
                "",
                "",  # duration, sites, prior treatments, indication
                "375 mg/m2 weekly x4",
                "",  # cycles
            ]
        )
        + "\n"
    )
    result = run(example, "extract", "enter", "--study", "Daoussis 2012", "-u", "bo", input=answers)
    assert result.exit_code == 130  # the input ran out: Ctrl-C or end of input
    assert "sex: 'f' is not one of 'female', 'male', 'unknown'" in result.stderr
    assert result.stderr.rstrip().endswith("Stopped: 5 values saved (each as it was entered).")
    with Review.open(example) as rv:
        _, trail = rv.extraction.history("Daoussis 2012")
    mine = {(e.row, e.field): e.value for e in trail if e.person == "bo"}
    assert mine == {
        ("2", "case_id"): "2",
        ("2", "age"): "61",
        ("2", "sex"): "female",
        ("2", "ssc_subtype"): "limited cutaneous",
        ("2", "rtx_regimen"): "375 mg/m2 weekly x4",
    }
    assert all(e.via == "terminal" for e in trail if e.person == "bo")


def test_terminal_entry_skips_fields_whose_condition_is_false(example: Path) -> None:
    lines = [
        "3",  # case id
        "",
        "",  # age, sex
        "limited cutaneous",
        "",
        "",
        "",
        "",  # duration, sites, prior treatments, indication
        "other",  # regimen
        "",
        "",
        "",
        "",
        "",  # cycles, follow-up, VAS before and after, pain improved
        "no",  # new inflammation or ulceration
        "no",  # radiological_assessed: the radiological fields are skipped
        "",  # the report's own verdict on the calcinosis
        "no",  # adverse event: its description is skipped
    ]
    answers = "\n".join(lines) + "\n"
    result = run(
        example, "extract", "enter", "--study", "Poormoghim 2016", "-u", "bo", input=answers
    )
    assert result.exit_code == 0, result.output
    assert "Radiological change" not in result.stdout  # radiological_assessed = no
    assert "Adverse event(s)" not in result.stdout  # adverse_event = no
    assert result.stdout.rstrip().endswith("Saved 6 values for Poormoghim 2016 [3].")


def test_history_compare_and_resolve(example: Path, tmp_path: Path) -> None:
    result = run(example, "extract", "history", "Daoussis 2012", "--field", "rtx_cycles")
    assert result.stdout.splitlines()[0] == "Study 2: Daoussis 2012"
    assert "case[1].rtx_cycles = 2  (entered by ann via spreadsheet)" in result.stdout
    assert run(example, "extract", "compare").stdout == "No differences between extractors.\n"
    result = run(
        example,
        "extract",
        "resolve",
        "Daoussis 2012",
        "--form",
        "case",
        "--row",
        "1",
        "--field",
        "rtx_cycles",
        "--value",
        "two",
        "--by",
        "lee",
    )
    assert result.exit_code == 1
    assert result.stderr == "Error: rtx_cycles: 'two' is not a number\n"
    result = run(
        example,
        "extract",
        "resolve",
        "Daoussis 2012",
        "--form",
        "case",
        "--row",
        "1",
        "--field",
        "rtx_cycles",
        "--value",
        "2",
        "--by",
        "lee",
    )
    assert result.stdout == "Resolved rtx_cycles of Daoussis 2012 [1]: 2, by lee.\n"


def test_the_one_stage_model_fits_the_patient_rows(review_dir: Path, tmp_path: Path) -> None:
    """Twelve patients in three reports: the fit is meta's one-stage model on exactly the
    rows whose outcome and covariates are known (its statistics are checked against lme4
    in tests/meta); the aggregate-only series is named, not silently dropped."""
    from meta.ipd import fit_ipd

    studies = tmp_path / "studies.csv"
    studies.write_text(
        "study,study_label,design,source_type,n_patients,patient_level_data\n"
        "A 2020,A 2020,case series,published,5,yes\n"
        "B 2021,B 2021,case series,published,4,yes\n"
        "C 2022,C 2022,case series,published,4,yes\n"
        "D 2023,D 2023,case series,published,9,no\n"
    )
    header = (
        "study,case_id,age,ssc_subtype,rtx_regimen,new_inflammation_or_ulceration,"
        "radiological_assessed,adverse_event,pain_improved_50\n"
    )
    rows = [
        ("A 2020", 1, 40, "no", "yes"),
        ("A 2020", 2, 52, "no", "yes"),
        ("A 2020", 3, 61, "yes", "no"),
        ("A 2020", 4, 35, "no", "no"),
        ("A 2020", 5, "", "no", "yes"),  # age missing: left out
        ("B 2021", 1, 47, "no", "yes"),
        ("B 2021", 2, 58, "no", "no"),
        ("B 2021", 3, 66, "yes", "yes"),
        ("B 2021", 4, 44, "unknown", "yes"),  # unknown
        ("C 2022", 1, 50, "no", "yes"),
        ("C 2022", 2, 39, "no", "no"),
        ("C 2022", 3, 70, "no", "yes"),
        ("C 2022", 4, 55, "yes", "no"),
    ]
    cases = tmp_path / "cases.csv"
    cases.write_text(
        header
        + "".join(f"{s},{c},{a},limited cutaneous,other,{u},no,no,{p}\n" for s, c, a, u, p in rows)
    )
    aggregates = tmp_path / "agg.csv"
    aggregates.write_text("study,outcome,events,assessed\nD 2023,clinical_response,3,9\n")
    assert (
        run(review_dir, "extract", "import", str(studies), "-u", "a", "--add-studies").exit_code
        == 0
    )
    for path in (cases, aggregates):
        assert run(review_dir, "extract", "import", str(path), "-u", "a").exit_code == 0, path
    result = run(
        review_dir,
        "pool",
        "--outcome",
        "clinical_response",
        "--ipd",
        "--covariate",
        "age",
        "--json",
    )
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout)
    kept = [r for r in rows if r[2] != "" and r[3] != "unknown"]
    expected = fit_ipd(
        [int(u == "no" and p == "yes") for _, _, _, u, p in kept],
        [s for s, *_ in kept],
        {"age": [float(a) for _, _, a, _, _ in kept]},
    )
    assert [t["name"] for t in fitted["terms"]] == ["(Intercept)", "age"]
    assert [t["estimate"] for t in fitted["terms"]] == pytest.approx(expected.coefficients)
    assert (fitted["patients"], fitted["studies"]) == (11, 3)
    assert fitted["left_out"] == {
        "unknown_outcome": 1,
        "missing_covariate": 1,
        "aggregate_only_studies": ["D 2023"],
    }
    result = run(
        review_dir, "pool", "--outcome", "clinical_response", "--ipd", "--covariate", "ssc_subtype"
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: covariate 'ssc_subtype' is a choice field; a covariate is a number or yes/no\n"
    )


REDCAP = Path(__file__).resolve().parents[1] / "data" / "redcap"


def test_a_redcap_export_imports_and_its_labelled_twin_changes_nothing(review_dir: Path) -> None:
    """The raw and the labelled export of one REDCap project (tests/data/redcap) carry the
    same values: importing one after the other records nothing new."""
    raw = run(
        review_dir,
        "extract",
        "import",
        str(REDCAP / "rtx_raw.csv"),
        "--format",
        "redcap",
        "-u",
        "centre",
        "--add-studies",
    )
    assert raw.exit_code == 0, raw.output
    assert raw.stdout == (
        "Imported 5 redcap rows from rtx_raw.csv: 67 values recorded, 0 unchanged; "
        "registered Narváez 2019, Daoussis 2012.\n"
    )
    labelled = run(
        review_dir,
        "extract",
        "import",
        str(REDCAP / "rtx_labels.csv"),
        "--format",
        "redcap",
        "-u",
        "centre",
    )
    assert (
        labelled.stdout
        == "Imported 5 redcap rows from rtx_labels.csv: 0 values recorded, 67 unchanged.\n"
    )
    with Review.open(review_dir) as rv:
        _, trail = rv.extraction.history("Narváez 2019", field="n_patients")
    assert [(e.value, e.source) for e in trail] == [("8", "rtx_raw.csv, line 2")]


def test_a_redcap_export_that_does_not_fit_the_forms_is_refused_whole(
    review_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "export.csv"
    text = (REDCAP / "rtx_raw.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("study_label,", "study_labl,", 1), encoding="utf-8")
    before = store_snapshot(review_dir)
    result = run(
        review_dir, "extract", "import", str(bad), "--format", "redcap", "-u", "c", "--add-studies"
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "export.csv, line 1, column 4 (study_labl): unknown column: not a field of the forms "
        "nor a REDCap column",
        "Error: export.csv: 1 problem; nothing was imported",
    ]
    assert store_snapshot(review_dir) == before


def test_the_redcap_dictionary_is_written_with_redcaps_header(
    review_dir: Path, tmp_path: Path
) -> None:
    from extraction.redcap import HEADER

    out = tmp_path / "dictionary.csv"
    result = run(review_dir, "extract", "dictionary", "--out", str(out))
    assert result.exit_code == 0, result.output
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert first.split(",")[0] == HEADER[0] == "Variable / Field Name"
    assert len(HEADER) == 18
