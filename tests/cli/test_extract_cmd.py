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
