"""``casepool extract template``, ``import FILE.xlsx [--partial --rejects]`` and ``export``:
what a person sees, exit codes, every problem with its place, and the store unchanged
after a refusal."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from extract_sheets import fill, register
from openpyxl import load_workbook
from stores import store_snapshot
from typer.testing import CliRunner

from review.cli import app

runner = CliRunner()


def run(review_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--review", str(review_dir)])


def filled(review_dir: Path, tmp_path: Path) -> Path:
    register(review_dir)
    blank, out = tmp_path / "template.xlsx", tmp_path / "filled.xlsx"
    result = run(review_dir, "extract", "template", "--out", str(blank))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote {blank} (3 studies filled in).\n"
    fill(blank, out)
    return out


def test_template_import_and_export_from_the_command_line(review_dir: Path, tmp_path: Path) -> None:
    workbook = filled(review_dir, tmp_path)
    result = run(review_dir, "extract", "import", str(workbook), "-u", "ann")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "Imported 8 rows from filled.xlsx (sheets study, case, aggregate): "
    )
    again = run(review_dir, "extract", "import", str(workbook), "-u", "ann", "--json")
    assert json.loads(again.stdout)["written"] == 0
    out = tmp_path / "tables.csv"
    exported = run(review_dir, "extract", "export", "--out", str(out), "--json")
    assert exported.exit_code == 0, exported.output
    files = json.loads(exported.stdout)["files"]
    assert [Path(f).name for f in files][:2] == ["tables.studies.csv", "tables.cases.csv"]
    xlsx = run(review_dir, "extract", "export", "--out", str(tmp_path / "t"), "--format", "xlsx")
    assert xlsx.exit_code == 0, xlsx.output
    assert load_workbook(io.BytesIO((tmp_path / "t").read_bytes())).sheetnames[1] == "studies"


def test_a_bad_workbook_lists_every_problem_and_imports_nothing(
    review_dir: Path, tmp_path: Path
) -> None:
    workbook = filled(review_dir, tmp_path)
    book = load_workbook(workbook)
    book["case"]["C3"] = 130  # age
    book["aggregate"]["C4"] = "NR"  # events
    book.save(workbook)
    before = store_snapshot(review_dir)
    result = run(review_dir, "extract", "import", str(workbook), "-u", "ann")
    assert result.exit_code == 1
    assert result.stderr == (
        "filled.xlsx, sheet 'case', row 3, column C (age): age: 130 is above the maximum, "
        "110 years\n"
        "filled.xlsx, sheet 'aggregate', row 4, column C (events): an aggregate row needs the "
        "number, not NR\n"
        "Error: filled.xlsx: 2 problems; nothing was imported\n"
    )
    assert store_snapshot(review_dir) == before


def test_partial_imports_the_valid_rows_and_writes_the_rejects_where_asked(
    review_dir: Path, tmp_path: Path
) -> None:
    workbook = filled(review_dir, tmp_path)
    book = load_workbook(workbook)
    book["case"]["C3"] = "=1+1"  # a formula: no saved value, refused before anything
    book.save(workbook)
    refused = run(review_dir, "extract", "import", str(workbook), "-u", "ann", "--partial")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: filled.xlsx, sheet 'case', row 3, column 'age': the formula =1+1 has no saved "
        "value (the file was written by a program, not saved by a spreadsheet); open and save "
        "it in a spreadsheet, or paste the values, and import again\n"
    )
    book["case"]["C3"] = 130
    book.save(workbook)
    rejects = tmp_path / "fix-me.csv"
    result = run(
        review_dir,
        "extract",
        "import",
        str(workbook),
        "-u",
        "ann",
        "--partial",
        "--rejects",
        str(rejects),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == (
        f"Left out 1 row with problems, written to {rejects}; correct them there and import "
        "that file again."
    )
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["place"], row["age"], row["problems"]) == (
        "filled.xlsx, sheet 'case', row 3",
        "130",
        "column C (age): age: 130 is above the maximum, 110 years",
    )
    counts = run(review_dir, "extract", "counts", "--outcome", "clinical_response", "--json")
    assert [s["study"] for s in json.loads(counts.stdout)["studies"]] == [
        "Narváez 2019",
        "Poormoghim 2016",
    ]


def test_a_malformed_workbook_is_one_line(review_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "rows.xlsx"
    bad.write_text("study,case_id\n", encoding="utf-8")
    result = run(review_dir, "extract", "import", str(bad), "-u", "ann")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: rows.xlsx: not an XLSX workbook (every .xlsx is a ZIP archive); save it as a "
        "workbook, or give a CSV file a .csv name\n"
    )


def test_bad_options_are_usage_errors(review_dir: Path, tmp_path: Path) -> None:
    template = run(review_dir, "extract", "template", "--out", "t.xlsx", "--studies", "some")
    assert template.exit_code == 2
    assert "'some': use all or included" in template.stderr
    export = run(review_dir, "extract", "export", "--out", "t.xlsx", "--format", "sav")
    assert export.exit_code == 2
    assert "'sav': use csv or xlsx" in export.stderr
    alone = run(review_dir, "extract", "import", "f.xlsx", "-u", "ann", "--rejects", "r.csv")
    assert alone.exit_code == 2
    assert "--rejects is where --partial writes the rows it leaves out" in alone.stderr
    wrong = run(review_dir, "extract", "template", "--out", str(tmp_path / "t.ods"))
    assert wrong.exit_code == 1
    assert wrong.stderr == (
        f"Error: {tmp_path / 't.ods'}: a template is .xlsx (a workbook) or .csv (a file per form)\n"
    )


def test_the_new_commands_have_help() -> None:
    for command in ("template", "export", "import"):
        result = runner.invoke(app, ["extract", command, "--help"])
        assert result.exit_code == 0
    assert "--partial" in runner.invoke(app, ["extract", "import", "--help"]).stdout
