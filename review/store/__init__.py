"""The review store: the only code that speaks SQL, on SQLite or PostgreSQL.

A store is named by a URL: ``sqlite:///PATH`` (the default, ``review.db`` in the review
folder, in WAL mode) or ``postgresql://USER@HOST/DB`` (a server several people share). The
schema is declared once (``schema.py``) and built by Alembic migrations run from code
(``migrate.py``). Every write goes through ``Store.transaction()``: one transaction,
rolled back on any error, so a failed or killed command leaves the store exactly as it was.
The functions of this package's modules take the ``Tx`` it yields; times and the acting
person are their arguments, never read here.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from review.errors import StoreError
from review.store.engine import (
    Store,
    Tx,
    first_line,
    make_engine,
    redact_url,
    sqlite_url,
    store_url,
    url_without_password,
)
from review.store.migrate import ensure_schema


def open_store(url: str, *, create: bool = False, migrate: bool | None = None) -> Store:
    """Open (or with ``create``, make) the store at ``url``.

    An older schema is upgraded when ``migrate`` is true; by default a SQLite store (one
    person's file) is, a PostgreSQL store (shared by a team) is not: that takes
    ``casepool db migrate``. ``store.applied`` lists the revisions applied on opening.
    """
    url = store_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not create and not path.is_file():
            raise StoreError(f"{path}: no review store here; run 'casepool init' first")
    store = Store(make_engine(url), url)
    if migrate is None:
        migrate = store.backend == "sqlite"
    try:
        store.applied = ensure_schema(store, create=create, migrate=migrate)
    except SQLAlchemyError as exc:
        store.close()
        raise StoreError(
            f"{redact_url(url)}: cannot open the review store: {first_line(exc)}; "
            "check the address, that the server runs and that you may write to it"
        ) from None
    except BaseException:
        store.close()
        raise
    return store


__all__ = [
    "Store",
    "Tx",
    "open_store",
    "redact_url",
    "sqlite_url",
    "store_url",
    "url_without_password",
]
