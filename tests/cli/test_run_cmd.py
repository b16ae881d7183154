"""``casepool run`` from the command line (house pattern: tests/cli/test_dedup_cmd.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from review.cli import app

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"
runner = CliRunner()


def test_run_prints_one_line_per_stage_and_writes_the_results(tmp_path: Path) -> None:
    out = tmp_path / "example-report"
    result = runner.invoke(app, ["run", str(PROTOCOL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    stages = [line.split(":", 1)[0] for line in result.output.splitlines()[:-1]]
    assert stages == [
        "review",
        "search",
        "sources",
        "dedup",
        "screening",
        "extraction",
        "appraisal",
        "pool",
        "pool",
        "pool",
        "report",
    ]
    assert "pool: clinical_response: 5/10 in 3 studies, GLMM 50.0% (22.5% to 77.5%)" in (
        result.output
    )
    assert result.output.splitlines()[-1].endswith(f"35 files in {out}")
    assert (out / "results.json").is_file() and (out / "review" / "protocol.toml").is_file()


def test_run_json_lists_the_stages_and_files(tmp_path: Path) -> None:
    review = tmp_path / "my-review"
    result = runner.invoke(
        app,
        ["run", str(PROTOCOL), "--out", str(tmp_path / "out"), "--review", str(review), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["review"] == str(review)
    assert len(data["stages"]) == 11 and len(data["files"]) == 35


def test_run_on_a_damaged_snapshot_is_one_error_line_naming_stage_and_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(PROTOCOL.parent, folder)
    snapshot = folder / "rtx-ssc-calcinosis.pubmed.xml"
    snapshot.write_bytes(snapshot.read_bytes()[:-40])
    result = runner.invoke(
        app, ["run", str(folder / PROTOCOL.name), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: the search stage stopped on {snapshot}: ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_run_email_without_live_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", str(PROTOCOL), "--out", str(tmp_path), "--email", "me@example.org"]
    )
    assert result.exit_code == 2
    assert "--email goes with --live only" in result.output


def test_the_readme_first_command_is_casepool_run_and_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    first = next(line.strip() for line in section.splitlines() if line.startswith("    "))
    install, command = first.split(" && ")
    assert install == 'python -m pip install -e ".[test]"'
    assert command == "casepool run protocols/rtx-ssc-calcinosis.toml --out example-report"
    shutil.copytree(PROTOCOL.parent, tmp_path / "protocols")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "example-report" / "results.json").is_file()
