"""``casepool prisma``: the diagram and the PRISMA2020 CSV written from the store, the
counts as JSON, and a diagram file type it cannot draw refused with nothing written."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from prisma_flows import expected_numbers, numbers
from screening import ready_review
from stores import store_snapshot
from typer.testing import CliRunner

from review.api import Review
from review.cli import app

runner = CliRunner()


def screened(review_dir: Path) -> Path:
    """Three PubMed records: one excluded, two to full text, one of them included."""
    a, b, c = ready_review(review_dir, 3)
    with Review.open(review_dir) as review:
        s = review.screening
        for reviewer in ("ana", "ben"):
            s.decide(a, stage="ta", reviewer=reviewer, decision="exclude")
            s.decide(b, stage="ta", reviewer=reviewer, decision="include")
            s.decide(c, stage="ta", reviewer=reviewer, decision="include")
        s.unblind("ta", by="lead")
        s.retrieved(b)
        s.retrieved(c)
        for reviewer in ("ana", "ben"):
            s.decide(b, stage="ft", reviewer=reviewer, decision="include")
            s.decide(c, stage="ft", reviewer=reviewer, decision="exclude", reason="no-rtx")
        s.unblind("ft", by="lead")
    return review_dir


def test_prisma_writes_the_diagram_and_the_csv_and_reports_json(
    review_dir: Path, tmp_path: Path
) -> None:
    screened(review_dir)
    svg, table = tmp_path / "flow.svg", tmp_path / "flow.csv"
    result = runner.invoke(
        app,
        ["prisma", "--review", str(review_dir), "--out", str(svg), "--csv", str(table), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["written"] == [str(svg), str(table)]
    assert data["blind"] == []
    assert data["identified"] == 3
    assert (data["records_screened"], data["records_excluded"], data["dbr_sought"]) == (3, 1, 2)
    assert (data["dbr_assessed"], data["dbr_included"]) == (2, 1)
    assert data["dbr_excluded"] == [
        {"code": "no-rtx", "label": "Not treated with rituximab", "n": 1}
    ]
    assert (data["new_studies"], data["new_reports"]) == (1, 1)
    with Review.open(review_dir) as review:
        flow, _ = review.screening.flow()
    lines = [
        "".join(t.itertext())
        for t in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text")
    ]
    assert numbers(lines) == expected_numbers(flow)
    assert "Not treated with rituximab (n = 1)" in lines
    with table.open(newline="") as f:
        n = {row["data"]: row["n"] for row in csv.DictReader(f)}
    assert n["database_results"] == "3"
    assert n["database_specific_results"] == "pubmed, 3"
    assert n["records_excluded"] == "1"
    assert n["dbr_excluded"] == "Not treated with rituximab, 1"
    assert n["new_reports"] == "1"


def test_prisma_says_what_it_wrote(review_dir: Path, tmp_path: Path) -> None:
    screened(review_dir)
    png = tmp_path / "flow.png"
    result = runner.invoke(app, ["prisma", "--review", str(review_dir), "--out", str(png)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"Wrote {png}.\n")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_prisma_refuses_a_diagram_type_it_cannot_draw_and_writes_nothing(
    review_dir: Path, tmp_path: Path
) -> None:
    screened(review_dir)
    before = store_snapshot(review_dir)
    folder = tmp_path / "out"
    folder.mkdir()
    out, table = folder / "flow.txt", folder / "flow.csv"
    result = runner.invoke(
        app, ["prisma", "--review", str(review_dir), "--out", str(out), "--csv", str(table)]
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out}: the diagram is drawn as .svg, .png or .pdf, not .txt\n"
    assert result.stdout == ""
    assert list(folder.iterdir()) == []
    assert store_snapshot(review_dir) == before


def test_prisma_help_names_the_formats() -> None:
    result = runner.invoke(app, ["prisma", "--help"])
    assert result.exit_code == 0
    assert ".svg, .png or .pdf" in result.stdout
    assert "PRISMA2020" in result.stdout


def test_prisma_refuses_a_csv_in_a_missing_folder_before_drawing(
    review_dir: Path, tmp_path: Path
) -> None:
    screened(review_dir)
    folder = tmp_path / "out"
    folder.mkdir()
    svg, table = folder / "flow.svg", tmp_path / "missing" / "flow.csv"
    result = runner.invoke(
        app, ["prisma", "--review", str(review_dir), "--out", str(svg), "--csv", str(table)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {table}: the folder {table.parent} does not exist; create it or choose another\n"
    )
    assert list(folder.iterdir()) == []


def test_prisma_says_the_csv_leaves_out_what_still_waits(review_dir: Path, tmp_path: Path) -> None:
    ready_review(review_dir, 2)
    table = tmp_path / "flow.csv"
    result = runner.invoke(app, ["prisma", "--review", str(review_dir), "--csv", str(table)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"Note: {table} leaves out the records and reports still waiting for a decision (the "
        "PRISMA2020 template has no box for them), so its boxes add up only once every one "
        "is decided; the diagram shows them."
    )


def test_prisma_adds_no_note_when_nothing_waits(review_dir: Path, tmp_path: Path) -> None:
    screened(review_dir)
    table = tmp_path / "flow.csv"
    result = runner.invoke(app, ["prisma", "--review", str(review_dir), "--csv", str(table)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
