"""The store's schema revision, and Alembic migrations run from code.

Opening a store brings it to the revision this casepool knows (``HEAD``) in one
transaction: a new store gets every migration, an older one the missing ones, a store
made by casepool's first release (numbered SQL migrations, table ``schema_migrations``)
is stamped with the baseline it equals and then upgraded. A store newer than this
casepool is refused. On PostgreSQL an advisory lock keeps two processes from migrating
the same store at once. Alembic is imported only when there is something to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from review.errors import StoreError
from review.store.engine import Store

HEAD = "0007"
"""The newest revision in ``migrations/versions`` (a test keeps the two in step)."""
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
LEGACY_BASELINE = "0001"
"""The revision that equals the schema of the first release's SQL migrations 0001-0003."""
LEGACY_LAST = 3
_LOCK = 7_243_191_305


@dataclass(frozen=True)
class Migration:
    """What ``casepool db migrate`` did: the store, its revision now, the revisions applied."""

    store: str
    revision: str
    applied: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {"store": self.store, "revision": self.revision, "applied": list(self.applied)}


def revision(connection: Connection) -> str | None:
    """The store's revision: an Alembic revision id, ``'legacy-N'`` for a first-release
    store, or None for an empty database."""
    dialect = connection.dialect
    if dialect.has_table(connection, "alembic_version"):
        value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if value is None else str(value)
    if dialect.has_table(connection, "schema_migrations"):
        number = connection.execute(text("SELECT MAX(number) FROM schema_migrations")).scalar()
        return f"legacy-{int(number or 0)}"
    return None


def ensure_schema(store: Store, *, create: bool, migrate: bool) -> list[str]:
    """Bring the store to ``HEAD``; return the revisions applied (empty when up to date).

    An empty database gets the schema only with ``create``; an older store is upgraded only
    with ``migrate`` (else StoreError says to run ``casepool db migrate``).
    """
    with store.read() as tx:
        current = revision(tx.connection)
    if current == HEAD:
        return []
    _check_known(store, current)
    if current is not None and not migrate:
        raise StoreError(
            f"{store.display_url}: the store has schema revision {current}, older than this "
            f"casepool's {HEAD}; upgrade it with 'casepool db migrate' (everyone who uses "
            "this store then needs this version of casepool or a newer one)"
        )
    with store.transaction() as tx:
        connection = tx.connection
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        current = revision(connection)  # another process may have migrated meanwhile
        _check_known(store, current)
        if current == HEAD:
            return []
        if current is None and _has_tables(connection):
            raise StoreError(
                f"{store.display_url}: this database holds tables but no casepool review; "
                "point to an empty database or to a review store"
            )
        if current is None and not create:
            raise StoreError(
                f"{store.display_url}: no review store here; create one with "
                "'casepool init DIR --protocol FILE --db URL'"
            )
        return upgrade(connection, current)


def _check_known(store: Store, current: str | None) -> None:
    if current is None or current in REVISIONS or current == f"legacy-{LEGACY_LAST}":
        return
    raise StoreError(
        f"{store.display_url}: the store has schema revision {current}, which this casepool "
        f"does not know (its newest is {HEAD}); upgrade casepool"
    )


def _has_tables(connection: Connection) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(connection).get_table_names())


def upgrade(connection: Connection, current: str | None) -> list[str]:
    """Run the migrations after ``current`` on ``connection`` (inside its transaction)."""
    from alembic import command

    config = _config(connection)
    start = current
    if current is not None and current.startswith("legacy-"):
        connection.execute(text("DROP TABLE schema_migrations"))
        command.stamp(config, LEGACY_BASELINE)
        start = LEGACY_BASELINE
    command.upgrade(config, HEAD)
    done = REVISIONS.index(start) + 1 if start in REVISIONS else 0
    return list(REVISIONS[done:])


def _config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "review.store:migrations")
    config.attributes["connection"] = connection
    return config


def script_revisions() -> list[str]:
    """The revisions of the migration scripts, oldest first (a test holds ``REVISIONS`` to it)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]
