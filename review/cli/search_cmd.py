"""``casepool search`` (run the protocol's PubMed search, or load a saved result) and
``casepool search log`` (what every run did, for PRISMA-S)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from review.cli.common import db_option, json_option, open_review, print_json, review_option
from review.cli.progress import progress_bars

if TYPE_CHECKING:
    from review.pubmed.dates import DateLimits
    from review.pubmed.search import SearchSummary


class DateType(StrEnum):
    """The date E-utilities' mindate/maxdate limit (publication, entry, modification)."""

    pdat = "pdat"
    edat = "edat"
    mdat = "mdat"


search_app = typer.Typer(
    help=(
        "Run the protocol's PubMed search (ESearch + EFetch, resumable), or load a saved "
        "PubMed XML result with --from-file; 'casepool search log' shows every run."
    ),
    invoke_without_command=True,
)


@search_app.callback()
def search(
    ctx: typer.Context,
    review: Path | None = review_option(),
    db: str | None = db_option(),
    query: str | None = typer.Option(
        None, "--query", "-q", help="The PubMed query (default: the protocol's)."
    ),
    email: str | None = typer.Option(
        None,
        "--email",
        help="Your e-mail for NCBI (default: $NCBI_EMAIL, then the protocol's).",
        show_default=False,
    ),
    mindate: str | None = typer.Option(None, "--mindate", help="YYYY, YYYY/MM or YYYY/MM/DD."),
    maxdate: str | None = typer.Option(None, "--maxdate", help="YYYY, YYYY/MM or YYYY/MM/DD."),
    datetype: DateType | None = typer.Option(
        None,
        "--datetype",
        case_sensitive=False,
        help="Which date the limits apply to (default pdat: publication date).",
    ),
    batch_size: int = typer.Option(
        500, "--batch-size", min=1, max=10_000, help="Records per EFetch request."
    ),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="Load a saved EFetch result (PubMed XML, .xml or .xml.gz)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Search PubMed with the protocol's query and store every record, exactly once.

    An interrupted run resumes when run again; a re-run adds only new PMIDs.
    The API key is read from NCBI_API_KEY only.
    """
    if ctx.invoked_subcommand is not None:
        return
    live_only = (("--email", email), ("--mindate", mindate), ("--maxdate", maxdate))
    ignored = [flag for flag, value in (*live_only, ("--datetype", datetype)) if value]
    if from_file is not None and ignored:
        raise typer.BadParameter(
            f"{', '.join(ignored)} cannot apply to a saved result; the file holds what its "
            "search returned (drop them, or run a live search without --from-file)",
            param_hint="'--from-file'",
        )
    limits = _limits(mindate, maxdate, datetype.value if datetype else None)
    if email is not None:
        _check_email(email)
    if query is not None and not query.strip():
        raise typer.BadParameter("the query is empty; give a PubMed query", param_hint="'--query'")
    with (
        open_review(review, db, uses={"search"}) as opened,
        progress_bars(not as_json) as progress,
    ):
        if from_file is not None:
            summary = opened.load_search_file(from_file, query=query, progress=progress)
        else:
            summary = opened.search(
                query=query,
                email=email,
                limits=limits,
                batch_size=batch_size,
                progress=progress,
                on_retry=lambda retry: typer.echo(f"Note: {retry.message()}", err=True),
            )
    _report(summary, as_json)


def _limits(mindate: str | None, maxdate: str | None, datetype: str | None) -> DateLimits | None:
    """The date limits the options give (None for none); a bad one is a usage error."""
    from review.pubmed.dates import DateLimitError, DateLimits

    if not (mindate or maxdate or datetype):
        return None
    try:
        return DateLimits(mindate, maxdate, datetype)  # type: ignore[arg-type]
    except DateLimitError as exc:
        if exc.field:
            hint = f"'--{exc.field}'"
            raise typer.BadParameter(f"{exc.value!r} {exc.problem}", param_hint=hint) from None
        flags = {"mindate": "--mindate", "maxdate": "--maxdate"}
        raise typer.BadParameter(
            exc.render(flags), param_hint="'--mindate' / '--maxdate'"
        ) from None


def _check_email(email: str) -> None:
    from review.errors import SearchError
    from review.pubmed.entrez import check_email

    try:
        check_email(email)
    except SearchError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--email'") from None


def _report(summary: SearchSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.as_dict())
        return
    for note in summary.notes():
        typer.echo(f"Note: {note}", err=True)
    typer.echo(summary.line())


@search_app.command("log")
def log(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Every search run and search-file load: query, translation, counts, dates, warnings."""
    from review.pubmed.log import log_lines

    with open_review(review, db) as opened:
        entries = opened.search_log()
    if as_json:
        print_json([e.as_dict() for e in entries])
        return
    if not entries:
        typer.echo("No searches yet: run 'casepool search' (or 'casepool search --from-file').")
        return
    for entry in entries:
        for label, value in log_lines(entry):
            typer.echo(f"  {label:<13} {value}" if label else value)


def register(app: typer.Typer) -> None:
    """Add ``search`` and ``search log`` to the root app."""
    app.add_typer(search_app, name="search")
