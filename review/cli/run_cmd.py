"""``casepool run``: the whole review from its protocol, stage by stage, one line each."""

from __future__ import annotations

from pathlib import Path

import typer

from review.cli.common import json_option, print_json


def run_command(
    protocol: Path = typer.Argument(
        ..., help="The protocol file; its bundled inputs are the files beside it named after it."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Folder for the results (made if missing).", show_default=False
    ),
    review: Path | None = typer.Option(
        None,
        "--review",
        help="The review folder to create or update (default: OUT/review).",
        show_default=False,
    ),
    live: bool = typer.Option(
        False,
        "--live",
        help="Search PubMed's E-utilities instead of loading the bundled snapshot "
        "(the only option that uses the network).",
    ),
    email: str | None = typer.Option(
        None,
        "--email",
        help="Your e-mail for NCBI with --live (else $NCBI_EMAIL).",
        show_default=False,
    ),
    as_json: bool = json_option(),
) -> None:
    """Run every stage: the review, the search, other sources, dedup, screening,
    extraction, appraisal, pooling, figures and results, on the protocol's bundled inputs."""
    from review.cli.progress import progress_bars
    from review.run import run_review

    if email is not None and not live:
        raise typer.BadParameter("--email goes with --live only", param_hint="--email")
    with progress_bars(show=not as_json, drop_done=True) as bars:
        summary = run_review(
            protocol,
            out,
            review_dir=review,
            live=live,
            email=email,
            progress=None if as_json else typer.echo,
            bars=bars,
        )
    if as_json:
        print_json(
            {
                "review": str(summary.review_dir),
                "out": str(summary.out_dir),
                "stages": summary.lines,
                "files": [str(p) for p in summary.files],
                "seconds": round(summary.seconds, 2),
            }
        )
        return
    typer.echo(f"Done in {summary.seconds:.1f} s: {len(summary.files)} files in {out}")


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
