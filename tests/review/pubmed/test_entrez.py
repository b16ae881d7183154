"""The E-utilities client against the local server: politeness, retries, splitting, safety."""

from __future__ import annotations

import itertools
import logging
import random
import time
from datetime import date
from pathlib import Path

import pytest
from eutils_server import (
    XML_BOMB,
    XXE,
    EUtilsServer,
    Fault,
    fixture_records,
    synthetic_corpus,
    synthetic_record,
)

from review.errors import SearchError
from review.pubmed.dates import DateLimits
from review.pubmed.entrez import (
    EntrezClient,
    EntrezConfig,
    RateLimiter,
    backoff_delay,
    build_request,
    parse_retry_after,
)
from review.pubmed.entrez_xml import MalformedResponse, parse_epost, parse_esearch

DATA = Path(__file__).resolve().parents[2] / "data" / "pubmed"
KEY = "s3cr3t-api-key-0123456789"
EMAIL = "tester@example.org"


def fast_config(url: str, **overrides: object) -> EntrezConfig:
    """Tiny backoff and timeouts so fault tests run in well under a second each."""
    settings: dict[str, object] = {
        "email": EMAIL,
        "base_url": url,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "read_timeout": 0.5,
        "connect_timeout": 0.5,
        "max_attempts": 4,
    }
    settings.update(overrides)
    return EntrezConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
def server():
    with EUtilsServer(fixture_records() + synthetic_corpus(40)) as running:
        yield running


# --- config and request building -----------------------------------------------------------


def test_missing_email_is_a_clear_error_saying_what_to_do() -> None:
    with pytest.raises(SearchError) as info:
        EntrezConfig.from_env(None, env={})
    assert str(info.value) == (
        "no e-mail address for NCBI: pass --email you@example.org, set NCBI_EMAIL, "
        "or add email under [search.pubmed] in the protocol"
    )


def test_a_malformed_email_is_refused() -> None:
    with pytest.raises(SearchError, match=r"^'me-at-home' is not an e-mail address"):
        EntrezConfig(email="me-at-home")


def test_config_reads_url_and_key_from_the_environment_only() -> None:
    env = {"CASEPOOL_EUTILS_URL": "http://127.0.0.1:9/eu", "NCBI_API_KEY": KEY}
    config = EntrezConfig.from_env(EMAIL, env=env)
    assert config.base_url == "http://127.0.0.1:9/eu/"
    assert config.api_key == KEY
    assert config.requests_per_second == 10
    assert EntrezConfig.from_env(EMAIL, env={}).requests_per_second == 3
    assert EntrezConfig.from_env(EMAIL, env={}).base_url.startswith("https://eutils.ncbi.nlm")


def test_the_api_key_never_shows_in_reprs() -> None:
    config = EntrezConfig(email=EMAIL, api_key=KEY)
    request = build_request(config, "esearch", [("term", "x")])
    client = EntrezClient(config)
    for text in (repr(config), str(config), repr(request), repr(client), request.describe()):
        assert KEY not in text
    assert ("api_key", KEY) in request.params
    assert ("tool", "casepool") in request.params and ("email", EMAIL) in request.params
    assert "?" not in request.url


