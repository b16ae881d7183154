"""Opening a store by URL, and its transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from review.errors import StoreError

SQLITE_TIMEOUT = 30.0
"""Seconds a SQLite write waits for another process's write to finish."""


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite store file."""
    return f"sqlite:///{Path(path).absolute()}"


def store_url(url: str) -> str:
    """``url`` with the driver casepool uses: ``postgresql://`` (and ``postgres://``) speak
    psycopg 3; anything but SQLite and PostgreSQL is refused."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL; use postgresql://USER@HOST:PORT/DATABASE "
            "or sqlite:///PATH"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError(f"{url!r}: a SQLite store needs a file path, sqlite:///PATH")
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    raise StoreError(
        f"{redact_url(url)}: casepool stores reviews in SQLite or PostgreSQL, not {backend!r}; "
        "use postgresql://USER@HOST:PORT/DATABASE or sqlite:///PATH"
    )


def redact_url(url: str) -> str:
    """How a store is named to a person: a SQLite store by its file, any other by its URL
    without the password and the driver (``postgresql://casepool:***@host/db``)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(an unreadable database URL)"
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database:
        return parsed.database
    return parsed.set(drivername=backend).render_as_string(hide_password=True)


def url_without_password(url: str) -> str:
    """``url`` with no password at all (to write down; the password comes from PGPASSWORD or
    ~/.pgpass)."""
    parsed = make_url(url)
    bare = URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string(hide_password=False)


class Tx:
    """One open transaction (or read snapshot) on a store; what the store's functions take."""

    __slots__ = ("connection", "dialect")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect: str = connection.dialect.name


class Store:
    """An open review store."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.applied: list[str] = []
        self._local = threading.local()

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL without a password."""
        return redact_url(self.url)

    @property
    def path(self) -> Path | None:
        """The file of a SQLite store (None for PostgreSQL)."""
        database = self.engine.url.database
        return Path(database) if self.backend == "sqlite" and database else None

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction; commits on success, rolls back on any exception.

        On SQLite it begins IMMEDIATE, taking the write lock at once, so two writers queue
        instead of failing half way.
        """
        with self._connect(write=True) as connection, connection.begin():
            yield Tx(connection)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A consistent read-only view for several queries (a snapshot on both backends)."""
        with self._connect(write=False) as connection, connection.begin():
            yield Tx(connection)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        if getattr(self._local, "open", False):
            raise StoreError("a transaction is already open on this store (nested writes)")
        self._local.open = True
        try:
            try:
                connection = self.engine.connect()
            except OperationalError as exc:
                raise StoreError(
                    f"{self.display_url}: cannot open the review store: {first_line(exc.orig)}; "
                    "check the address, that the server runs and that you may write to it"
                ) from None
            with connection:
                if self.backend == "postgresql":
                    connection.execution_options(
                        isolation_level="READ COMMITTED" if write else "REPEATABLE READ",
                        postgresql_readonly=not write,
                    )
                else:
                    connection.execution_options(casepool_write=write)
                yield connection
        except OperationalError as exc:  # the server went away, the disk is full, a lock timed out
            raise StoreError(f"{self.display_url}: {first_line(exc.orig)}") from exc
        finally:
            self._local.open = False

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def first_line(exc: BaseException | None) -> str:
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


def make_engine(url: str) -> Engine:
    """An engine for a store URL (see ``store_url``), set up as casepool needs it."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    try:
        return create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError as exc:  # pragma: no cover - psycopg is a dependency
        raise StoreError(f"{redact_url(url)}: no driver for this database ({exc})") from None


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are ours, not pysqlite's
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("casepool_write", True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
