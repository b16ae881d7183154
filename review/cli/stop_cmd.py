"""``casepool screen stop-check``: the statistical stopping rule on the review, with the
heuristics beside it; it draws (and records) the random records the test needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from review.cli.common import db_option, json_option, print_json, review_option
from review.cli.screen_cmd import _open, reviewer_option, stage_option

FRACTION_HINT = "a fraction such as 0.95"


def _fraction(what: str) -> Any:
    def parse(value: Any) -> float:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            raise typer.BadParameter(
                f"{text!r} is not a number; {what} is {FRACTION_HINT}"
            ) from None
        if not 0 < number < 1:
            raise typer.BadParameter(
                f"{text} is not between 0 and 1 (exclusive); {what} is {FRACTION_HINT}"
            )
        return number

    return parse


def _at_least_one(what: str) -> Any:
    def parse(value: Any) -> int | None:
        if value is None:
            return None
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a whole number; {what}") from None
        if number < 1:
            raise typer.BadParameter(f"{text} is below 1; {what}")
        return number

    return parse


def stop_check(
    ctx: typer.Context,
    stage: str = stage_option(),
    reviewer: str | None = reviewer_option(
        "Whose screening to test (default: $CASEPOOL_REVIEWER; none: the review as a whole, "
        "once the stage is unblinded)."
    ),
    recall: float = typer.Option(
        "0.95", "--recall", help="The recall target.", parser=_fraction("a recall target")
    ),
    confidence: float = typer.Option(
        "0.95",
        "--confidence",
        help="The confidence at which the target must be met.",
        parser=_fraction("a confidence level"),
    ),
    sample: int | None = typer.Option(
        None,
        "--sample",
        help="Draw this many (more) random records now (default: as many as the test needs "
        "should they all prove irrelevant).",
        parser=_at_least_one("the sample is a number of records such as 100"),
        show_default=False,
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help="The seed of a new sample's random order (default 1).",
        show_default=False,
    ),
    new_sample: bool = typer.Option(
        False, "--new-sample", help="Draw a new sample from the records unscreened now."
    ),
    run_length: int = typer.Option(
        "50",
        "--run-length",
        help="N of the heuristic 'N irrelevant records in a row'.",
        parser=_at_least_one("the run length is a number of records such as 50"),
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Is the recall target met? The hypergeometric test of Callaghan and Müller-Hansen
    (2020) on a random sample of the records not yet screened: it says which random records
    to screen next (the sample is drawn with a seed and recorded) and, once they are
    screened, whether the target is met at the stated confidence. The heuristics (N
    irrelevant in a row; SAFE) are shown beside it."""
    with _open(ctx, review, db) as rv:
        report = rv.screening.stop_check(
            stage,  # type: ignore[arg-type]
            reviewer=reviewer or None,
            recall=recall,
            confidence=confidence,
            sample=sample,
            seed=seed,
            new_sample=new_sample,
            run_length=run_length,
        )
    if as_json:
        print_json(report.as_dict())
        return
    for line in report.lines:
        typer.echo(line)
