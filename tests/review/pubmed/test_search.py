"""Search runs into the store: every record exactly once, resumable, logged, re-runnable."""

from __future__ import annotations

import gzip
import hashlib
import random
from datetime import date
from pathlib import Path

import pytest
from eutils_server import EUtilsServer, Fault, QuerySpec, fixture_records, synthetic_corpus
from progress_calls import Recorder
from stores import clock, records_of, store_snapshot

from review.errors import ParseError, SearchError
from review.pubmed.dates import DateLimitError, DateLimits
from review.pubmed.entrez import EntrezClient, EntrezConfig
from review.pubmed.log import SearchLogEntry
from review.pubmed.search import load_search_file, run_search
from review.store import Store
from review.store.search_log import list_runs as stored_runs


def list_runs(store: Store) -> list[SearchLogEntry]:
    with store.read() as tx:
        return stored_runs(tx)


DATA = Path(__file__).resolve().parents[2] / "data" / "pubmed"
KEY = "s3cr3t-api-key-0123456789"
EMAIL = "tester@example.org"
QUERY = '"systemic sclerosis"[tiab] AND rituximab'


def config(url: str, **overrides: object) -> EntrezConfig:
    settings: dict[str, object] = {
        "email": EMAIL,
        "base_url": url,
        "api_key": KEY,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "read_timeout": 0.5,
        "max_attempts": 4,
    }
    settings.update(overrides)
    return EntrezConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
def server():
    with EUtilsServer(fixture_records() + synthetic_corpus(120)) as running:
        yield running


def stored_pmids(store: Store) -> list[str]:
    return [str(r.source_id) for _, r in sorted(records_of(store).items())]


def efetched_ids(server: EUtilsServer) -> list[str]:
    return [p for c in server.calls("efetch") for p in c.params["id"].split(",")]


def test_a_search_stores_every_record_once_and_logs_it(store: Store, server: EUtilsServer) -> None:
    server.queries[QUERY] = QuerySpec(
        translation='"systemic sclerosis"[tiab] AND "rituximab"[MeSH Terms]',
        errors=(("FieldNotFound", "tiabx"),),
    )
    seen: list[tuple[int, int | None]] = []
    summary = run_search(
        store,
        QUERY,
        config=config(server.url),
        batch_size=50,
        progress=lambda _phase, d, t, _unit="": seen.append((d, t)),
        clock=clock,
    )
    pmids = stored_pmids(store)
    assert sorted(pmids) == sorted(server.records) and len(set(pmids)) == len(pmids)
    assert seen == [(0, 128), (50, 128), (100, 128), (128, 128)]
    assert len(server.calls("esearch")) == 1 and len(server.calls("efetch")) == 3
    log = summary.log
    assert (log.status, log.mode, log.database, log.query) == (
        "complete",
        "eutils",
        "pubmed",
        QUERY,
    )
    assert log.query_translation == '"systemic sclerosis"[tiab] AND "rituximab"[MeSH Terms]'
    assert (log.count, log.identified, log.fetched, log.records_new) == (128, 128, 128, 128)
    assert log.warnings == ("FieldNotFound: tiabx",)
    assert log.webenv.startswith("MCID_") and log.started_at <= log.finished_at
    assert summary.line().startswith("128 records retrieved, 128 new to the review (query run ")
    assert summary.notes() == ["PubMed: FieldNotFound: tiabx"]
    assert list_runs(store) == [log]


def test_date_limits_are_sent_and_logged(store: Store, server: EUtilsServer) -> None:
    summary = run_search(
        store, QUERY, config=config(server.url), limits=DateLimits("2016", "2016/06"), clock=clock
    )
    sent = server.calls("esearch")[0].params
    assert (sent["mindate"], sent["maxdate"], sent["datetype"]) == ("2016", "2016/06", "pdat")
    expected = [
        p for p, r in server.records.items() if date(2016, 1, 1) <= r.pdat <= date(2016, 6, 30)
    ]
    assert 0 < len(expected) < 128
    assert sorted(stored_pmids(store)) == sorted(expected)
    assert (summary.log.mindate, summary.log.maxdate, summary.log.datetype) == (
        "2016",
        "2016/06",
        "pdat",
    )


