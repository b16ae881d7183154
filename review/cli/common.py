"""What every command shares: error translation, review lookup, JSON output."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup

from extraction.errors import ExtractionError
from meta.errors import MetaError
from review.errors import ReviewError
from review.wording import count

if TYPE_CHECKING:
    from review.api import Review

USER_ERRORS = (ReviewError, ExtractionError, MetaError)

REVIEW_OPTION_HELP = "The review folder (default: $CASEPOOL_REVIEW, then the current folder)."
DB_OPTION_HELP = (
    "The review's database, postgresql://USER@HOST:PORT/DB or sqlite:///PATH (default: "
    "$CASEPOOL_DB, then the folder's database.url, then its review.db)."
)


def fail(message: str) -> None:
    """Print ``Error: message`` on stderr and exit 1."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def plain_words(exc: typer.BadParameter) -> str:
    """A bad option value in casepool's words: what was given and what is allowed, instead
    of the validation library's ('Value error, ...', 'Input should be ...')."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return exc.message
    try:
        (error,) = errors()
    except ValueError:
        return exc.message
    given, kind, ctx = error.get("input"), error.get("type", ""), error.get("ctx") or {}
    shown = repr(given) if isinstance(given, str) else str(given)
    if kind == "value_error":
        return str(ctx.get("error", exc.message)).rstrip(".")
    if kind == "literal_error":
        return f"{shown} is not one of {ctx.get('expected', '')}"
    if kind == "int_parsing":
        return f"{shown} is not a whole number"
    if kind == "float_parsing":
        return f"{shown} is not a number"
    limits = {
        "greater_than_equal": "is below the smallest allowed value, {ge}",
        "greater_than": "must be more than {gt}",
        "less_than_equal": "is above the largest allowed value, {le}",
        "less_than": "must be less than {lt}",
    }
    if kind in limits:
        return f"{given} {limits[kind].format(**ctx)}"
    return exc.message


# The order a review runs in; --help lists commands this way, any others after them.
WORKFLOW = (
    "run",
    "init",
    "protocol",
    "search",
    "import",
    "dedup",
    "export",
    "screen",
    "prisma",
    "extract",
    "appraise",
    "pool",
    "sensitivity",
    "db",
)


class CasepoolGroup(TyperGroup):
    """The root group: turns library errors into one line on stderr and exit code 1."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        known = [n for n in WORKFLOW if n in names]
        return known + [n for n in names if n not in known]

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            exc.message = plain_words(exc)
            raise
        except USER_ERRORS as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("Error: interrupted; nothing half-written was kept", err=True)
            raise typer.Exit(130) from None


def open_review(
    review_dir: Path | None, db: str | None = None, *, uses: Collection[str] = ()
) -> Review:
    """Open the review for a command that needs the protocol's sections ``uses``; say on
    stderr when an edited protocol was recorded, or could not be and why."""
    from review.api import Review

    opened = Review.open(review_dir, db=db, uses=uses)
    for warning in opened.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    if opened.amended is not None:
        version = opened.amended
        typer.echo(
            f"Note: {opened.protocol_path} changed; recorded as protocol amendment "
            f"{version.number} ({version.sha256[:12]}) at {version.recorded_at} "
            "(casepool protocol history)",
            err=True,
        )
    return opened


def review_option() -> Any:
    """The shared ``--review DIR`` option."""
    return typer.Option(None, "--review", "-r", help=REVIEW_OPTION_HELP, show_default=False)


def db_option() -> Any:
    """The shared ``--db URL`` option."""
    return typer.Option(None, "--db", help=DB_OPTION_HELP, show_default=False, metavar="URL")


def json_option() -> Any:
    """The shared ``--json`` flag."""
    return typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (NaN becomes null)."""
    typer.echo(json.dumps(_clean(data), indent=2, ensure_ascii=False))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


PROBLEMS_SHOWN = 50


def refuse_file(name: str, problems: Sequence[str]) -> NoReturn:
    """A refused import: each problem on its own line of stderr (the first 50, then how
    many more), a last line ``Error: NAME: N problems; nothing was imported``, exit 1."""
    for problem in problems[:PROBLEMS_SHOWN]:
        typer.echo(problem, err=True)
    hidden = len(problems) - PROBLEMS_SHOWN
    if hidden > 0:
        typer.echo(f"... and {count(hidden, 'more problem')}", err=True)
    typer.echo(f"Error: {name}: {count(len(problems), 'problem')}; nothing was imported", err=True)
    raise typer.Exit(1)
