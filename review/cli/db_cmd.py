"""``casepool db``: the review's store itself (upgrade its schema, copy it elsewhere)."""

from __future__ import annotations

from pathlib import Path

import typer

from review.cli.common import db_option, json_option, print_json, review_option
from review.cli.progress import progress_bars
from review.wording import count

db_app = typer.Typer(
    help="The review's database: migrate it to this casepool's schema, or copy it.",
    no_args_is_help=True,
)


@db_app.command("migrate")
def migrate(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Upgrade the review's store to this casepool's schema (a SQLite store is upgraded
    when opened; a shared PostgreSQL store only by this command)."""
    from review.api import migrate_store

    report = migrate_store(review, db=db)
    if as_json:
        print_json(report.as_dict())
        return
    if report.applied:
        steps = ", ".join(report.applied)
        typer.echo(f"{report.store}: migrated to schema {report.revision} (applied {steps}).")
    else:
        typer.echo(f"{report.store}: already at schema {report.revision}; nothing to do.")


@db_app.command("copy")
def copy(
    source: str = typer.Option(
        ...,
        "--from",
        help="The store to copy: a database URL, a review folder or its review.db.",
        show_default=False,
    ),
    target: str = typer.Option(
        ...,
        "--to",
        help="An empty database URL (postgresql://...), or a new SQLite file.",
        show_default=False,
    ),
    as_json: bool = json_option(),
) -> None:
    """Copy a whole review store into an empty database, checked row for row; all or
    nothing."""
    from review.api import copy_store

    with progress_bars() as progress:
        report = copy_store(source, target, progress=progress)
    if as_json:
        print_json(report.as_dict())
        return
    typer.echo(
        f"Copied {count(report.total, 'row')} in {count(len(report.rows), 'table')} from "
        f"{report.source} to "
        f"{report.target}; every table checked row for row."
    )


def register(app: typer.Typer) -> None:
    """Add ``casepool db`` to the root app."""
    app.add_typer(db_app, name="db")