def test_every_record_arrives_once_under_a_storm_of_faults(
    store: Store, server: EUtilsServer
) -> None:
    for fault in [
        Fault("status", status=503),
        Fault("truncate", keep=0.3, skip=1),
        Fault("drop", skip=1),
        Fault("status", status=429, retry_after="0"),
        Fault("slow", delay=1.0, skip=2),
        Fault("status", status=502, skip=1),
    ]:
        fault.endpoint = "efetch"
        server.inject(fault)
    summary = run_search(store, QUERY, config=config(server.url), batch_size=20, clock=clock)
    pmids = stored_pmids(store)
    assert sorted(pmids) == sorted(server.records) and len(set(pmids)) == len(pmids)
    assert summary.retries == 6 and summary.log.status == "complete"
    assert server.max_in_window(1.0) <= 10


def test_a_rerun_adds_only_new_pmids(store: Store, server: EUtilsServer) -> None:
    run_search(store, QUERY, config=config(server.url), clock=clock)
    server.requests.clear()
    server.add_records(synthetic_corpus(7, first_pmid=39_000_000, seed=99))
    summary = run_search(store, QUERY, config=config(server.url), clock=clock)
    assert (summary.identified, summary.new, summary.log.already_in_review) == (135, 7, 128)
    assert sorted(efetched_ids(server)) == [str(39_000_000 + i) for i in range(7)]
    assert summary.line().startswith("135 records retrieved, 7 new to the review")
    assert len(stored_pmids(store)) == 135
    nothing_new = run_search(store, QUERY, config=config(server.url), clock=clock)
    assert nothing_new.new == 0 and len(list_runs(store)) == 3


def test_an_interrupted_run_resumes_where_it_stopped(store: Store, server: EUtilsServer) -> None:
    def interrupt_after_two_batches(
        _phase: str, done: int, total: int | None, _unit: str = ""
    ) -> None:
        if done == 60:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(
            store,
            QUERY,
            config=config(server.url),
            batch_size=30,
            progress=interrupt_after_two_batches,
            clock=clock,
        )
    assert len(stored_pmids(store)) == 60
    (interrupted,) = list_runs(store)
    assert (interrupted.status, interrupted.error, interrupted.pending) == (
        "failed",
        "interrupted",
        68,
    )
    kept = set(stored_pmids(store))
    server.requests.clear()
    summary = run_search(store, QUERY, config=config(server.url), batch_size=30, clock=clock)
    assert summary.resumed and summary.log.load_id == interrupted.load_id
    assert not server.calls("esearch")  # the stored PMID list is used, no new ESearch
    refetched = efetched_ids(server)
    assert set(refetched) == set(server.records) - kept and len(kept) == 60
    pmids = stored_pmids(store)
    assert sorted(pmids) == sorted(server.records) and len(set(pmids)) == len(pmids)
    assert (summary.log.status, summary.log.resumed, summary.log.records_new) == (
        "complete",
        1,
        128,
    )
    assert summary.notes()[0] == (
        f"resumed an interrupted run (search {interrupted.load_id}, started "
        f"{interrupted.started_at}); run the search again for records added since"
    )


def test_a_spent_retry_budget_keeps_what_was_fetched(store: Store, server: EUtilsServer) -> None:
    server.inject(Fault("status", endpoint="efetch", status=503, times=3, skip=2))
    with pytest.raises(SearchError) as info:
        run_search(
            store, QUERY, config=config(server.url, max_attempts=3), batch_size=40, clock=clock
        )
    assert str(info.value) == (
        "efetch failed after 3 attempts (last: HTTP 503 Service Unavailable); the review holds "
        "80 of the 128 records found, run the same search again to fetch the rest"
    )
    assert len(stored_pmids(store)) == 80
    summary = run_search(store, QUERY, config=config(server.url), batch_size=40, clock=clock)
    assert summary.resumed and len(stored_pmids(store)) == 128


def test_a_failed_esearch_leaves_the_store_as_it_was(store: Store, server: EUtilsServer) -> None:
    server.inject(Fault("status", endpoint="esearch", status=500, times=2))
    with pytest.raises(SearchError) as info:
        run_search(store, QUERY, config=config(server.url, max_attempts=2), clock=clock)
    assert str(info.value) == (
        "esearch failed after 2 attempts (last: HTTP 500 Internal Server Error)"
    )
    assert list_runs(store) == [] and stored_pmids(store) == []
    assert store_snapshot(store)["loads"] == []


