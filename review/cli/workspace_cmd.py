"""``casepool init`` and ``casepool protocol``: the review folder and its protocol."""

from __future__ import annotations

from pathlib import Path

import typer

from review.cli.common import db_option, json_option, open_review, print_json, review_option

protocol_app = typer.Typer(
    help="Check a protocol file, or list, show and compare the protocol's versions in a review.",
    no_args_is_help=True,
)


def init(
    directory: Path = typer.Argument(..., help="The review folder to create."),
    protocol: Path = typer.Option(..., "--protocol", "-p", help="The protocol TOML file."),
    db: str | None = db_option(),
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace the review's edited protocol.toml with --protocol.",
    ),
    as_json: bool = json_option(),
) -> None:
    """Create a review folder (protocol.toml + review.db) from a protocol file.

    With --db the store is that PostgreSQL database, named in the folder's database.url.
    Run it again with a changed protocol to record a dated amendment; over a protocol.toml
    edited in the folder it refuses (it would replace the edit), unless --force.
    """
    from review.api import Review

    result = Review.create(directory, protocol, db=db, force=force)
    version = result.version
    if as_json:
        print_json(result.as_dict())
        return
    if result.created:
        typer.echo(
            f"Created review {result.dir} (protocol {version.sha256[:12]}, "
            f"recorded {version.recorded_at})."
        )
    elif result.amended:
        typer.echo(
            f"Recorded protocol amendment {version.number} ({version.sha256[:12]}) "
            f"in {result.dir} at {version.recorded_at}."
        )
    else:
        typer.echo(f"{result.dir} is already a review with this protocol; nothing changed.")


@protocol_app.command("check")
def check(
    file: Path = typer.Argument(..., help="The protocol TOML file to validate."),
    as_json: bool = json_option(),
) -> None:
    """Validate a protocol file and summarise it; list every problem with its place
    (with --json, as a list of problems on stdout, and exit code 1)."""
    from review.errors import ProtocolError
    from review.protocol.loading import load_protocol, protocol_summary

    try:
        summary = protocol_summary(load_protocol(file))
    except ProtocolError as exc:
        if not as_json:
            raise
        problems = [p.as_dict() for p in exc.problems]
        print_json({"file": str(file), "valid": False, "problems": problems})
        raise typer.Exit(1) from None
    if as_json:
        print_json({"file": str(file), "valid": True, "problems": [], **summary})
        return
    typer.echo(f"{file}: valid protocol")
    typer.echo(f"  review      {summary['title']}")
    search = summary["pubmed_query"]
    typer.echo(f"  search      PubMed: {search if search else '(none)'}")
    typer.echo(f"  sources     {', '.join(summary['other_sources']) or '(none)'}")
    typer.echo(
        f"  screening   {' then '.join(summary['screening']['stages'])}; "
        f"{summary['screening']['reviewers_per_record']} reviewer(s) per record, "
        f"{'blind' if summary['screening']['blind'] else 'not blind'}"
    )
    typer.echo(f"  exclusion   {len(summary['exclusion_reasons'])} reasons")
    typer.echo(
        f"  forms       study {summary['forms']['study']} fields, "
        f"case {summary['forms']['case']} fields"
    )
    typer.echo(f"  outcomes    {', '.join(summary['outcomes'])}")
    primary = summary["analysis"]["primary"]
    typer.echo(
        f"  analysis    {primary['method']} ({primary['measure']}, {primary['test']}), "
        f"{len(summary['analysis']['sensitivity'])} sensitivity analyses, "
        f"subgroups: {', '.join(summary['analysis']['subgroups']) or '(none)'}"
    )


@protocol_app.command("history")
def history(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """List the protocol's recorded versions: the original and each dated amendment."""
    with open_review(review, db) as opened:
        versions = opened.protocol_history()
    if as_json:
        print_json([v.as_dict() for v in versions])
        return
    for v in versions:
        typer.echo(f"{v.number:>3}  {v.kind:<9}  {v.recorded_at}  {v.sha256[:12]}  {v.file_name}")


@protocol_app.command("show")
def show(
    version: int = typer.Argument(..., help="The version number (casepool protocol history)."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Print one recorded version of the protocol, as it was."""
    with open_review(review, db) as opened:
        found = opened.recorded_protocol(version)
    if as_json:
        print_json({**found.as_dict(), "text": found.text})
        return
    typer.echo(found.text, nl=not found.text.endswith("\n"))


@protocol_app.command("diff")
def diff(
    first: int = typer.Argument(..., help="The earlier version."),
    second: int | None = typer.Argument(
        None, help="The later version (default: the one in force).", show_default=False
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """What changed between two recorded versions of the protocol (a unified diff)."""
    with open_review(review, db) as opened:
        later = second if second is not None else opened.protocol_history()[-1].number
        text = opened.protocol_diff(first, later)
    if as_json:
        print_json({"from": first, "to": later, "diff": text})
        return
    typer.echo(text or f"Versions {first} and {later} are the same text.", nl=not text)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(protocol_app, name="protocol")
