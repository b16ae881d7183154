"""A local E-utilities server for the tests: real HTTP on 127.0.0.1, a thread per request.

Serves ESearch (Count, RetStart/RetMax, WebEnv/QueryKey, QueryTranslation, ErrorList and
WarningList, the 10,000-hit cap as a parameter, ``mindate``/``maxdate`` limits and
``("YYYY/MM/DD"[EDAT] : "YYYY/MM/DD"[EDAT])`` entry-date windows), EPost and EFetch
(PubMed XML by ``id`` or from the history server). Like NCBI it answers 429 when more
than 3 requests (10 with an ``api_key``) arrive in any one-second window. It records every
request with its arrival time, and injects faults on demand: a status (5xx, 429 with
Retry-After), a slow reply, a truncated body, a dropped connection, or a body of your own.

Record XML comes from real EFetch fixtures (``tests/data/pubmed/``, Biopython's test
files); the synthetic corpus reuses one real article as a template.
"""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

DATA = Path(__file__).resolve().parents[1] / "data" / "pubmed"
FIXTURE_FILES = (
    "pubmed1.xml",
    "pubmed2.xml",
    "pubmed4.xml",
    "pubmed5.xml",
    "pubmed6.xml",
    "pubmed7.xml",
)
PUBMED_HEAD = (
    b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    b"<PubmedArticleSet>\n"
)
PUBMED_TAIL = b"</PubmedArticleSet>\n"
ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
    'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
_WINDOW = re.compile(
    r'^\((?P<query>.*)\) AND \("(?P<lo>\d{4}/\d{2}/\d{2})"\[EDAT\] : '
    r'"(?P<hi>\d{4}/\d{2}/\d{2})"\[EDAT\]\)$',
    re.DOTALL,
)

XML_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    b' <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n'
    b"]>\n<eSearchResult><Count>&lol4;</Count></eSearchResult>\n"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n'
    b' <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
    b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
    b"<ArticleTitle>&xxe;</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
    b"</PubmedArticleSet>\n"
)


@dataclass(frozen=True)
class FakeRecord:
    """One record the server knows: its PMID, dates for limits and windows, and its XML."""

    pmid: str
    edat: date
    pdat: date
    xml: bytes


@dataclass(frozen=True)
class QuerySpec:
    """How the server answers one query: which PMIDs match, and what PubMed would say."""

    pmids: frozenset[str] | None = None
    translation: str | None = None
    errors: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[str, str], ...] = ()


