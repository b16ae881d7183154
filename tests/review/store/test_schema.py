"""The schema is declared once: the migrations build exactly what ``schema.py`` declares."""

from __future__ import annotations

from review.store import Store
from review.store.schema import TABLES_IN_ORDER, metadata


def test_the_migrations_build_the_declared_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.read() as tx:
        context = MigrationContext.configure(
            tx.connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = [
            d
            for d in compare_metadata(context, metadata)
            if not (d[0] == "remove_table" and d[1].name == "alembic_version")
        ]
    assert differences == []


def test_tables_are_ordered_parents_first() -> None:
    names = [t.name for t in TABLES_IN_ORDER]
    assert names.index("loads") < names.index("records") < names.index("dedup_members")
