"""``casepool screen export`` and ``casepool screen import``: the spreadsheet round trip as
a reviewer runs it, the summaries and --json, and refused sheets: every problem on stderr,
exit 1, the store unchanged."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from screening import ready_review
from stores import store_snapshot
from typer.testing import CliRunner

from review.cli import app

runner = CliRunner()


@pytest.fixture
def ready(review_dir: Path) -> Path:
    ready_review(review_dir, 3)
    return review_dir


def screen(review_dir: Path, *args: str) -> object:
    return runner.invoke(app, ["screen", *args, "--review", str(review_dir)])


def edit_csv(path: Path, changes: dict[int, dict[str, str]]) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update(changes.get(int(row["cluster"]), {}))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_export_then_import_records_the_decisions_once(ready: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ana-ta.csv"
    result = screen(ready, "export", "--stage", "ta", "--reviewer", "ana", "--out", str(sheet))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote 3 records for ana to screen at title/abstract to {sheet} (0 already decided).\n"
    )
    assert result.stderr == (
        "Note: no records are assigned at title/abstract, so the sheet holds every record to "
        "screen there\n"
    )
    edit_csv(sheet, {1: {"decision": "include"}, 2: {"decision": "exclude", "reason": "no-rtx"}})
    result = screen(ready, "import", str(sheet), "--reviewer", "ana")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Recorded 2 decisions from ana-ta.csv (ana, title/abstract); 0 unchanged, 1 left blank.\n"
    )
    before = store_snapshot(ready)
    result = screen(ready, "import", str(sheet), "--reviewer", "ana", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "path": str(sheet),
        "stage": "ta",
        "reviewer": "ana",
        "recorded": 0,
        "unchanged": 2,
        "blank": 1,
        "cleared": [],
        "events": [],
        "notes": [],
        "warnings": [],
    }
    assert store_snapshot(ready) == before


def test_a_changed_row_is_one_new_event_and_an_emptied_one_is_reported(
    ready: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.csv"
    screen(ready, "export", "-s", "ta", "-u", "ana", "-o", str(sheet))
    edit_csv(sheet, {1: {"decision": "include"}, 2: {"decision": "include"}})
    screen(ready, "import", str(sheet), "-u", "ana")
    edit_csv(sheet, {1: {"decision": "maybe"}, 2: {"decision": ""}})
    result = screen(ready, "import", str(sheet), "-u", "ana", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["recorded"], data["unchanged"], data["cleared"]) == (
        1,
        0,
        [{"row": 3, "cluster": 2}],
    )
    (event,) = data["events"]
    assert (event["cluster"], event["decision"], event["via"], event["source"]) == (
        1,
        "maybe",
        "spreadsheet",
        "ana-ta.csv row 2",
    )
    history = screen(ready, "history", "1", "-u", "ana")
    assert "maybe  (record 1 via spreadsheet) [ana-ta.csv row 2]" in history.stdout


def test_export_json_says_what_was_written(ready: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ana.xlsx"
    result = screen(ready, "export", "-s", "ta", "-u", "ana", "-o", str(sheet), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "path": str(sheet),
        "format": "xlsx",
        "stage": "ta",
        "reviewer": "ana",
        "records": 3,
        "decided": 0,
        "assigned": False,
        "notes": [
            "no records are assigned at title/abstract, so the sheet holds every record to "
            "screen there"
        ],
    }


def test_a_refused_sheet_lists_every_problem_and_changes_nothing(
    ready: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.csv"
    screen(ready, "export", "-s", "ta", "-u", "ana", "-o", str(sheet))
    edit_csv(
        sheet,
        {
            1: {"decision": "include"},
            2: {"decision": "nope"},
            3: {"cluster": "77", "decision": "maybe"},
        },
    )
    before = store_snapshot(ready)
    result = screen(ready, "import", str(sheet), "-u", "ana")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: ana-ta.csv: 2 problems, so nothing was imported:\n"
        "  ana-ta.csv, row 3, column D (decision): 'nope' is not a decision; use include, "
        "exclude or maybe\n"
        "  ana-ta.csv, row 4, column A (cluster): there is no cluster 77 in this review\n"
    )
    assert store_snapshot(ready) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["import", "{dir}/missing.csv", "-u", "ana"],
            "Error: {dir}/missing.csv: no such file\n",
        ),
        (
            ["import", "{dir}/ana.csv", "-u", "ben"],
            "Error: ana.csv, row 2, column B (reviewer): the row is for 'ana', but the sheet is "
            "ben's; each reviewer imports only their own rows (nothing was imported)\n",
        ),
        (
            ["export", "-s", "ta", "-u", "ana", "-o", "{dir}/ana.txt"],
            "Error: ana.txt: a screening sheet is an .xlsx or a .csv file; name it so\n",
        ),
        (
            ["export", "-s", "ta", "-u", "ana", "-o", "{dir}/no/such/ana.csv"],
            "Error: {dir}/no/such/ana.csv: the folder {dir}/no/such does not exist; create it "
            "or choose another\n",
        ),
        (
            ["export", "-s", "ft", "-u", "ana", "-o", "{dir}/ana-ft.csv"],
            "Error: there are no records to screen at full text yet\n",
        ),
    ],
)
def test_bad_input_is_one_error_and_exit_1(
    ready: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    one = tmp_path / "ana.csv"
    one.write_text("cluster,reviewer,stage,decision,reason\n1,ana,ta,include,\n", encoding="utf-8")
    before = store_snapshot(ready)
    result = screen(ready, *(a.format(dir=tmp_path) for a in args))
    assert result.exit_code == 1
    assert result.stderr == message.format(dir=tmp_path)
    assert store_snapshot(ready) == before


def test_a_reviewer_is_required(ready: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["screen", "export", "-s", "ta", "-o", str(tmp_path / "x.csv"), "--review", str(ready)],
        env={"CASEPOOL_REVIEWER": ""},
    )
    assert result.exit_code == 2
    assert "say who is screening: --reviewer NAME (or set CASEPOOL_REVIEWER)" in result.stderr


@pytest.mark.parametrize("command", ["export", "import"])
def test_help_exists(command: str) -> None:
    result = runner.invoke(app, ["screen", command, "--help"])
    assert result.exit_code == 0
    assert "--reviewer" in result.stdout
