"""``casepool dedup``: counts, --json, --export, review by keys from stdin, undo, errors."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
from stores import add_records, membership
from typer.testing import CliRunner

from review.cli import app
from review.records import Author, Record

runner = CliRunner()

PUBMED = Record(
    source="pubmed",
    source_id="31000001",
    pmid="31000001",
    title="Rituximab for calcinosis cutis in systemic sclerosis: a case series",
    authors=(Author("Smith", "Anna"), Author("Jones", "Bo")),
    journal="Journal of Clinical Rheumatology",
    year=2019,
    volume="25",
    pages="122-9",
)
EMBASE = dataclasses.replace(
    PUBMED,
    source="embase",
    source_id="=E1",
    pmid=None,
    journal="J Clin Rheumatol",
    pages="122-129",
    abstract="Five patients.",
)
SCOPUS_A = Record(source="scopus", source_id="S1", title="Calcinosis cutis treated with rituximab")
SCOPUS_B = Record(source="wos", source_id="W1", title="Calcinosis cutis treated with rituximab")
OTHER = Record(source="wos", source_id="W2", title="Sodium thiosulfate for calciphylaxis")


def add(review_dir: Path, source: str, records: list[Record]) -> None:
    add_records(review_dir, source, records)


@pytest.fixture
def filled(review_dir: Path) -> Path:
    add(review_dir, "pubmed", [PUBMED])
    add(review_dir, "embase", [EMBASE])
    add(review_dir, "scopus", [SCOPUS_A])
    add(review_dir, "wos", [SCOPUS_B, OTHER])
    return review_dir


def test_dedup_json_reports_prisma_counts(filled: Path) -> None:
    result = runner.invoke(app, ["dedup", "--review", str(filled), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "records_per_source": {"embase": 1, "pubmed": 1, "scopus": 1, "wos": 2},
        "records_identified": 5,
        "clusters": 1,
        "duplicates_removed": 1,
        "records_after_dedup": 4,
        "pairs_queued": 1,
    }


def test_dedup_prints_a_table_of_counts(filled: Path) -> None:
    result = runner.invoke(app, ["dedup", "--review", str(filled)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Deduplicated:"
    assert "  duplicates removed          1" in lines
    assert "  pairs queued                1 (casepool dedup review)" in lines
    assert "  pubmed                      1 record" in lines
    assert "  wos                         2 records" in lines


def test_review_with_an_empty_queue_says_so_once(review_dir: Path) -> None:
    result = runner.invoke(app, ["dedup", "--review", str(review_dir), "review"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "No pairs are waiting for review.\n"


def test_export_writes_source_id_cluster_and_primary(filled: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["dedup", "--review", str(filled)])
    out = tmp_path / "clusters.csv"
    result = runner.invoke(app, ["dedup", "--review", str(filled), "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 5 records to {out}.\n"
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["source", "source_id", "cluster_id", "is_primary", "record_id"]
    assert [tuple(r.values()) for r in rows] == [
        ("pubmed", "31000001", "1", "1", "1"),
        ("embase", "'=E1", "1", "0", "2"),
        ("scopus", "S1", "3", "1", "3"),
        ("wos", "W1", "4", "1", "4"),
        ("wos", "W2", "5", "1", "5"),
    ]


def test_review_merges_with_m_and_saves_at_once(filled: Path) -> None:
    runner.invoke(app, ["dedup", "--review", str(filled)])
    result = runner.invoke(app, ["dedup", "--review", str(filled), "review"], input="m\n")
    assert result.exit_code == 0, result.output
    assert "record 3" in result.stdout and "record 4" in result.stdout
    assert result.stdout.splitlines()[-1] == "Merged 1, kept apart 0, skipped 0; 0 pairs left."
    assert membership(filled)[4] == (3, False)


def test_review_keep_apart_survives_a_rerun(filled: Path) -> None:
    runner.invoke(app, ["dedup", "--review", str(filled)])
    result = runner.invoke(
        app, ["dedup", "--review", str(filled), "review", "--json"], input="x\nk\n"
    )
    assert result.exit_code == 0, result.output
    # CliRunner echoes the typed keys into stdout; a terminal would show them on stderr.
    assert json.loads(result.stdout[result.stdout.index("{") :]) == {
        "merged": 0,
        "kept_apart": 1,
        "skipped": 0,
        "pairs_left": 0,
    }
    assert "Please answer m, k, s or q." in result.stderr
    rerun = runner.invoke(app, ["dedup", "--review", str(filled), "--json"])
    assert json.loads(rerun.stdout)["pairs_queued"] == 0
    assert membership(filled)[4] == (4, True)


def test_review_skip_and_quit_leave_the_pair_queued(filled: Path) -> None:
    runner.invoke(app, ["dedup", "--review", str(filled)])
    result = runner.invoke(app, ["dedup", "--review", str(filled), "review"], input="s\n")
    assert result.stdout.splitlines()[-1] == "Merged 0, kept apart 0, skipped 1; 1 pair left."
    result = runner.invoke(app, ["dedup", "--review", str(filled), "review"], input="q\n")
    assert result.stdout.splitlines()[-1] == "Merged 0, kept apart 0, skipped 0; 1 pair left."


def test_undo_splits_a_cluster_and_rerun_keeps_it_split(filled: Path) -> None:
    runner.invoke(app, ["dedup", "--review", str(filled)])
    result = runner.invoke(app, ["dedup", "--review", str(filled), "undo", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Split cluster 1 into 2 single records (1, 2).\n"
    rerun = runner.invoke(app, ["dedup", "--review", str(filled), "--json"])
    assert json.loads(rerun.stdout)["duplicates_removed"] == 0
    assert membership(filled)[2] == (2, True)


def test_undo_of_unknown_cluster_is_a_one_line_error(filled: Path) -> None:
    runner.invoke(app, ["dedup", "--review", str(filled)])
    result = runner.invoke(app, ["dedup", "--review", str(filled), "undo", "3"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: there is no cluster 3 of two or more records; "
        "'casepool dedup --export FILE.csv' lists the clusters\n"
    )


def test_undo_needs_a_number(filled: Path) -> None:
    result = runner.invoke(app, ["dedup", "--review", str(filled), "undo", "abc"])
    assert result.exit_code == 2


def test_dedup_outside_a_review_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dedup", "--review", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.splitlines()) == 1


def test_export_to_an_unwritable_place_is_a_one_line_error(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "clusters.csv"
    result = runner.invoke(app, ["dedup", "--review", str(filled), "--export", str(target)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {target}: the folder {target.parent} does not exist; create it or choose another\n"
    )
