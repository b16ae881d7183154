"""``casepool import`` and ``casepool export``: record files in and out of the review."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from review.cli.common import db_option, json_option, open_review, print_json, review_option
from review.cli.progress import progress_bars
from review.errors import OptionError


class ImportFormat(StrEnum):
    """``--format`` of ``casepool import`` (review.sources.formats.FORMATS, or auto)."""

    auto = "auto"
    ris = "ris"
    nbib = "nbib"
    csv = "csv"
    tsv = "tsv"
    xlsx = "xlsx"
    pubmed_xml = "pubmed-xml"


class ExportFormat(StrEnum):
    """``--format`` of ``casepool export`` (review.sources.exporting.EXPORT_FORMATS)."""

    ris = "ris"
    csv = "csv"
    xlsx = "xlsx"


def import_records(
    file: Path = typer.Argument(..., help="The RIS, nbib, CSV, TSV, XLSX or PubMed XML file."),
    source: str = typer.Option(
        ..., "--source", "-s", help="The database the file came from (pubmed, embase, ...)."
    ),
    fmt: ImportFormat = typer.Option(
        ImportFormat.auto,
        "--format",
        "-f",
        case_sensitive=False,
        help="The file's format (auto: from the name and content).",
    ),
    sheet: str | None = typer.Option(
        None,
        "--sheet",
        metavar="NAME|N",
        help="For an XLSX workbook: the sheet to read, by name or number from 1 (default 1).",
        show_default=False,
    ),
    skip_invalid: bool = typer.Option(
        False,
        "--skip-invalid",
        help="Import the valid records and write the invalid ones with reasons to a file.",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="With --skip-invalid: the rejects file (default NAME.rejects.csv beside FILE).",
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Import a record file: all or nothing; the same file again changes nothing."""
    if not source.strip():
        raise typer.BadParameter(
            "the source name is empty; name the database, e.g. --source embase",
            param_hint="'--source'",
        )
    if rejects is not None and not skip_invalid:
        raise typer.BadParameter(
            "only --skip-invalid writes a rejects file; add --skip-invalid or drop --rejects",
            param_hint="'--rejects'",
        )
    if sheet is not None and fmt not in (ImportFormat.auto, ImportFormat.xlsx):
        raise typer.BadParameter(
            f"--format {fmt.value} files have no sheets; --sheet chooses a sheet of an XLSX "
            "workbook: drop it",
            param_hint="'--sheet'",
        )
    with open_review(review, db) as opened, progress_bars() as progress:
        try:
            summary = opened.import_file(
                file,
                source=source,
                fmt=fmt.value,
                sheet=sheet,
                skip_invalid=skip_invalid,
                rejects_path=rejects,
                progress=progress,
            )
        except OptionError as exc:
            raise typer.BadParameter(str(exc), param_hint=f"'{exc.option}'") from None
    if as_json:
        print_json(summary.as_dict())
        return
    if not summary.already_imported:  # its repairs were noted when it was imported
        for note in summary.repairs:
            typer.echo(f"Note: {note}", err=True)
    typer.echo(summary.message)


def export(
    file: Path = typer.Argument(..., help="The file to write (.ris, .csv or .xlsx)."),
    fmt: ExportFormat | None = typer.Option(
        None,
        "--format",
        "-f",
        case_sensitive=False,
        help="The file's format (default: from the file extension).",
    ),
    include_all: bool = typer.Option(
        False, "--all", help="Every record, not only the primary record of each cluster."
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Export the records with their source and duplicate cluster, for Zotero, EndNote,
    ASReview or Rayyan."""
    with open_review(review, db) as opened, progress_bars() as progress:
        summary = opened.export(
            file, fmt=fmt.value if fmt else None, include_all=include_all, progress=progress
        )
    if as_json:
        print_json(summary.as_dict())
        return
    for note in summary.notes:
        typer.echo(f"Note: {note}", err=True)
    typer.echo(summary.message)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``export`` to the root app."""
    app.command("import")(import_records)
    app.command("export")(export)
