"""Many reviewers at once, and a server killed mid-load: simulated reviewers (threads with
their own HTTP sessions) screen a 10,000-record review through ``casepool serve`` processes
on loopback; afterwards the store holds every acknowledged decision exactly once and no
reviewer decided a record twice. SQLite (WAL) and PostgreSQL; two server processes over
one PostgreSQL with each reviewer's requests alternating between them; SIGKILL mid-load.

Each reviewer takes ``DECISIONS`` decisions here, so each test runs in seconds;
``benchmarks/serve.py`` screens the 10,000 records at length and times it."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from screening import paper
from stores import add_records, folder_store
from web import Client, Process, add_team

from review.store.screening import events

RECORDS = 10_000
DECISIONS = 60
REVIEWERS = ("r1", "r2", "r3", "r4", "r5")
CHOICES = ("include", "exclude", "maybe")
TIME_LIMIT = 60.0


@pytest.fixture
def big_review(review_dir: Path) -> Path:
    add_records(review_dir, "pubmed", [paper(i) for i in range(1, RECORDS + 1)])
    add_team(review_dir, dict.fromkeys(REVIEWERS, "reviewer"))
    return review_dir


class Reviewer(threading.Thread):
    """Screens ``n`` records as fast as the server answers: next record, then decide. A
    refused connection (a killed server) waits for ``servers`` to hold a live one and
    tries again; a 409 (that decision already went in before the server died) moves on."""

    def __init__(self, name: str, servers: list[str], n: int) -> None:
        super().__init__(daemon=True)
        self.name = name
        self.servers = servers
        self.n = n
        self.acked: list[int] = []
        self.shown: list[int] = []
        self.already: list[int] = []
        self.failure: str | None = None
        self.client = Client(servers[0], name)
        self._turn = itertools.count()

    def _call(self, method: str, path: str, data: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + TIME_LIMIT
        while True:
            self.client.base = self.servers[next(self._turn) % len(self.servers)]
            try:
                if method == "GET":
                    return self.client.get(path)
                return self.client.post(path, data)
            # a refused connection, or a reply cut off when the server was killed mid-body:
            # the client sends again (a decision that went in is then a 409)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def run(self) -> None:
        try:
            for k in range(self.n):
                page = self._call("GET", "/screen/ta.json")
                assert page.status_code == 200, page.text
                cluster = page.json()["cluster"]
                self.shown.append(cluster)
                decision = CHOICES[(k + len(self.name)) % 3]
                reply = self._call(
                    "POST", "/screen/ta/decide.json", {"cluster": cluster, "decision": decision}
                )
                if reply.status_code == 409:
                    self.already.append(cluster)
                    continue
                assert reply.status_code == 200, reply.text
                self.acked.append(int(reply.json()["recorded"]["id"]))
        except Exception as exc:  # reported by the test, in the main thread
            self.failure = f"{self.name}: {exc!r}"


def run_all(reviewers: list[Reviewer]) -> None:
    for reviewer in reviewers:
        reviewer.start()
    for reviewer in reviewers:
        reviewer.join(TIME_LIMIT)
        assert not reviewer.is_alive(), f"{reviewer.name} did not finish in {TIME_LIMIT} s"
    assert [r.failure for r in reviewers if r.failure] == []


def check_store(review_dir: Path, reviewers: list[Reviewer]) -> None:
    """Every acknowledged decision is stored once; no one decided a record twice; each
    reviewer screened their queue in order, skipping and repeating nothing."""
    with folder_store(review_dir) as store, store.read() as tx:
        stored = [e for e in events(tx, "ta") if e.kind == "decide"]
    by_id = {e.id: e for e in stored}
    for reviewer in reviewers:
        mine = [e for e in stored if e.person == reviewer.name]
        assert all(i in by_id and by_id[i].person == reviewer.name for i in reviewer.acked)
        twice = [c for c, n in Counter(e.paper.cluster_id for e in mine).items() if n > 1]
        assert twice == [], f"{reviewer.name} decided {twice} twice"
        assert sorted(e.paper.cluster_id for e in mine) == list(range(1, reviewer.n + 1))
        assert len(reviewer.acked) + len(reviewer.already) == reviewer.n


def test_five_reviewers_at_once_lose_and_duplicate_nothing(big_review: Path) -> None:
    server = Process(big_review)
    try:
        reviewers = [Reviewer(name, [server.url], DECISIONS) for name in REVIEWERS]
        run_all(reviewers)
        for reviewer in reviewers:
            assert reviewer.shown == list(range(1, DECISIONS + 1))
            assert reviewer.already == []
    finally:
        server.stop()
    check_store(big_review, reviewers)


@pytest.mark.parametrize("backend", ["postgresql"])  # how a team scales past one process
def test_two_server_processes_share_the_reviewers(big_review: Path) -> None:
    first, second = Process(big_review), Process(big_review)
    try:
        reviewers = [Reviewer(name, [first.url, second.url], DECISIONS) for name in REVIEWERS]
        run_all(reviewers)
    finally:
        first.stop()
        second.stop()
    check_store(big_review, reviewers)
    for reviewer in reviewers:
        assert reviewer.shown == list(range(1, DECISIONS + 1)) and reviewer.already == []


def test_a_server_killed_mid_load_loses_nothing_acknowledged(big_review: Path) -> None:
    servers: list[str] = []
    first = Process(big_review)
    servers.append(first.url)
    reviewers = [Reviewer(name, servers, DECISIONS) for name in REVIEWERS]
    for reviewer in reviewers:
        reviewer.start()
    while sum(len(r.acked) for r in reviewers) < 40:
        time.sleep(0.01)
    first.kill()
    acked_before_kill = {r.name: list(r.acked) for r in reviewers}
    second = Process(big_review)  # a restarted server carries on with the same sessions
    servers[0] = second.url
    try:
        for reviewer in reviewers:
            reviewer.join(TIME_LIMIT)
            assert not reviewer.is_alive()
        assert [r.failure for r in reviewers if r.failure] == []
    finally:
        second.stop()
    check_store(big_review, reviewers)
    with folder_store(big_review) as store, store.read() as tx:
        ids = {e.id for e in events(tx, "ta")}
    assert all(set(acked) <= ids for acked in acked_before_kill.values())