def test_the_split_is_used_reported_and_logged(store: Store) -> None:
    records = synthetic_corpus(250, start=date(2018, 1, 1), end=date(2019, 12, 31))
    with EUtilsServer(records, cap=100) as server:
        summary = run_search(
            store,
            QUERY,
            config=config(server.url, esearch_cap=100),
            limits=DateLimits("2018/01/01", "2019/12/31", "edat"),
            clock=clock,
        )
    assert sorted(stored_pmids(store)) == sorted(server.records)
    windows = summary.log.windows
    assert len(windows) >= 3 and sum(w["count"] for w in windows) == 250
    assert windows[0]["mindate"] == "2018/01/01" and windows[-1]["maxdate"] == "2019/12/31"
    assert summary.notes() == [
        f"the query matched 250 records, more than ESearch returns at once: split into "
        f"{len(windows)} entry-date windows, PMIDs merged and deduplicated"
    ]


def test_windows_that_list_fewer_records_than_the_count_are_noted(store: Store) -> None:
    # 40 of the records carry an entry date after "today", so no window reaches them.
    records = synthetic_corpus(210, start=date(2019, 1, 1), end=date(2019, 6, 30))
    records += synthetic_corpus(40, first_pmid=31_000_000, start=date(2019, 8, 1))
    with EUtilsServer(records, cap=100) as server:
        summary = run_search(
            store,
            QUERY,
            config=config(server.url, esearch_cap=100),
            today=date(2019, 7, 1),
            clock=clock,
        )
    assert (summary.log.count, summary.identified) == (250, 210)
    assert summary.notes()[1] == (
        "ESearch counted 250 records but its entry-date windows listed 210 (records entered, "
        "removed or re-dated while the search ran); the log keeps both, run the search again "
        "to catch up"
    )


def test_the_api_key_never_reaches_the_store(store: Store, server: EUtilsServer) -> None:
    server.inject(Fault("status", endpoint="efetch", status=503, times=2))
    with pytest.raises(SearchError) as info:
        run_search(store, QUERY, config=config(server.url, max_attempts=2), clock=clock)
    assert KEY not in str(info.value)
    run_search(store, QUERY, config=config(server.url), clock=clock)
    assert len(stored_pmids(store)) == 128
    assert KEY not in repr(store_snapshot(store))
    if store.path is not None:
        for file in store.path.parent.iterdir():
            assert KEY.encode() not in file.read_bytes(), file.name


def test_bad_arguments_are_refused_before_any_request(store: Store, server: EUtilsServer) -> None:
    with pytest.raises(SearchError, match=r"^--batch-size 0 is out of range; use 1 to 10,000$"):
        run_search(store, QUERY, config=config(server.url), batch_size=0, clock=clock)
    with pytest.raises(DateLimitError, match=r"^maxdate '2020-12' is not a PubMed date"):
        run_search(
            store,
            QUERY,
            config=config(server.url),
            limits=DateLimits("2020", "2020-12"),
            clock=clock,
        )
    with pytest.raises(SearchError, match=r"^no e-mail address for NCBI: pass --email"):
        EntrezConfig.from_env(None, {})
    with pytest.raises(SearchError) as info:
        run_search(store, "  \n", config=config(server.url), clock=clock)
    assert str(info.value) == (
        "the PubMed query is empty; pass --query or set query under [search.pubmed]"
    )
    assert server.calls() == [] and list_runs(store) == []


# --- a saved EFetch result as the search result ---------------------------------------------


def saved_result(tmp_path: Path, *names: str, gz: bool = True) -> Path:
    from eutils_server import PUBMED_HEAD, PUBMED_TAIL

    body = PUBMED_HEAD
    for name in names:
        text = (DATA / name).read_bytes()
        body += text[text.index(b"<PubmedArticle>") : text.rindex(b"</PubmedArticleSet>")]
    body += PUBMED_TAIL
    path = tmp_path / ("result.xml.gz" if gz else "result.xml")
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


def test_a_saved_result_loads_with_its_name_and_sha256(tmp_path: Path, store: Store) -> None:
    path = saved_result(tmp_path, "pubmed1.xml", "pubmed2.xml", "pubmed4.xml")
    summary = load_search_file(store, path, query=QUERY, clock=clock)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    log = summary.log
    assert (log.mode, log.file_name, log.sha256, log.query) == (
        "file",
        "result.xml.gz",
        digest,
        QUERY,
    )
    assert (log.records_read, log.records_new, log.status) == (5, 5, "complete")
    assert summary.line().startswith(
        f"5 records loaded from result.xml.gz (sha256 {digest[:12]}), 5 new to the review"
    )
    again = load_search_file(store, path, clock=clock)
    assert (again.log.records_read, again.new, again.log.already_in_review) == (5, 0, 5)
    assert len(stored_pmids(store)) == 5


