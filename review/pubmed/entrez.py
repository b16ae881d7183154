"""The E-utilities client: the only module that talks to NCBI.

Modelled on Biopython's ``Bio.Entrez`` (request building, sending and parsing kept apart),
without its module-level settings: every call takes an ``EntrezConfig``. Politeness follows
NCBI's E-utilities usage guidelines: ``tool`` and ``email`` on every request, at most 3
requests per second (10 with an API key) over any one-second window, and backing off
(exponential, with jitter, honouring ``Retry-After``) on 429, 5xx, timeouts, dropped
connections and truncated or malformed bodies.

Every request is an HTTP POST with a form body: NCBI asks for POST beyond about 200 ids,
and this way no parameter (the API key above all) ever appears in a URL, an exception
message or urllib3's debug log.
"""

from __future__ import annotations

import math
import os
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

from review.errors import ParseError, SearchError
from review.pubmed.dates import DateLimits, DateWindow, split_window
from review.pubmed.entrez_xml import (
    ESearchResult,
    HistoryRef,
    MalformedResponse,
    parse_epost,
    parse_esearch,
    refuse_internal_dtd,
)
from review.wording import count

if TYPE_CHECKING:
    import requests

    from review.records import DeleteCitation, Record

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
BASE_URL_ENV = "CASEPOOL_EUTILS_URL"
API_KEY_ENV = "NCBI_API_KEY"
ESEARCH_CAP = 10_000
"""PubMed's ESearch returns at most the first 10,000 hits of a query."""
T = TypeVar("T")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(value: str | None) -> None:
    """SearchError unless ``value`` looks like an e-mail address (NCBI asks every client for
    one it can write to about the requests)."""
    if not _EMAIL.match(value or ""):
        raise SearchError(
            f"{value!r} is not an e-mail address; NCBI needs a working address "
            "to contact you about your requests (--email or NCBI_EMAIL)"
        )


