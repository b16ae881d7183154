"""Alembic's environment: always online, on the connection ``review.store.migrate`` passes in
(inside its transaction), with SQLite's batch mode for the changes SQLite cannot ALTER."""

from __future__ import annotations

from alembic import context

from review.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
