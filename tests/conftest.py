"""Shared fixtures: the bundled protocol, and stores and reviews on SQLite and PostgreSQL.

Every test that takes ``store_url`` or ``review_dir`` runs twice: on a SQLite file and on a
throw-away schema of the PostgreSQL server named by ``$CASEPOOL_TEST_POSTGRES`` (a URL;
``.ci/run`` starts one). Without a server the PostgreSQL runs are skipped, except under CI
(``CI=true``), where a missing server is an error: those tests are never silently skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"
POSTGRES_ENV = "CASEPOOL_TEST_POSTGRES"
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def bundled_protocol() -> Path:
    return BUNDLED_PROTOCOL


@pytest.fixture(scope="session")
def postgres_server() -> str | None:
    """The test PostgreSQL server's URL, or None (an error under CI)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but ${POSTGRES_ENV} names no PostgreSQL server for the store tests")
    return url or None


def _schema_url(server: str, schema: str) -> str:
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url(postgres_server: str | None) -> Iterator[str]:
    """A PostgreSQL store URL on a schema of its own, dropped after the test."""
    if postgres_server is None:
        pytest.skip(f"no PostgreSQL server (set ${POSTGRES_ENV})")
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_server.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _schema_url(postgres_server, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'postgresql': the store a test runs on (each test runs on both)."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty store on ``backend``."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    from review.store import sqlite_url

    return sqlite_url(tmp_path / "store" / "review.db")


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    """A new store on each backend, its schema migrated."""
    from review.store import open_store

    if store_url.startswith("sqlite"):
        (Path(store_url.removeprefix("sqlite:///"))).parent.mkdir(parents=True, exist_ok=True)
    with open_store(store_url, create=True) as opened:
        yield opened


@pytest.fixture
def review_dir(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A new review initialised from the bundled protocol, on each backend (on PostgreSQL
    the folder's database.url names the store)."""
    from review.api import Review

    directory = tmp_path / "review"
    db = str(request.getfixturevalue("postgres_url")) if backend == "postgresql" else None
    Review.create(directory, BUNDLED_PROTOCOL, db=db)
    return directory


@pytest.fixture
def sqlite_review_dir(tmp_path: Path) -> Path:
    """A new review on SQLite only, for tests about the review.db file itself."""
    from review.api import Review

    directory = tmp_path / "review"
    Review.create(directory, BUNDLED_PROTOCOL)
    return directory


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process umask set to 022 (a shared folder) and to 077 (a private one)."""
    previous = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(previous)