@dataclass
class Fault:
    """A misbehaviour for the next matching request(s).

    kind: 'status' (HTTP ``status``, optional ``retry_after``), 'slow' (wait ``delay``
    seconds, then answer normally), 'truncate' (the real body cut to ``keep`` of its
    length, with a matching Content-Length), 'short' (the full Content-Length announced,
    ``keep`` of the body sent, connection closed), 'drop' (reset the connection, no reply),
    'body' (answer 200 with ``body``), 'echo' (answer ``status`` quoting the request's
    parameters back, as a careless proxy might), 'hold' (wait until ``release`` is set).
    """

    kind: str
    endpoint: str | None = None
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    keep: float = 0.5
    body: bytes = b""
    times: int = 1
    skip: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    reached: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as it arrived (monotonic time), with its merged query and form params."""

    time: float
    method: str
    path: str
    endpoint: str
    params: dict[str, str]


def _article_elements(path: Path) -> list[etree._Element]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    return list(root.iter("PubmedArticle"))


def _entrez_date(article: etree._Element) -> date:
    node = article.find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']")
    if node is None:
        return date(2000, 1, 1)
    return date(int(node.findtext("Year")), int(node.findtext("Month")), int(node.findtext("Day")))


def fixture_records() -> list[FakeRecord]:
    """The real articles of the EFetch fixtures, served as they are."""
    found = []
    for name in FIXTURE_FILES:
        for article in _article_elements(DATA / name):
            pmid = article.findtext("MedlineCitation/PMID").strip()
            edat = _entrez_date(article)
            found.append(FakeRecord(pmid, edat, edat, etree.tostring(article)))
    return found


_TEMPLATE: str | None = None


def _template() -> str:
    """The first article of pubmed2.xml with placeholders for PMID, title and dates."""
    global _TEMPLATE
    if _TEMPLATE is None:
        article = _article_elements(DATA / "pubmed2.xml")[0]
        article.find("MedlineCitation/PMID").text = "@PMID@"
        article.find("MedlineCitation/Article/ArticleTitle").text = "@TITLE@"
        pub_date = article.find("MedlineCitation/Article/Journal/JournalIssue/PubDate")
        for child in list(pub_date):
            pub_date.remove(child)
        etree.SubElement(pub_date, "Year").text = "@PYEAR@"
        entrez = article.find("PubmedData/History/PubMedPubDate[@PubStatus='entrez']")
        entrez.find("Year").text, entrez.find("Month").text = "@EYEAR@", "@EMONTH@"
        entrez.find("Day").text = "@EDAY@"
        for node in article.iterfind("PubmedData/ArticleIdList/ArticleId"):
            if node.get("IdType") == "pubmed":
                node.text = "@PMID@"
            elif node.get("IdType") == "doi":
                node.text = "10.5555/synthetic.@PMID@"
        for node in article.iterfind("MedlineCitation/Article/ELocationID"):
            node.getparent().remove(node)
        _TEMPLATE = etree.tostring(article, encoding="unicode")
    return _TEMPLATE


def synthetic_record(pmid: int, edat: date, title: str | None = None) -> FakeRecord:
    """A realistic article (from a real template) with the given PMID and entry date."""
    text = (
        _template()
        .replace("@PMID@", str(pmid))
        .replace("@TITLE@", escape(title or f"Synthetic case report number {pmid}."))
        .replace("@PYEAR@", str(edat.year))
        .replace("@EYEAR@", str(edat.year))
        .replace("@EMONTH@", str(edat.month))
        .replace("@EDAY@", str(edat.day))
    )
    return FakeRecord(str(pmid), edat, edat, text.encode("utf-8"))


def synthetic_corpus(
    n: int,
    *,
    first_pmid: int = 30_000_000,
    start: date = date(2015, 1, 1),
    end: date = date(2020, 12, 31),
    seed: int = 7,
) -> list[FakeRecord]:
    """``n`` records with entry dates spread at random (seeded) over ``[start, end]``."""
    rng = random.Random(seed)
    days = (end - start).days
    return [
        synthetic_record(first_pmid + i, start + timedelta(days=rng.randint(0, days)))
        for i in range(n)
    ]


def _day(value: str, *, end: bool) -> date:
    parts = [int(p) for p in value.split("/")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        first = date(parts[0], parts[1], 1)
        return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1) if end else first
    return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)


class EUtilsServer:
    """The server and its state; use as a context manager (``with EUtilsServer(...) as s``)."""

    def __init__(
        self,
        records: Iterable[FakeRecord] = (),
        *,
        cap: int = 10_000,
        rate_limit: int = 3,
        key_rate_limit: int = 10,
        queries: dict[str, QuerySpec] | None = None,
    ) -> None:
        self.records: dict[str, FakeRecord] = {}
        self.add_records(records)
        self.cap = cap
        self.rate_limit = rate_limit
        self.key_rate_limit = key_rate_limit
        self.queries = dict(queries or {})
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.history: dict[str, dict[str, list[str]]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -------------------------------------------------------------------------

    def add_records(self, records: Iterable[FakeRecord]) -> None:
        for record in records:
            self.records[record.pmid] = record

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    def start(self) -> EUtilsServer:
        handler = type("Handler", (_Handler,), {"app": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for fault in self.faults:
            fault.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> EUtilsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests ask ------------------------------------------------------------------

    def calls(self, endpoint: str | None = None) -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.requests if endpoint in (None, r.endpoint)]

    def max_in_window(self, window: float = 1.0) -> int:
        """The most requests that arrived within any ``window`` seconds."""
        times = sorted(r.time for r in self.calls())
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] <= t - window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # --- answering -------------------------------------------------------------------------

    def take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.endpoint not in (None, endpoint):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def admit(self, entry: LoggedRequest, has_key: bool) -> bool:
        """Log the request; False if it is one too many for the last second (NCBI's 429)."""
        limit = self.key_rate_limit if has_key else self.rate_limit
        with self.lock:
            recent = sum(1 for r in self.requests if r.time > entry.time - 1.0)
            self.requests.append(entry)
        return recent < limit

    def matching(self, term: str) -> tuple[list[str], QuerySpec]:
        window = _WINDOW.match(term)
        query = window["query"] if window else term
        spec = self.queries.get(query, QuerySpec())
        pool = (
            [self.records[p] for p in spec.pmids or () if p in self.records]
            if (spec.pmids is not None)
            else list(self.records.values())
        )
        if window:
            lo, hi = _day(window["lo"], end=False), _day(window["hi"], end=True)
            pool = [r for r in pool if lo <= r.edat <= hi]
        pool.sort(key=lambda r: int(r.pmid), reverse=True)
        return [r.pmid for r in pool], spec

    def esearch(self, params: dict[str, str]) -> bytes:
        term = params.get("term", "")
        pmids, spec = self.matching(term)
        if params.get("mindate") and params.get("maxdate"):
            lo = _day(params["mindate"], end=False)
            hi = _day(params["maxdate"], end=True)
            kind = params.get("datetype", "pdat")
            pmids = [
                p
                for p in pmids
                if lo <= (self.records[p].edat if kind == "edat" else self.records[p].pdat) <= hi
            ]
        retstart = int(params.get("retstart", "0"))
        retmax = int(params.get("retmax", "20"))
        if retstart >= self.cap:
            return (
                ESEARCH_HEAD + "<eSearchResult><ERROR>Search Backend failed: Exception:\n"
                f"'retstart' cannot be larger than {self.cap - 1}. For PubMed, ESearch can "
                f"only retrieve the first {self.cap} records matching the query."
                "</ERROR></eSearchResult>\n"
            ).encode()
        ids = pmids[retstart : min(retstart + retmax, self.cap)]
        history = ""
        if params.get("usehistory") == "y":
            webenv, key = self.remember(params.get("WebEnv"), pmids)
            history = f"<QueryKey>{key}</QueryKey><WebEnv>{webenv}</WebEnv>"
        translation = spec.translation or f'"{escape(term)}"[All Fields]'
        errors = "".join(f"<{tag}>{escape(text)}</{tag}>" for tag, text in spec.errors)
        warnings = "".join(f"<{tag}>{escape(text)}</{tag}>" for tag, text in spec.warnings)
        return (
            ESEARCH_HEAD
            + f"<eSearchResult><Count>{len(pmids)}</Count><RetMax>{len(ids)}</RetMax>"
            + f"<RetStart>{retstart}</RetStart>{history}<IdList>\n"
            + "".join(f"<Id>{p}</Id>\n" for p in ids)
            + f"</IdList><TranslationSet/><QueryTranslation>{translation}</QueryTranslation>"
            + (f"<ErrorList>{errors}</ErrorList>" if errors else "")
            + (f"<WarningList>{warnings}</WarningList>" if warnings else "")
            + "</eSearchResult>\n"
        ).encode()

    def remember(self, webenv: str | None, pmids: list[str]) -> tuple[str, str]:
        with self.lock:
            if not webenv or webenv not in self.history:
                webenv = f"MCID_{uuid.uuid4().hex[:24]}"
                self.history[webenv] = {}
            sets = self.history[webenv]
            key = str(len(sets) + 1)
            sets[key] = list(pmids)
        return webenv, key

    def epost(self, params: dict[str, str]) -> bytes:
        ids = [p for p in params.get("id", "").split(",") if p.strip()]
        head = (
            b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE ePostResult PUBLIC "-//NLM//'
            b'DTD epost 20090526//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20090526/'
            b'epost.dtd">'
        )
        if not ids:
            return (
                head
                + b"<ePostResult>\n\t<ERROR>Empty ID list; Nothing to store</ERROR>\n"
                + b"</ePostResult>\n"
            )
        webenv, key = self.remember(params.get("WebEnv"), ids)
        return (
            head
            + (
                f"<ePostResult>\n\t<QueryKey>{key}</QueryKey>\n\t<WebEnv>{webenv}</WebEnv>\n"
                "</ePostResult>\n"
            ).encode()
        )

    def efetch(self, params: dict[str, str]) -> bytes:
        if params.get("id"):
            ids = [p.strip() for p in params["id"].split(",") if p.strip()]
        else:
            stored = self.history.get(params.get("WebEnv", ""), {}).get(params.get("query_key", ""))
            if stored is None:
                return b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"
            start = int(params.get("retstart", "0"))
            ids = stored[start : start + int(params.get("retmax", "20"))]
        return (
            PUBMED_HEAD
            + b"\n".join(self.records[p].xml for p in ids if p in self.records)
            + b"\n"
            + PUBMED_TAIL
        )


class _Handler(BaseHTTPRequestHandler):
    app: EUtilsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._serve(dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = self.rfile.read(length).decode("utf-8")
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        params.update(parse_qsl(form, keep_blank_values=True))
        self._serve(params)

    def _serve(self, params: dict[str, str]) -> None:
        app = self.app
        now = time.monotonic()
        endpoint = urlsplit(self.path).path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        entry = LoggedRequest(now, self.command, self.path, endpoint, params)
        if not app.admit(entry, bool(params.get("api_key"))):
            body = json.dumps({"error": "API rate limit exceeded", "limit": "3"}).encode()
            return self._reply(429, body, "application/json")
        fault = app.take_fault(endpoint)
        if fault is not None:
            fault.reached.set()
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self._reply(fault.status, b"<html>error</html>", "text/html", headers)
            if fault.kind == "drop":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return None
            if fault.kind == "echo":  # a careless server quoting the request back
                body = urlencode(params).encode()
                return self._reply(fault.status, body, "text/plain")
            if fault.kind == "body":
                return self._reply(200, fault.body, "text/xml")
            if fault.kind == "slow":
                app.stopping.wait(fault.delay)
            if fault.kind == "hold":
                fault.release.wait(60)
        handler = {"esearch": app.esearch, "efetch": app.efetch, "epost": app.epost}.get(endpoint)
        if handler is None:
            return self._reply(404, b"unknown endpoint", "text/plain")
        body = handler(params)
        if fault is not None and fault.kind == "truncate":
            body = body[: int(len(body) * fault.keep)]
        if fault is not None and fault.kind == "short":
            return self._reply(200, body, "text/xml; charset=UTF-8", cut=fault.keep)
        return self._reply(200, body, "text/xml; charset=UTF-8")

    def _reply(
        self,
        status: int,
        body: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
        cut: float | None = None,
    ) -> None:
        """Send a reply; with ``cut``, only that share of the announced body, then hang up."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if cut is None:
                self.wfile.write(body)
            else:
                self.wfile.write(body[: int(len(body) * cut)])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            self.close_connection = True