# --- pacing and backoff ----------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("limit", [3, 10])
def test_the_limiter_never_allows_more_than_the_limit_in_any_window(limit: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit, 1.0, clock=clock, sleep=clock.sleep)
    rng = random.Random(1)
    starts = []
    for _ in range(200):
        clock.now += rng.choice([0.0, 0.0, 0.01, 0.2, 0.7])
        limiter.acquire()
        starts.append(clock.now)
    for i, t in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < t + 1.0) <= limit
    # and it is not slower than it must be: a burst of `limit` goes out at once
    clock.now += 5
    first = clock.now
    for _ in range(limit):
        limiter.acquire()
    assert clock.now == first


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    config = EntrezConfig(email=EMAIL, backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(3)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [backoff_delay(attempt, config, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# --- parsing replies ---------------------------------------------------------------------


def test_esearch_reply_with_history_and_translation() -> None:
    result = parse_esearch((DATA / "esearch2.xml").read_bytes())
    assert (result.count, result.retmax, len(result.ids)) == (42249, 100, 100)
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190" and result.query_key == "1"
    assert result.ids[0] == "41297076"
    assert result.query_translation.endswith("AND 2025/09/27:2025/11/26[Date - Entry]")


def test_esearch_phrase_not_found_and_messages_become_warnings() -> None:
    result = parse_esearch((DATA / "esearch8.xml").read_bytes())
    assert result.count == 0 and result.ids == ()
    assert result.warnings == ("PhraseNotFound: abcXYZ", "OutputMessage: No items found.")


def test_epost_reply_and_its_errors() -> None:
    ref = parse_epost((DATA / "epost1.xml").read_bytes())
    assert (ref.webenv, ref.query_key) == ("MCID_692851c130aec64bed0a8c2a", "1")
    with pytest.raises(SearchError) as info:
        parse_epost((DATA / "epost3.xml").read_bytes())
    assert str(info.value) == (
        "EPost refused: Empty ID list; Nothing to store; Some IDs have invalid value and "
        "were omitted. Maximum ID value 18446744073709551615"
    )


def test_a_truncated_reply_is_malformed() -> None:
    body = (DATA / "esearch2.xml").read_bytes()
    with pytest.raises(MalformedResponse):
        parse_esearch(body[: len(body) // 2])


# --- against the local server -------------------------------------------------------------


def test_search_and_fetch_return_every_fixture_record(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url))
    found = client.search_ids("case report")
    assert found.count == len(server.records) == len(found.pmids)
    assert found.webenv and found.query_key == "1"
    items = client.efetch(ids=found.pmids)
    assert sorted(r.pmid for r in items) == sorted(server.records)
    first = server.calls("esearch")[0].params
    assert first["usehistory"] == "y" and first["retmax"] == "10000" and first["db"] == "pubmed"


def test_efetch_pages_through_a_posted_history_set(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url))
    pmids = sorted(server.records)[:25]
    ref = client.epost(pmids)
    page = client.efetch(history=ref, retstart=10, retmax=10)
    assert [r.pmid for r in page] == pmids[10:20]
    fetch = server.calls("efetch")[0].params
    assert (fetch["WebEnv"], fetch["query_key"], fetch["retstart"]) == (ref.webenv, "1", "10")


def test_every_request_is_a_post_with_tool_and_email_and_the_key_only_in_the_body(
    server: EUtilsServer,
) -> None:
    client = EntrezClient(fast_config(server.url, api_key=KEY))
    ids = client.search_ids("x").pmids
    client.efetch(ids=ids[:300])
    calls = server.calls()
    assert len(calls) == 2
    for call in calls:
        assert call.method == "POST" and "?" not in call.path and KEY not in call.path
        assert call.params["tool"] == "casepool" and call.params["email"] == EMAIL
        assert call.params["api_key"] == KEY


def test_the_client_never_exceeds_three_requests_in_any_second() -> None:
    with EUtilsServer(synthetic_corpus(30)) as server:
        client = EntrezClient(fast_config(server.url))
        start = time.monotonic()
        for i in range(10):
            client.esearch("x", retmax=5, retstart=i)
        elapsed = time.monotonic() - start
        assert server.max_in_window(1.0) == 3
        assert client.retries == 0  # the server never had to answer 429
        assert 3.0 <= elapsed < 4.0  # and no slower than the limit requires


def test_with_a_key_the_client_never_exceeds_ten_requests_in_any_second() -> None:
    with EUtilsServer(synthetic_corpus(30)) as server:
        client = EntrezClient(fast_config(server.url, api_key=KEY))
        start = time.monotonic()
        for i in range(25):
            client.esearch("x", retmax=5, retstart=i)
        assert server.max_in_window(1.0) == 10
        assert client.retries == 0
        assert 2.0 <= time.monotonic() - start < 3.0


def test_the_server_answers_429_to_an_impolite_client() -> None:
    with EUtilsServer(synthetic_corpus(3)) as server:
        unpaced = RateLimiter(1000)
        client = EntrezClient(fast_config(server.url, max_attempts=1), limiter=unpaced)
        with pytest.raises(SearchError) as info:
            for _ in range(5):
                client.esearch("x")
        assert (
            str(info.value) == "esearch failed after 1 attempts (last: HTTP 429 Too Many Requests)"
        )


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=503),
        Fault("status", status=500),
        Fault("status", status=502, times=2),
        Fault("status", status=429),
        Fault("truncate", keep=0.6),
        Fault("truncate", keep=0.02),
        Fault("short", keep=0.5),
        Fault("drop"),
        Fault("slow", delay=1.5),
        Fault("body", body=b"<html><body>Proxy error</body></html>"),
    ],
    ids=lambda f: f"{f.kind}-{f.status if f.kind == 'status' else f.keep}",
)
def test_transient_faults_are_retried_and_every_record_arrives_once(
    server: EUtilsServer, fault: Fault
) -> None:
    client = EntrezClient(fast_config(server.url, api_key=KEY))
    pmids = client.search_ids("x").pmids
    fault.endpoint = "efetch"
    expected_retries = fault.times
    server.inject(fault)
    items = client.efetch(ids=pmids)
    assert sorted(r.pmid for r in items) == sorted(pmids)
    assert client.retries == expected_retries
    assert len(server.calls("efetch")) == client.retries + 1