@dataclass(frozen=True)
class EntrezConfig:
    """Where and how politely to ask E-utilities; the API key never shows in its repr."""

    email: str
    base_url: str = DEFAULT_BASE_URL
    tool: str = "casepool"
    api_key: str | None = field(default=None, repr=False)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_retry_after: float = 300.0
    window_margin: float = 0.15
    esearch_cap: int = ESEARCH_CAP

    def __post_init__(self) -> None:
        check_email(self.email)
        if self.max_attempts < 1:
            raise SearchError("the retry budget (max_attempts) must be at least 1")
        if not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")

    @property
    def requests_per_second(self) -> int:
        """NCBI's limit: 10 requests per second with an API key, 3 without."""
        return 10 if self.api_key else 3

    @classmethod
    def from_env(
        cls, email: str | None, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> EntrezConfig:
        """A config: base URL from ``CASEPOOL_EUTILS_URL``, API key from ``NCBI_API_KEY`` only."""
        env = os.environ if env is None else env
        if not email:
            raise SearchError(
                "no e-mail address for NCBI: pass --email you@example.org, set NCBI_EMAIL, "
                "or add email under [search.pubmed] in the protocol"
            )
        return cls(
            email=email,
            base_url=env.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
            api_key=env.get(API_KEY_ENV) or None,
            **overrides,
        )

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced, for anything that may be shown or stored."""
        return text.replace(self.api_key, "***") if self.api_key else text


@dataclass(frozen=True)
class EntrezRequest:
    """One E-utilities call, built but not sent; ``params`` is hidden from repr (API key)."""

    endpoint: str
    url: str
    params: tuple[tuple[str, str], ...] = field(repr=False)

    def describe(self) -> str:
        """The endpoint name for messages (never the parameters)."""
        return self.endpoint


@dataclass(frozen=True)
class IdSearch:
    """Every PMID a query matches, merged over entry-date windows when it passed the cap."""

    query: str
    count: int
    query_translation: str | None
    warnings: tuple[str, ...]
    webenv: str | None
    query_key: str | None
    pmids: tuple[str, ...]
    windows: tuple[DateWindow, ...] = ()
    duplicates_removed: int = 0


# --- request building (pure) -------------------------------------------------------------


def build_request(
    config: EntrezConfig, endpoint: str, params: Iterable[tuple[str, str]]
) -> EntrezRequest:
    """The request for ``endpoint`` (esearch, efetch, epost) with tool, email and key."""
    pairs = [("db", "pubmed"), *params, ("tool", config.tool), ("email", config.email)]
    if config.api_key:
        pairs.append(("api_key", config.api_key))
    return EntrezRequest(endpoint, f"{config.base_url}{endpoint}.fcgi", tuple(pairs))


def backoff_delay(attempt: int, config: EntrezConfig, rng: random.Random) -> float:
    """Exponential backoff with 'equal jitter': half fixed, half random (AWS architecture blog)."""
    ceiling = min(config.backoff_max, config.backoff_base * 2 ** (attempt - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --- pacing --------------------------------------------------------------------------------


class RateLimiter:
    """At most ``limit`` request starts in any window of ``window`` seconds (sliding log).

    The window is widened by a small margin so that requests still arrive at most
    ``limit`` per second after network jitter. Not thread-safe: one client, one thread.
    """

    def __init__(
        self,
        limit: int,
        window: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()

    def acquire(self) -> float:
        """Wait until one more request fits the window, record it, return the time waited."""
        waited = 0.0
        while True:
            now = self._clock()
            while self._starts and self._starts[0] <= now - self.window:
                self._starts.popleft()
            if len(self._starts) < self.limit:
                self._starts.append(now)
                return waited
            pause = self._starts[0] + self.window - now
            self._sleep(pause)
            waited += pause


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """A failed attempt that will be tried again: what failed, why, and how long until the
    next attempt (for a front end to say, so a slow network is never a silent wait)."""

    endpoint: str
    attempt: int
    attempts: int
    delay: float
    reason: str

    def message(self) -> str:
        """'ESearch failed (HTTP 503 Service Unavailable); attempt 2 of 6 in 1.4 s'."""
        return (
            f"{self.endpoint} failed ({self.reason}); attempt {self.attempt + 1} of "
            f"{self.attempts} in {self.delay:.1f} s"
        )


class _Retryable(Exception):
    """A failure worth another attempt (429, 5xx, timeout, reset, bad body)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class EntrezClient:
    """Sends E-utilities requests politely; one instance per search, one thread."""

    def __init__(
        self,
        config: EntrezConfig,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> None:
        import requests

        self._cancelled = threading.Event()
        pause: Callable[[float], object] = sleep or self._cancelled.wait
        self.config = config
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"{config.tool} (E-utilities client)"
        self.limiter = limiter or RateLimiter(
            config.requests_per_second, 1.0 + config.window_margin, sleep=pause
        )
        self._sleep = pause
        self._rng = rng or random.Random()
        self._on_retry = on_retry
        self.requests_sent = 0
        self.retries = 0

    def __repr__(self) -> str:
        return f"EntrezClient(base_url={self.config.base_url!r}, sent={self.requests_sent})"

    def cancel(self) -> None:
        """Stop retrying and backing off (a search was interrupted); ``uncancel`` undoes it."""
        self._cancelled.set()

    def uncancel(self) -> None:
        """Accept requests again after ``cancel``."""
        self._cancelled.clear()

    def call(self, request: EntrezRequest, parse: Callable[[bytes], T]) -> T:
        """Send ``request`` and parse its body, retrying transient failures within the budget."""
        last = ""
        for attempt in range(1, self.config.max_attempts + 1):
            if self._cancelled.is_set():
                raise SearchError(f"{request.describe()} cancelled: the search was interrupted")
            try:
                return parse(self._send(request))
            except _Retryable as exc:
                last = self.config.redact(exc.reason)
                if attempt == self.config.max_attempts:
                    break
                delay = backoff_delay(attempt, self.config, self._rng)
                if exc.retry_after is not None:
                    if exc.retry_after > self.config.max_retry_after:
                        raise SearchError(
                            f"{request.describe()}: NCBI asked to wait {exc.retry_after:.0f} s "
                            f"({last}); try again later"
                        ) from None
                    delay = max(delay, exc.retry_after)
                self.retries += 1
                if self._on_retry is not None:
                    attempts = self.config.max_attempts
                    notice = Retry(request.describe(), attempt, attempts, delay, last)
                    self._on_retry(notice)
                self._sleep(delay)
        raise SearchError(
            f"{request.describe()} failed after {self.config.max_attempts} attempts (last: {last})"
        )

    def _send(self, request: EntrezRequest) -> bytes:
        import requests

        self.limiter.acquire()
        self.requests_sent += 1
        try:
            response = self.session.post(
                request.url,
                data=list(request.params),
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )
            body = response.content
        except requests.Timeout:
            raise _Retryable("timed out") from None
        except requests.ConnectionError as exc:
            raise _Retryable(
                f"cannot connect to {self.config.base_url} ({type(exc).__name__}); "
                "check the network connection, or $CASEPOOL_EUTILS_URL if you set it"
            ) from None
        except requests.RequestException as exc:
            raise _Retryable(f"broken response ({type(exc).__name__})") from None
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"HTTP {status} {response.reason}", retry_after)
        if status != 200:
            text = self.config.redact(body[:200].decode("utf-8", "replace")).strip()
            raise SearchError(
                f"{request.describe()} was refused by E-utilities (HTTP {status}): "
                f"{' '.join(text.split()) or response.reason}"
            )
        refuse_internal_dtd(body, request.describe())
        return body

    # --- the E-utilities ------------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        limits: DateLimits = DateLimits(),
        retstart: int = 0,
        retmax: int | None = None,
        usehistory: bool = True,
    ) -> ESearchResult:
        """One ESearch: Count, ids from ``retstart``, history, translation and warnings."""
        params = [("term", term), *limits.params()]
        params += [("retstart", str(retstart)), ("retmax", str(retmax or self.config.esearch_cap))]
        if usehistory:
            params.append(("usehistory", "y"))
        request = build_request(self.config, "esearch", params)
        return self.call(request, _retry_malformed(parse_esearch))

    def epost(self, ids: Iterable[str]) -> HistoryRef:
        """Post ids to the history server; the ``HistoryRef`` EFetch can page through."""
        request = build_request(self.config, "epost", [("id", ",".join(ids))])
        return self.call(request, _retry_malformed(parse_epost))

    def efetch(
        self,
        *,
        ids: Iterable[str] | None = None,
        history: HistoryRef | None = None,
        retstart: int = 0,
        retmax: int = 500,
    ) -> list[Record | DeleteCitation]:
        """PubMed XML for ``ids`` (POSTed), or a ``retstart``/``retmax`` slice of a history set."""
        from review.pubmed.pubmed_xml import parse_pubmed

        params = [("rettype", "xml"), ("retmode", "xml")]
        if ids is not None:
            params.append(("id", ",".join(ids)))
        elif history is not None:
            params += [("WebEnv", history.webenv), ("query_key", history.query_key)]
            params += [("retstart", str(retstart)), ("retmax", str(retmax))]
        else:
            raise SearchError("EFetch needs ids or a history-server reference")
        request = build_request(self.config, "efetch", params)

        def parse(body: bytes) -> list[Record | DeleteCitation]:
            try:
                return parse_pubmed(body, "EFetch response")
            except ParseError as exc:
                raise _Retryable(f"unreadable PubMed XML: {exc}") from None

        return self.call(request, parse)

    def search_ids(
        self,
        query: str,
        *,
        limits: DateLimits = DateLimits(),
        today: date | None = None,
    ) -> IdSearch:
        """Every PMID ``query`` matches; past the ESearch cap, merged over [EDAT] windows."""
        cap = self.config.esearch_cap
        first = self.esearch(query, limits=limits, retmax=cap)
        warnings = first.warnings
        windows: list[DateWindow] = []
        if _complete(first, cap):
            pmids = list(first.ids)
        else:
            if not first.ids:
                raise SearchError(
                    f"ESearch counted {count(first.count, 'record')} but listed none of their "
                    "PMIDs; try again later, and check $CASEPOOL_EUTILS_URL if you set it"
                )
            # A server that lists fewer ids than it counts has a lower cap than ours: use it.
            cap = min(cap, len(first.ids))
            lo, hi = limits.edat_range(today or date.today())
            pending = split_window(lo, hi, _parts(first.count, cap))
            pmids = []
            while pending:
                window = pending.pop(0)
                result = self.esearch(
                    window.term(query),
                    limits=limits,
                    retmax=cap,
                    usehistory=False,
                )
                if _complete(result, cap):
                    windows.append(DateWindow(window.mindate, window.maxdate, result.count))
                    pmids.extend(result.ids)
                elif window.mindate == window.maxdate:
                    raise SearchError(
                        f"{count(result.count, 'record')} were entered on "
                        f"{window.mindate:%Y/%m/%d}, "
                        f"more than ESearch's limit of {cap:,} for one entry-date window; "
                        "narrow the query or its date limits"
                    )
                else:
                    parts = split_window(window.mindate, window.maxdate, _parts(result.count, cap))
                    pending[:0] = parts
        unique = list(dict.fromkeys(pmids))
        return IdSearch(
            query=query,
            count=first.count,
            query_translation=first.query_translation,
            warnings=warnings,
            webenv=first.webenv,
            query_key=first.query_key,
            pmids=tuple(unique),
            windows=tuple(windows),
            duplicates_removed=len(pmids) - len(unique),
        )


def _complete(result: ESearchResult, cap: int) -> bool:
    """True when ``result`` lists every id it counts (none cut off by a cap)."""
    return result.count <= cap and len(result.ids) >= result.count


def _parts(count: int, cap: int) -> int:
    """Windows to cut a range of ``count`` hits into, aiming at 90% of the cap each."""
    return max(2, math.ceil(count / (0.9 * cap)))


def _retry_malformed(parse: Callable[[bytes], T]) -> Callable[[bytes], T]:
    def wrapped(body: bytes) -> T:
        try:
            return parse(body)
        except MalformedResponse as exc:
            raise _Retryable(str(exc)) from None

    return wrapped
