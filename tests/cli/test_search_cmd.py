"""``casepool search`` and ``casepool search log`` end to end against the local server."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eutils_server import (
    PUBMED_HEAD,
    PUBMED_TAIL,
    EUtilsServer,
    Fault,
    fixture_records,
    synthetic_corpus,
)
from stores import records_of, store_snapshot
from typer.testing import CliRunner

from review.cli import app

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data" / "pubmed"
KEY = "s3cr3t-api-key-0123456789"
EMAIL = "tester@example.org"
runner = CliRunner()


@pytest.fixture
def server():
    with EUtilsServer(fixture_records() + synthetic_corpus(120)) as running:
        yield running


def env_for(server: EUtilsServer, **extra: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "CASEPOOL_EUTILS_URL": server.url,
        "NCBI_EMAIL": None,
        "NCBI_API_KEY": None,
        "CASEPOOL_REVIEW": None,
    }
    env.update(extra)
    return env


def pmid_counts(review_dir: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records_of(review_dir).values():
        counts[str(record.source_id)] = counts.get(str(record.source_id), 0) + 1
    return counts


def test_search_and_search_log_have_help() -> None:
    for args in (["search", "--help"], ["search", "log", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage: casepool " + " ".join(args[:-1]) in result.output


def test_a_missing_email_is_one_line_saying_what_to_do(
    review_dir: Path, server: EUtilsServer
) -> None:
    result = runner.invoke(app, ["search", "--review", str(review_dir)], env=env_for(server))
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no e-mail address for NCBI: pass --email you@example.org, set NCBI_EMAIL, "
        "or add email under [search.pubmed] in the protocol\n"
    )
    assert result.stdout == "" and server.calls() == []
    assert store_snapshot(review_dir)["loads"] == []


def test_a_bad_datetype_is_a_usage_error(review_dir: Path) -> None:
    result = runner.invoke(app, ["search", "-r", str(review_dir), "--datetype", "xdat"])
    assert result.exit_code == 2


def test_search_runs_the_protocol_query_and_prints_one_line(
    review_dir: Path, server: EUtilsServer
) -> None:
    env = env_for(server, NCBI_API_KEY=KEY, NCBI_EMAIL=EMAIL)
    result = runner.invoke(app, ["search", "-r", str(review_dir), "--batch-size", "50"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("128 records retrieved, 128 new to the review (query run ")
    assert result.stdout.endswith("); log: casepool search log\n")
    assert KEY not in result.stdout + result.stderr
    protocol_query = server.calls("esearch")[0].params["term"]
    assert protocol_query.lstrip().startswith('("Rituximab"[Mesh]')
    assert all(c.params["email"] == EMAIL and c.params["api_key"] == KEY for c in server.calls())
    assert set(pmid_counts(review_dir).values()) == {1}

    again = runner.invoke(app, ["search", "-r", str(review_dir), "--json"], env=env)
    data = json.loads(again.stdout)
    assert (data["identified"], data["records_new"], data["already_in_review"]) == (128, 0, 128)
    assert data["query"] == protocol_query and data["status"] == "complete"

    log = runner.invoke(app, ["search", "log", "-r", str(review_dir)], env=env)
    assert log.exit_code == 0
    assert log.stdout.startswith("Search 1: complete\n  started       ")
    assert "  retrieved     128 (128 already in the review)\n  new           0\n" in log.stdout
    assert KEY not in log.stdout
    entries = json.loads(
        runner.invoke(app, ["search", "log", "-r", str(review_dir), "--json"]).stdout
    )
    assert [e["records_new"] for e in entries] == [128, 0]


def test_email_flag_wins_over_environment(review_dir: Path, server: EUtilsServer) -> None:
    env = env_for(server, NCBI_EMAIL="env@example.org")
    args = ["search", "-r", str(review_dir), "--email", "flag@example.org", "-q", "x"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    assert {c.params["email"] for c in server.calls()} == {"flag@example.org"}


def test_an_empty_log_says_how_to_start(review_dir: Path) -> None:
    result = runner.invoke(app, ["search", "log", "-r", str(review_dir)])
    assert result.stdout == (
        "No searches yet: run 'casepool search' (or 'casepool search --from-file').\n"
    )


def test_from_file_is_logged_with_name_and_sha256(review_dir: Path, tmp_path: Path) -> None:
    body = PUBMED_HEAD
    for name in ("pubmed5.xml", "pubmed6.xml", "pubmed7.xml"):
        text = (DATA / name).read_bytes()
        body += text[text.index(b"<PubmedArticle>") : text.rindex(b"</PubmedArticleSet>")]
    path = tmp_path / "saved.xml.gz"
    path.write_bytes(gzip.compress(body + PUBMED_TAIL))
    result = runner.invoke(app, ["search", "-r", str(review_dir), "--from-file", str(path)])
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.stdout.startswith(
        f"3 records loaded from saved.xml.gz (sha256 {digest[:12]}), 3 new to the review"
    )
    (entry,) = json.loads(
        runner.invoke(app, ["search", "log", "-r", str(review_dir), "--json"]).stdout
    )
    assert (entry["mode"], entry["file_name"], entry["sha256"]) == ("file", "saved.xml.gz", digest)
    assert entry["query"].lstrip().startswith('("Rituximab"[Mesh]')
    text_log = runner.invoke(app, ["search", "log", "-r", str(review_dir)]).stdout
    assert f"  sha256        {digest}\n" in text_log and "saved file" in text_log


def test_live_search_flags_with_from_file_are_a_usage_error(review_dir: Path) -> None:
    path = DATA / "pubmed1.xml"
    args = ["search", "-r", str(review_dir), "--from-file", str(path)]
    result = runner.invoke(app, [*args, "--mindate", "2020", "--maxdate", "2021"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--from-file': --mindate, --maxdate cannot apply to a saved "
        "result; the file holds what its search returned (drop them, or run a live search "
        "without --from-file)"
    )
    assert (
        json.loads(runner.invoke(app, ["search", "log", "-r", str(review_dir), "--json"]).stdout)
        == []
    )


def test_a_search_killed_mid_way_resumes_and_ends_with_every_record_once(
    review_dir: Path, server: EUtilsServer
) -> None:
    hold = server.inject(Fault("hold", endpoint="efetch", skip=2))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("NCBI_API_KEY", "CASEPOOL_REVIEW")},
        "CASEPOOL_EUTILS_URL": server.url,
        "NCBI_EMAIL": EMAIL,
    }
    args = ["search", "-r", str(review_dir), "--batch-size", "30"]
    code = "import sys; from review.cli import main; sys.argv[0] = 'casepool'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert hold.reached.wait(30), "the third EFetch never arrived"
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait(10)
    finally:
        hold.release.set()
    first_run = dict(pmid_counts(review_dir))
    assert len(first_run) == 60  # two batches committed, the third was in flight
    server.requests.clear()

    result = runner.invoke(app, args, env=env_for(server, NCBI_EMAIL=EMAIL))
    assert result.exit_code == 0, result.output
    assert "Note: resumed an interrupted run (search 1, started 20" in result.stderr
    assert result.stdout.startswith("128 records retrieved, 128 new to the review")
    refetched = {p for c in server.calls("efetch") for p in c.params["id"].split(",")}
    assert not refetched & set(first_run) and len(refetched) == 68
    assert server.calls("esearch") == []
    counts = pmid_counts(review_dir)
    assert sorted(counts) == sorted(server.records) and set(counts.values()) == {1}


def test_the_log_of_a_saved_result_says_casepool_did_not_run_its_query(review_dir: Path) -> None:
    saved = DATA / "pubmed1.xml"
    stated = runner.invoke(
        app, ["search", "-r", str(review_dir), "--from-file", str(saved), "--query", "x[ti]"]
    )
    assert stated.exit_code == 0, stated.output
    assumed = runner.invoke(app, ["search", "-r", str(review_dir), "--from-file", str(saved)])
    assert assumed.exit_code == 0, assumed.output
    log = runner.invoke(app, ["search", "log", "-r", str(review_dir)]).stdout
    first, second = log.split("Search ")[1:3]
    assert (
        "  query         x[ti]\n  (a saved result: casepool did not run this query; it is the "
        in first
    )
    assert "query the file holds as stated when it was loaded)" in first
    assert (
        "no query was stated when the file was loaded, so the protocol's query is assumed)"
        in second
    )
    import json

    entries = json.loads(
        runner.invoke(app, ["search", "log", "-r", str(review_dir), "--json"]).stdout
    )
    assert [e["query_origin"] for e in entries] == ["stated", "assumed"]


def test_each_retry_prints_one_line_saying_attempt_wait_and_cause(
    review_dir: Path, server: EUtilsServer
) -> None:
    server.inject(Fault("status", endpoint="esearch", status=503, retry_after="0"))
    server.inject(Fault("drop", endpoint="efetch"))
    result = runner.invoke(
        app,
        ["search", "-r", str(review_dir), "--email", EMAIL, "--query", "calcinosis"],
        env=env_for(server),
    )
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note: ")]
    assert len(notes) == 2
    assert notes[0].startswith(
        "Note: esearch failed (HTTP 503 Service Unavailable); attempt 2 of 6 in "
    )
    assert notes[1].startswith("Note: efetch failed (") and " attempt 2 of 6 in " in notes[1]
    assert notes[0].endswith(" s")


def test_an_unreachable_server_reports_each_attempt_before_giving_up() -> None:
    from review.pubmed.entrez import EntrezClient, EntrezConfig, Retry

    heard: list[Retry] = []
    config = EntrezConfig(
        email=EMAIL, base_url="http://127.0.0.1:9/", max_attempts=3, backoff_base=0.01
    )
    client = EntrezClient(config, on_retry=heard.append)
    from review.errors import SearchError

    with pytest.raises(SearchError, match="failed after 3 attempts"):
        client.esearch("x")
    assert [(r.endpoint, r.attempt, r.attempts) for r in heard] == [
        ("esearch", 1, 3),
        ("esearch", 2, 3),
    ]
    assert heard[0].reason.startswith("cannot connect to http://127.0.0.1:9/")


def test_a_saved_file_of_one_record_says_1_record(review_dir: Path, tmp_path: Path) -> None:
    text = (DATA / "pubmed5.xml").read_bytes()
    path = tmp_path / "one.xml"
    path.write_bytes(
        PUBMED_HEAD
        + text[text.index(b"<PubmedArticle>") : text.rindex(b"</PubmedArticleSet>")]
        + PUBMED_TAIL
    )
    result = runner.invoke(app, ["search", "-r", str(review_dir), "--from-file", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 record loaded from one.xml (sha256 ")
    assert ", 1 new to the review (loaded " in result.stdout
