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

from review.store.engine import (
    Store,
    Tx,
    open_store,
    redact_url,
    sqlite_url,
    store_url,
    url_without_password,
)

__all__ = [
    "Store",
    "Tx",
    "open_store",
    "redact_url",
    "sqlite_url",
    "store_url",
    "url_without_password",
]
