"""The ``casepool`` command line: argument parsing and output only.

Every command calls one library function and formats its result. Library errors (the
``ReviewError``, ``ExtractionError`` and ``MetaError`` hierarchies) become one line,
``Error: ...`` on stderr, and exit code 1; click's usage errors exit 2.
Command modules import heavy libraries inside their functions, so ``--help`` is fast.
"""

from __future__ import annotations

import typer

from review import __version__
from review.cli import common

app = typer.Typer(
    cls=common.CasepoolGroup,
    name="casepool",
    help=(
        "Systematic reviews of case reports and case series: a review folder driven by its "
        "protocol, the PubMed search and its log, record import and export, deduplication, "
        "and pooled proportions with forest plots and sensitivity analyses."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    # every subcommand's context inherits these, so '-h' works wherever '--help' does
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"casepool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """casepool: from PubMed search to pooled response rates."""


def _register() -> None:
    from review.cli import (
        appraise_cmd,
        db_cmd,
        dedup_cmd,
        extract_cmd,
        import_cmd,
        pool_cmd,
        run_cmd,
        screen_cmd,
        search_cmd,
        serve_cmd,
        workspace_cmd,
    )

    for module in (
        run_cmd,
        workspace_cmd,
        search_cmd,
        import_cmd,
        dedup_cmd,
        screen_cmd,
        extract_cmd,
        appraise_cmd,
        pool_cmd,
        db_cmd,
        serve_cmd,
    ):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="casepool")
