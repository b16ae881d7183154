"""``casepool run --live`` against a local E-utilities server (real HTTP on loopback): the
search replaces the bundled snapshot, and the report says what is new since the last run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from eutils_server import EUtilsServer, FakeRecord, Fault, synthetic_record
from lxml import etree
from typer.testing import CliRunner

from review.cli import app
from review.run import run_review
from tests.support.stores import store_snapshot

ROOT = Path(__file__).resolve().parents[3]
PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"
SNAPSHOT = PROTOCOL.with_name("rtx-ssc-calcinosis.pubmed.xml")
EMAIL = "reviewer@example.org"
NEW = ("39000001", "39000002")


def bundled_records() -> list[FakeRecord]:
    """The snapshot's five articles, served by the fake PubMed as they are."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(SNAPSHOT), parser).getroot()
    return [
        FakeRecord(
            a.findtext("MedlineCitation/PMID").strip(),
            date(2020, 1, 1),
            date(2020, 1, 1),
            etree.tostring(a),
        )
        for a in root.iter("PubmedArticle")
    ]


@pytest.fixture
def pubmed(monkeypatch: pytest.MonkeyPatch) -> EUtilsServer:
    """PubMed as it stands later: the snapshot's five records and two published since."""
    records = bundled_records() + [
        synthetic_record(int(p), date(2026, 6, 1), f"Rituximab for calcinosis, case {p}.")
        for p in NEW
    ]
    with EUtilsServer(records, rate_limit=100) as server:
        monkeypatch.setenv("CASEPOOL_EUTILS_URL", server.url)
        yield server


def report_section(out: Path, title: str) -> str:
    text = (out / "report.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_a_live_run_after_the_snapshot_finds_what_is_new_and_the_report_lists_it(
    pubmed: EUtilsServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_review(PROTOCOL, out)
    assert not pubmed.calls()  # the snapshot run never asked the server
    summary = run_review(PROTOCOL, out, live=True, email=EMAIL)
    lines = {line.split(":", 1)[0]: line for line in summary.lines}
    assert lines["search"] == "search: PubMed: 7 found, 2 new records"
    assert pubmed.calls("esearch") and pubmed.calls("efetch")
    assert all(call.params.get("email") == EMAIL for call in pubmed.calls())
    section = report_section(out, "New since the last run")
    assert (
        "New since the last run: 2 records, 2 new papers to screen. The latest search "
        "before this run: search 1 (" in section
    )
    assert "the saved file rtx-ssc-calcinosis.pubmed.xml)." in section
    for pmid in NEW:
        assert f"| {pmid} |" in section
        assert f"Rituximab for calcinosis, case {pmid}." in section
    assert "30639647" not in section  # the index series was in the review already
    papers = (out / "new-papers.csv").read_text(encoding="utf-8").splitlines()
    assert papers[0] == "Paper,PMID,DOI,Year,Title,Source"
    assert sorted(row.split(",")[1] for row in papers[1:]) == list(NEW)
    # the new records wait for screening; the pooled results are those of the snapshot run
    assert any(
        line.startswith("pool: clinical_response: 5/10 in 3 studies") for line in summary.lines
    )
    search = report_section(out, "Search (PRISMA-S)")
    saved, live = search.split("**Search 1: complete**")[1].split("**Search 4: complete**")
    assert "| database | pubmed (saved file) |" in saved and "| new | 5 |" in saved
    assert "| database | pubmed (E-utilities) |" in live and "| new | 2 |" in live
    assert "| retrieved | 7 (5 already in the review) |" in live


def test_a_second_live_run_over_an_unchanged_pubmed_adds_nothing(
    pubmed: EUtilsServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = run_review(PROTOCOL, out, live=True, email=EMAIL)
    assert "search: PubMed: 7 found, 7 new records" in first.lines
    assert (
        report_section(out, "New since the last run")
        .strip()
        .endswith(
            "This is the review's first run: every record is new (12 records, 8 papers after "
            "deduplication)."
        )
    )
    second = run_review(PROTOCOL, out, live=True, email=EMAIL)
    assert "search: PubMed: 7 found, 0 new records" in second.lines
    section = report_section(out, "New since the last run")
    assert "Nothing is new since the last run: no search or source added a record." in section
    assert "search 1 (" in section and "PubMed, searched live)" in section
    header = "Paper,PMID,DOI,Year,Title,Source\n"
    assert (out / "new-papers.csv").read_text(encoding="utf-8") == header


def test_a_live_run_that_pubmed_refuses_names_the_stage_and_records_no_record(
    pubmed: EUtilsServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_review(PROTOCOL, out)
    before = store_snapshot(out / "review")
    pubmed.inject(Fault("status", endpoint="esearch", status=400, times=10))
    result = CliRunner().invoke(
        app, ["run", str(PROTOCOL), "--out", str(out), "--live", "--email", EMAIL]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the search stage stopped: esearch was refused by E-utilities (HTTP 400): "
        "<html>error</html>\n"
    )
    assert store_snapshot(out / "review") == before