def test_a_broken_saved_result_changes_nothing(tmp_path: Path, store: Store) -> None:
    path = saved_result(tmp_path, "pubmed1.xml", "pubmed2.xml", gz=False)
    path.write_bytes(path.read_bytes()[:-60])
    with pytest.raises(ParseError):
        load_search_file(store, path, clock=clock)
    assert stored_pmids(store) == [] and list_runs(store) == []
    assert store_snapshot(store)["loads"] == []
    with pytest.raises(SearchError, match=r"no such file; give the path of a saved PubMed XML"):
        load_search_file(store, tmp_path / "nope.xml", clock=clock)
    with pytest.raises(SearchError) as info:
        load_search_file(store, tmp_path, clock=clock)
    assert (
        str(info.value)
        == f"{tmp_path}: is a folder; give the path of a saved PubMed XML file in it"
    )


def test_delete_citation_in_a_saved_file_withdraws_records(tmp_path: Path, store: Store) -> None:
    load_search_file(store, saved_result(tmp_path, "pubmed4.xml", gz=False), clock=clock)
    (pmid,) = stored_pmids(store)
    update = tmp_path / "update.xml"
    update.write_bytes(
        b'<?xml version="1.0"?>\n<PubmedArticleSet><DeleteCitation><PMID Version="1">'
        + pmid.encode()
        + b"</PMID></DeleteCitation></PubmedArticleSet>\n"
    )
    summary = load_search_file(store, update, clock=clock)
    assert summary.deleted == 1 and summary.notes() == ["1 record withdrawn by DeleteCitation"]
    (row,) = store_snapshot(store)["records"]
    assert row["deleted_at"] == clock()


def test_the_search_tables_refuse_an_unknown_mode(store: Store) -> None:
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from review.store.schema import search_runs

    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx.connection.execute(insert(search_runs).values(load_id=1, mode="carrier-pigeon"))


def test_a_client_can_be_passed_in(store: Store, server: EUtilsServer) -> None:
    client = EntrezClient(config(server.url))
    summary = run_search(store, QUERY, client=client, batch_size=100, clock=clock)
    assert summary.requests == client.requests_sent == 3


def test_pmids_efetch_does_not_return_are_logged_as_missing(
    store: Store, server: EUtilsServer
) -> None:
    gone = sorted(server.records)[5]

    def withdraw_before_fetching(
        _phase: str, done: int, total: int | None, _unit: str = ""
    ) -> None:
        server.records.pop(gone, None)

    summary = run_search(
        store, QUERY, config=config(server.url), progress=withdraw_before_fetching, clock=clock
    )
    assert (summary.log.missing, summary.log.fetched, summary.log.status) == (1, 127, "complete")
    assert gone not in stored_pmids(store)
    assert "1 PMID listed by ESearch, not returned by EFetch" in summary.notes()


def test_zero_hits_with_phrase_not_found_is_logged(store: Store, server: EUtilsServer) -> None:
    server.queries["abcXYZ"] = QuerySpec(
        pmids=frozenset(),
        translation="(abcXYZ[All Fields])",
        errors=(("PhraseNotFound", "abcXYZ"),),
        warnings=(("OutputMessage", "No items found."),),
    )
    summary = run_search(store, "abcXYZ", config=config(server.url), clock=clock)
    assert summary.line().startswith("0 records retrieved, 0 new to the review")
    assert summary.log.warnings == ("PhraseNotFound: abcXYZ", "OutputMessage: No items found.")
    assert server.calls("efetch") == [] and summary.log.status == "complete"


def test_loading_a_saved_file_reports_the_bytes_read(tmp_path: Path, store: Store) -> None:
    article = (
        "<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><ArticleTitle>Case "
        "{pmid}.</ArticleTitle><Abstract><AbstractText>{words}</AbstractText></Abstract>"
        "</Article></MedlineCitation></PubmedArticle>\n"
    )
    rng = random.Random(3)  # words gzip cannot squeeze into a few blocks
    body = "".join(
        article.format(
            pmid=40000000 + i, words=" ".join(f"{rng.getrandbits(40):x}" for _ in range(40))
        )
        for i in range(2000)
    )
    path = tmp_path / "saved.xml.gz"
    path.write_bytes(gzip.compress(f"<PubmedArticleSet>{body}</PubmedArticleSet>".encode()))
    recorder = Recorder()
    summary = load_search_file(store, path, clock=clock, progress=recorder)
    assert summary.log.records_read == 2000
    assert recorder.phases() == ["reading saved.xml.gz"]
    size = path.stat().st_size
    assert recorder.counts_up("reading saved.xml.gz", size, "bytes", updates=20)
