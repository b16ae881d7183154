"""The team's screening pages in tests: a review with accounts, the server on a free
loopback port (uvicorn in a thread, or ``casepool serve`` in its own process), and logged-in
HTTP clients (real sockets, ``requests``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from review.api import Review

CASEPOOL = str(Path(sys.executable).parent / "casepool")
PASSWORD = "a long test password"
TEAM = {"ana": "reviewer", "ben": "reviewer", "lee": "lead"}


def add_team(review_dir: Path | str, team: dict[str, str] | None = None) -> None:
    """Accounts for ``team`` (name -> role), each with ``PASSWORD``."""
    with Review.open(review_dir) as review:
        for name, role in (team or TEAM).items():
            review.team.add_user(name, password=PASSWORD, role=role)  # type: ignore[arg-type]


@contextmanager
def served(review_dir: Path | str, *, loopback: bool = True) -> Iterator[str]:
    """The pages of the review served by uvicorn in a thread; yields the base URL."""
    import uvicorn

    from review.web.app import make_app
    from review.web.serve import bind

    review = Review.open(review_dir)
    sock, _ = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        make_app(review, loopback=loopback), log_level="error", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        review.close()


class Process:
    """``casepool serve`` in its own process, on a free port."""

    def __init__(self, review_dir: Path | str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in _close; not a pipe that could fill)
        self.popen = subprocess.Popen(
            [CASEPOOL, "serve", "--port", "0", "--review", str(review_dir)],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env=env,
        )
        assert self.popen.stdout is not None
        first = self.popen.stdout.readline()
        self.second = self.popen.stdout.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+)/", first)
        if found is None:
            self.kill()
            self.errors.seek(0)
            raise RuntimeError(f"casepool serve said {first!r}: {self.errors.read()}")
        self.first = first
        self.url = found.group(1)
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.url + "/login", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        self.popen.kill()
        self.popen.wait(10)
        self._close()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._close()

    def _close(self) -> None:
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self.errors.close()


class Client:
    """A logged-in person's browser-like client: cookies, and the session's CSRF token."""

    def __init__(self, base: str, name: str, password: str = PASSWORD) -> None:
        self.base = base
        self.name = name
        self.http = requests.Session()
        reply = self.http.post(
            f"{base}/login", json={"name": name, "password": password}, timeout=30
        )
        assert reply.status_code == 200, reply.text
        self.csrf = reply.json()["csrf"]

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, allow_redirects=False)

    def post(self, path: str, data: dict[str, object] | None = None) -> requests.Response:
        """A JSON POST with the CSRF header."""
        return self.http.post(
            self.base + path, json=data or {}, headers={"X-CSRF-Token": self.csrf}, timeout=30
        )

    def form(self, path: str, data: dict[str, str]) -> requests.Response:
        """A form POST as the page's form sends it (the token in a hidden field)."""
        return self.http.post(
            self.base + path, data={**data, "csrf": self.csrf}, timeout=30, allow_redirects=False
        )
