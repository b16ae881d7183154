"""``casepool import`` and ``casepool export`` as a user runs them."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

from stores import store_snapshot
from typer.testing import CliRunner, Result

from review.cli import app

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data" / "import"


def _count(review_dir: Path) -> tuple[int, int]:
    snapshot = store_snapshot(review_dir)
    return len(snapshot["records"]), len(snapshot["loads"])


def test_import_and_export_have_help() -> None:
    for command in ("import", "export"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, result.output
        assert "--review" in result.output
    assert "--skip-invalid" in runner.invoke(app, ["import", "--help"]).output


def test_import_prints_one_line_and_again_says_nothing_changed(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "embase.ris"
    shutil.copyfile(DATA / "embase.ris", path)
    args = ["import", str(path), "--source", "embase", "--review", str(review_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "embase.ris: read 3 records (ris, UTF-8), 3 new in source 'embase'\n"
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert again.stdout == (
        "embase.ris was already imported into source 'embase' (load 1); nothing changed\n"
    )
    assert _count(review_dir) == (3, 1)


def test_import_json_and_repair_notes(review_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "refworks.ris"
    shutil.copyfile(DATA / "refworks.ris", path)
    result = runner.invoke(
        app, ["import", str(path), "-s", "refworks", "--review", str(review_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["n_read"], data["n_new"], data["format"]) == (1, 1, "ris")
    assert data["repairs"] == [
        "refworks.ris, line 1: record 1 had its authors split into 68 one-letter lines "
        "(a RefWorks round trip); joined back into 3 names"
    ]


def test_a_bad_record_is_one_error_line_exit_1_and_no_change(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "records.csv"
    path.write_text("title,year\nA,2001\nB,n.d.\n")
    result = runner.invoke(
        app, ["import", str(path), "--source", "csv", "--review", str(review_dir)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: records.csv, row 3, column 'year': 'n.d.' is not a year; nothing was "
        "imported: fix the file, or use --skip-invalid to import the valid records and list "
        "the rejects in a file\n"
    )
    assert _count(review_dir) == (0, 0)
    rejects = tmp_path / "why.csv"
    skipped = runner.invoke(
        app,
        [
            "import",
            str(path),
            "--source",
            "csv",
            "--review",
            str(review_dir),
            "--skip-invalid",
            "--rejects",
            str(rejects),
        ],
    )
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout == (
        "records.csv: read 2 records (csv, UTF-8), 1 new in source 'csv', "
        f"1 rejected (reasons in {rejects})\n"
    )
    assert rejects.is_file()
    assert _count(review_dir) == (1, 1)


def test_forced_format_and_bad_format_flag(review_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    shutil.copyfile(DATA / "pubmed.nbib", path)
    result = runner.invoke(
        app, ["import", str(path), "-s", "pubmed", "-f", "nbib", "--review", str(review_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "(nbib, UTF-8), 2 new" in result.stdout
    bad = runner.invoke(
        app, ["import", str(path), "-s", "x", "-f", "bibtex", "--review", str(review_dir)]
    )
    assert bad.exit_code == 2
    assert bad.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--format' / '-f': 'bibtex' is not one of "
        "'auto', 'ris', 'nbib', 'csv', 'tsv', 'xlsx', 'pubmed-xml'"
    )
    bad_export = runner.invoke(
        app, ["export", str(tmp_path / "x.csv"), "-f", "bib", "--review", str(review_dir)]
    )
    assert bad_export.exit_code == 2
    assert not (tmp_path / "x.csv").exists()


def test_rejects_without_skip_invalid_is_a_usage_error(review_dir: Path, tmp_path: Path) -> None:
    args = ["import", str(DATA / "embase.ris"), "-s", "e", "--rejects", str(tmp_path / "r.csv")]
    result = runner.invoke(app, [*args, "--review", str(review_dir)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--rejects': only --skip-invalid writes a rejects file; "
        "add --skip-invalid or drop --rejects"
    )
    assert _count(review_dir) == (0, 0)


def test_missing_source_is_a_usage_error() -> None:
    result = runner.invoke(app, ["import", str(DATA / "embase.ris")])
    assert result.exit_code == 2


def test_export_writes_the_file_and_reports_counts(review_dir: Path, tmp_path: Path) -> None:
    for name in ("embase.ris", "scopus.ris"):
        path = tmp_path / name
        shutil.copyfile(DATA / name, path)
        runner.invoke(app, ["import", str(path), "-s", name[:-4], "--review", str(review_dir)])
    out = tmp_path / "for-rayyan.csv"
    result = runner.invoke(app, ["export", str(out), "--review", str(review_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 5 primary records (5 clusters) to {out} (csv)\n"
    assert out.read_text(encoding="utf-8-sig").startswith("casepool_id,source,source_id,")
    as_json = runner.invoke(
        app,
        ["export", str(tmp_path / "x.ris"), "--all", "--review", str(review_dir), "--json"],
    )
    assert json.loads(as_json.stdout) == {
        "path": str(tmp_path / "x.ris"),
        "format": "ris",
        "n_records": 5,
        "n_clusters": 5,
        "include_all": True,
        "notes": [],
    }
    refused = runner.invoke(app, ["export", str(tmp_path / "x.bib"), "--review", str(review_dir)])
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: x.bib: cannot tell the export format from the extension; "
        "give --format ris|csv|xlsx\n"
    )


def _import(review_dir: Path, path: Path, *options: str) -> Result:
    return runner.invoke(
        app, ["import", str(path), "--source", "s", "--review", str(review_dir), *options]
    )


def test_a_binary_file_renamed_ris_is_refused_as_not_a_text_file(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "x.ris"
    path.write_bytes(Path(sys.executable).read_bytes()[:8192])
    before = store_snapshot(review_dir)
    result = _import(review_dir, path)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: x.ris: not a text file (it holds binary data); export the records again as "
        "RIS, nbib, CSV or XLSX\n"
    )
    assert store_snapshot(review_dir) == before


def test_a_gzipped_ris_file_is_read_as_ris(review_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "embase.ris.gz"
    path.write_bytes(gzip.compress((DATA / "embase.ris").read_bytes()))
    result = _import(review_dir, path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "embase.ris.gz: read 3 records (ris, UTF-8), 3 new in source 's'\n"


def test_a_csv_renamed_xlsx_says_so_and_format_csv_reads_it(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "asreview.xlsx"
    shutil.copyfile(DATA / "asreview.csv", path)
    before = store_snapshot(review_dir)
    result = _import(review_dir, path)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: asreview.xlsx: not an XLSX workbook (it holds text, not the ZIP archive every "
        ".xlsx is); it looks like CSV: import it with --format csv\n"
    )
    assert store_snapshot(review_dir) == before
    again = _import(review_dir, path, "--format", "csv")
    assert again.exit_code == 0, again.output
    assert again.stdout == "asreview.xlsx: read 3 records (csv, UTF-8), 3 new in source 's'\n"


def _two_sheets(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in (
        ("Embase", [["title", "year"], ["From Embase", 2020]]),
        ("Scopus", [["title", "year"], ["From Scopus", 2021], ["Also Scopus", 2022]]),
    ):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_sheet_chooses_the_sheet_of_a_workbook_by_name_or_number(
    review_dir: Path, tmp_path: Path
) -> None:
    path = _two_sheets(tmp_path / "records.xlsx")
    first = _import(review_dir, path)
    assert (
        first.stdout == "records.xlsx, sheet 'Embase': read 1 record (xlsx), 1 new in source 's'\n"
    )
    second = _import(review_dir, path, "--sheet", "Scopus")
    assert second.exit_code == 0, second.output
    assert second.stdout == (
        "records.xlsx, sheet 'Scopus': read 2 records (xlsx), 2 new in source 's'\n"
    )
    again = _import(review_dir, path, "--sheet", "2")
    assert again.stdout == (
        "records.xlsx, sheet 'Scopus' was already imported into source 's' (load 2); "
        "nothing changed\n"
    )
    assert _count(review_dir) == (3, 2)


def test_an_unknown_sheet_lists_the_sheets_and_imports_nothing(
    review_dir: Path, tmp_path: Path
) -> None:
    path = _two_sheets(tmp_path / "records.xlsx")
    before = store_snapshot(review_dir)
    result = _import(review_dir, path, "--sheet", "Medline")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: records.xlsx: there is no sheet 'Medline'; the workbook has 2 sheets, "
        "1 'Embase' and 2 'Scopus': give --sheet one of these names or its number\n"
    )
    assert store_snapshot(review_dir) == before


def test_sheet_with_a_file_that_is_not_a_workbook_is_a_usage_error(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "embase.ris"
    shutil.copyfile(DATA / "embase.ris", path)
    before = store_snapshot(review_dir)
    detected = _import(review_dir, path, "--sheet", "2")
    assert detected.exit_code == 2
    assert detected.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--sheet': embase.ris is RIS, not an XLSX workbook, so it "
        "has no sheets; drop --sheet"
    )
    forced = _import(review_dir, path, "--sheet", "2", "--format", "ris")
    assert forced.exit_code == 2
    assert forced.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--sheet': --format ris files have no sheets; --sheet "
        "chooses a sheet of an XLSX workbook: drop it"
    )
    assert store_snapshot(review_dir) == before


def test_export_warns_when_the_format_and_the_extension_disagree(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "embase.ris"
    shutil.copyfile(DATA / "embase.ris", path)
    _import(review_dir, path)
    out = tmp_path / "records.csv"
    result = runner.invoke(
        app, ["export", str(out), "--format", "ris", "--review", str(review_dir)]
    )
    assert result.exit_code == 0, result.output
    note = (
        "records.csv holds RIS (--format ris) but its extension .csv says CSV; programs that "
        "go by the extension will misread it: name it records.ris"
    )
    assert result.stderr == f"Note: {note}\n"
    assert result.stdout == f"Wrote 3 primary records (3 clusters) to {out} (ris)\n"
    assert out.read_text(encoding="utf-8").startswith("TY  - JOUR")
    as_json = runner.invoke(
        app, ["export", str(out), "-f", "ris", "--review", str(review_dir), "--json"]
    )
    assert json.loads(as_json.stdout)["notes"] == [note]
    agreeing = runner.invoke(app, ["export", str(out), "--review", str(review_dir)])
    assert agreeing.stderr == ""


def test_counts_are_worded_alike_singular_for_one_thousands_separated(
    review_dir: Path, tmp_path: Path
) -> None:
    one = tmp_path / "one.ris"
    one.write_text("TY  - JOUR\nID  - 1\nTI  - The only one\nER  - \n")
    assert _import(review_dir, one).stdout == (
        "one.ris: read 1 record (ris, UTF-8), 1 new in source 's'\n"
    )
    many = tmp_path / "many.csv"
    many.write_text("id,title\n" + "".join(f"{i},Record {i}\n" for i in range(2, 1202)))
    assert _import(review_dir, many).stdout == (
        "many.csv: read 1,200 records (csv, UTF-8), 1,200 new in source 's'\n"
    )
    out = tmp_path / "all.ris"
    exported = runner.invoke(app, ["export", str(out), "--all", "--review", str(review_dir)])
    assert exported.stdout == f"Wrote 1,201 records (1,201 clusters) to {out} (ris)\n"
    deduped = runner.invoke(app, ["dedup", "--review", str(review_dir)])
    assert "  s                       1,201 records\n" in deduped.stdout
    assert "  identified              1,201\n" in deduped.stdout


def test_one_primary_record_is_singular(review_dir: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.ris"
    one.write_text("TY  - JOUR\nID  - 1\nTI  - The only one\nER  - \n")
    _import(review_dir, one)
    out = tmp_path / "one-out.csv"
    result = runner.invoke(app, ["export", str(out), "--review", str(review_dir)])
    assert result.stdout == f"Wrote 1 primary record (1 cluster) to {out} (csv)\n"
    membership = runner.invoke(
        app, ["dedup", "--export", str(tmp_path / "m.csv"), "--review", str(review_dir)]
    )
    assert membership.stdout == f"Wrote 1 record to {tmp_path / 'm.csv'}.\n"


def test_import_json_of_a_file_already_imported_gives_that_imports_numbers(
    review_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "records.csv"
    path.write_text("title,year\nA,2001\nB,n.d.\nC,2003\n")
    args = ["--skip-invalid", "--json"]
    first = json.loads(_import(review_dir, path, *args).stdout)
    before = store_snapshot(review_dir)
    again = json.loads(_import(review_dir, path, *args).stdout)
    assert store_snapshot(review_dir) == before
    assert (again["already_imported"], first["already_imported"]) == (True, False)
    assert {k: v for k, v in again.items() if k != "already_imported"} == {
        k: v for k, v in first.items() if k != "already_imported"
    }
    assert (again["n_read"], again["n_new"], again["n_rejected"]) == (3, 2, 1)
