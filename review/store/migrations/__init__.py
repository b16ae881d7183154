"""Alembic migrations of the review store, run from code (``review.store.migrate``)."""