def test_esearch_faults_are_retried_too(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url, api_key=KEY))
    server.inject(Fault("truncate", endpoint="esearch", keep=0.5))
    server.inject(Fault("drop", endpoint="esearch"))
    assert len(client.search_ids("x").pmids) == len(server.records)
    assert client.retries == 2


def test_retry_after_is_honoured(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url, api_key=KEY))
    server.inject(Fault("status", endpoint="esearch", status=429, retry_after="1"))
    client.esearch("x")
    first, second = server.calls("esearch")
    assert second.time - first.time >= 1.0


def test_a_retry_after_beyond_patience_fails_at_once(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url, max_retry_after=30))
    server.inject(Fault("status", endpoint="esearch", status=503, retry_after="3600"))
    with pytest.raises(SearchError) as info:
        client.esearch("x")
    assert str(info.value) == (
        "esearch: NCBI asked to wait 3600 s (HTTP 503 Service Unavailable); try again later"
    )


def test_a_spent_retry_budget_is_a_clear_error(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url, max_attempts=3))
    server.inject(Fault("status", endpoint="efetch", status=503, times=5))
    with pytest.raises(SearchError) as info:
        client.efetch(ids=["30000001"])
    assert str(info.value) == (
        "efetch failed after 3 attempts (last: HTTP 503 Service Unavailable)"
    )
    assert len(server.calls("efetch")) == 3


def test_a_timeout_budget_is_a_clear_error(server: EUtilsServer) -> None:
    client = EntrezClient(fast_config(server.url, max_attempts=2, read_timeout=0.2))
    server.inject(Fault("slow", endpoint="esearch", delay=1.0, times=2))
    with pytest.raises(SearchError, match=r"^esearch failed after 2 attempts \(last: timed out\)$"):
        client.esearch("x")


