"""The PRISMA-S search log as a person reads it (pure)."""

from __future__ import annotations

from review.pubmed.log import SearchLogEntry, log_lines


def entry(**changes: object) -> SearchLogEntry:
    values: dict[str, object] = {
        "load_id": 3, "mode": "eutils", "database": "pubmed", "query": "rituximab\n AND ssc",
        "query_origin": "run",
        "query_translation": '"rituximab"[MeSH Terms]', "count": 12_345, "warnings": (),
        "mindate": None, "maxdate": None, "datetype": None, "started_at": "2026-12-01T10:00:00Z",
        "finished_at": "2026-12-01T10:01:00Z", "status": "complete", "identified": 12_345,
        "fetched": 12_000, "already_in_review": 345, "missing": 0, "pending": 0,
        "records_read": 12_000, "records_new": 12_000, "windows": (), "file_name": None,
        "sha256": None, "webenv": None, "query_key": None, "batch_size": 500, "error": None,
        "resumed": 0,
    }  # fmt: skip
    values.update(changes)
    return SearchLogEntry(**values)  # type: ignore[arg-type]


def test_a_live_search_shows_query_translation_limits_and_counts() -> None:
    lines = dict(log_lines(entry(mindate="2020", maxdate="2021", datetype="pdat")))
    assert lines[""] == "Search 3: complete"
    assert lines["query"] == "rituximab AND ssc"
    assert lines["date limits"] == "2020 to 2021 (pdat)"
    assert lines["count"] == "12,345"
    assert lines["retrieved"] == "12,345 (345 already in the review)"


def test_an_unfinished_run_says_how_to_resume_and_a_file_load_names_its_file() -> None:
    stuck = log_lines(entry(status="failed", pending=40, error="HTTP 503"))
    assert stuck[0][1] == "Search 3: failed (40 PMIDs still to fetch: run the same search again)"
    assert ("error", "HTTP 503") in stuck
    loaded = dict(log_lines(entry(mode="file", file_name="saved.xml", sha256="ab12")))
    assert loaded["database"] == "pubmed (saved file)"
    assert (loaded["file"], loaded["sha256"]) == ("saved.xml", "ab12")
    assert "translation" not in loaded


def test_counts_in_the_log_are_singular_for_one() -> None:
    lines = dict(
        log_lines(
            entry(
                status="failed",
                pending=1,
                missing=1,
                resumed=1,
                windows=({"mindate": "2020/01/01", "maxdate": "2020/12/31", "count": 9_000},),
            )
        )
    )
    assert lines[""] == "Search 3: failed (1 PMID still to fetch: run the same search again)"
    assert lines["missing"] == "1 PMID listed by ESearch, not returned by EFetch"
    assert lines["resumed"] == "1 time"
    assert lines["split"] == "1 entry-date window: 2020/01/01-2020/12/31 (9,000)"