def test_a_client_error_is_not_retried_and_the_key_is_redacted(
    server: EUtilsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = EntrezClient(fast_config(server.url, api_key=KEY))
    server.inject(Fault("echo", endpoint="esearch", status=400))
    with pytest.raises(SearchError) as info:
        client.esearch("x")
    message = str(info.value)
    assert message.startswith("esearch was refused by E-utilities (HTTP 400): ")
    assert "api_key=***" in message and KEY not in message
    assert info.value.__cause__ is None
    assert len(server.calls("esearch")) == 1
    assert KEY not in caplog.text


def test_connection_errors_do_not_leak_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = EntrezClient(fast_config("http://127.0.0.1:9/eutils/", api_key=KEY, max_attempts=2))
    with pytest.raises(SearchError) as info:
        client.esearch("x")
    assert str(info.value) == (
        "esearch failed after 2 attempts (last: cannot connect to http://127.0.0.1:9/eutils/ "
        "(ConnectionError); check the network connection, or $CASEPOOL_EUTILS_URL if you set it)"
    )
    assert KEY not in caplog.text


def test_the_split_beyond_the_cap_finds_every_pmid_once() -> None:
    # 250 hits with a cap of 100: uneven dates, so some windows must be split again.
    records = synthetic_corpus(150, start=date(2019, 1, 1), end=date(2019, 12, 31), seed=1)
    records += [synthetic_record(31_000_000 + i, date(2020, 3, 1 + i % 20)) for i in range(100)]
    with EUtilsServer(records, cap=100) as server:
        client = EntrezClient(fast_config(server.url, api_key=KEY, esearch_cap=100))
        found = client.search_ids("x", limits=DateLimits("2019/01/01", "2020/12/31", "edat"))
        assert found.count == 250
        assert sorted(found.pmids) == sorted(server.records)
        assert sum(w.count for w in found.windows) == 250
        assert all(w.count <= 100 for w in found.windows)
        assert found.duplicates_removed == 0
        for before, after in itertools.pairwise(found.windows):
            assert (after.mindate - before.maxdate).days == 1
        assert found.windows[0].mindate == date(2019, 1, 1)
        assert found.windows[-1].maxdate == date(2020, 12, 31)
        terms = [c.params["term"] for c in server.calls("esearch")[1:]]
        assert all(t.startswith('(x) AND ("20') and t.endswith('"[EDAT])') for t in terms)
        assert len(terms) > 3  # the dense March 2020 window was bisected


def test_a_server_listing_fewer_ids_than_it_counts_is_split_not_truncated() -> None:
    # The server stops at 100 ids while the client expects PubMed's 10,000: the search
    # must notice the short list and split, not keep the first 100 and call it complete.
    records = synthetic_corpus(250, start=date(2019, 1, 1), end=date(2019, 12, 31), seed=3)
    with EUtilsServer(records, cap=100) as server:
        client = EntrezClient(fast_config(server.url, api_key=KEY))
        found = client.search_ids("x", today=date(2024, 1, 1))
    assert found.count == 250
    assert sorted(found.pmids) == sorted(server.records)
    assert found.windows and all(w.count <= 100 for w in found.windows)


def test_a_count_without_any_ids_is_a_clear_error(server: EUtilsServer) -> None:
    body = (
        b'<?xml version="1.0"?><eSearchResult><Count>42</Count><RetMax>0</RetMax>'
        b"<RetStart>0</RetStart><IdList/><QueryTranslation>x</QueryTranslation></eSearchResult>"
    )
    server.inject(Fault("body", endpoint="esearch", body=body))
    client = EntrezClient(fast_config(server.url))
    with pytest.raises(SearchError) as info:
        client.search_ids("x")
    assert str(info.value) == (
        "ESearch counted 42 records but listed none of their PMIDs; try again later, "
        "and check $CASEPOOL_EUTILS_URL if you set it"
    )


def test_more_hits_on_one_entry_day_than_the_cap_is_a_clear_error() -> None:
    records = [synthetic_record(32_000_000 + i, date(2021, 5, 4)) for i in range(12)]
    with EUtilsServer(records, cap=10) as server:
        client = EntrezClient(fast_config(server.url, api_key=KEY, esearch_cap=10))
        with pytest.raises(SearchError) as info:
            client.search_ids("x", limits=DateLimits("2021/05/01", "2021/05/31", "edat"))
    assert str(info.value) == (
        "12 records were entered on 2021/05/04, more than ESearch's limit of 10 for one "
        "entry-date window; narrow the query or its date limits"
    )


def test_esearch_past_the_cap_is_refused_by_pubmed(server: EUtilsServer) -> None:
    server.cap = 20
    client = EntrezClient(fast_config(server.url))
    with pytest.raises(SearchError, match=r"^PubMed refused the search: Search Backend failed"):
        client.esearch("x", retstart=25)


@pytest.mark.parametrize(("endpoint", "body"), [("esearch", XML_BOMB), ("efetch", XXE)])
def test_an_xml_bomb_or_external_entity_is_refused_not_expanded(
    server: EUtilsServer, endpoint: str, body: bytes
) -> None:
    client = EntrezClient(fast_config(server.url))
    server.inject(Fault("body", endpoint=endpoint, body=body))
    with pytest.raises(SearchError) as info:
        client.esearch("x") if endpoint == "esearch" else client.efetch(ids=["1"])
    assert str(info.value) == (
        f"{endpoint}: the reply declares its own DTD (entities), which E-utilities never "
        "sends; refused without expanding it. Check CASEPOOL_EUTILS_URL"
    )
    assert len(server.calls(endpoint)) == 1
