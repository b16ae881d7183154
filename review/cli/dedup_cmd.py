"""``casepool dedup``: cluster duplicates, review uncertain pairs, undo a cluster, export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from review.cli.common import db_option, json_option, open_review, print_json, review_option
from review.cli.progress import progress_bars
from review.wording import count

if TYPE_CHECKING:
    from review.api import Review
    from review.dedup.pairs import QueuedPair
    from review.prisma.counts import DedupCounts

dedup_app = typer.Typer(
    help=(
        "Cluster duplicate records across sources (links, never deletes). Without a "
        "subcommand: run the clustering and print the counts."
    ),
    invoke_without_command=True,
)


def _print_counts(counts: DedupCounts) -> None:
    for source, n in counts.per_source:
        typer.echo(f"  {source:<20} {n:>8,} record{'' if n == 1 else 's'}")
    typer.echo(f"  {'identified':<20} {counts.records_identified:>8,}")
    typer.echo(f"  {'clusters':<20} {counts.clusters:>8,} (of two or more records)")
    typer.echo(f"  {'duplicates removed':<20} {counts.duplicates_removed:>8,}")
    typer.echo(f"  {'after dedup':<20} {counts.records_after_dedup:>8,}")
    typer.echo(f"  {'pairs queued':<20} {counts.pairs_queued:>8,} (casepool dedup review)")


@dedup_app.callback()
def dedup(
    ctx: typer.Context,
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
    export: Path | None = typer.Option(
        None,
        "--export",
        help="Write source, source_id, cluster_id, is_primary, record_id per record to this CSV "
        "(the stored clusters; does not re-run).",
        dir_okay=False,
    ),
) -> None:
    """Cluster duplicates across all sources and print records per source, clusters,
    duplicates removed and pairs queued for review."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = (review, db)
        return
    with open_review(review, db) as rv:
        if export is not None:
            n = rv.export_membership(export)
            if as_json:
                print_json({"export": str(export), "rows": n})
            else:
                typer.echo(f"Wrote {count(n, 'record')} to {export}.")
            return
        counts = _run_with_progress(rv)
    if as_json:
        print_json(counts.as_dict())
    else:
        typer.echo("Deduplicated:")
        _print_counts(counts)


def _run_with_progress(rv: Review) -> DedupCounts:
    with progress_bars() as progress:
        return rv.dedup(progress=progress)


def _where(
    ctx: typer.Context, review: Path | None, db: str | None
) -> tuple[Path | None, str | None]:
    """The review and database given to this subcommand, else to ``casepool dedup``."""
    parent_review, parent_db = ctx.obj or (None, None)
    return (review if review is not None else parent_review, db if db is not None else parent_db)


def _show_pair(console: Any, pair: QueuedPair, n: int, total: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"Pair {n} of {total}: records {pair.a} and {pair.b} "
        f"(similarity {pair.score:.2f}; {pair.reason})",
        show_lines=True,
    )
    table.add_column("field", style="bold")
    table.add_column(f"record {pair.a}", overflow="fold")
    table.add_column(f"record {pair.b}", overflow="fold")
    for name, left, right in pair.side_by_side():
        table.add_row(name, escape(left), escape(right), style=None if left == right else "yellow")
    console.print(table)


def _ask(to_stderr: bool) -> str:
    """One key from the person: m, k, s or q (end of input counts as q)."""
    while True:
        try:
            answer = typer.prompt("m = merge, k = keep apart, s = skip, q = quit", err=to_stderr)
        except typer.Abort:
            return "q"
        key = answer.strip().lower()[:1]
        if key in ("m", "k", "s", "q"):
            return key
        typer.echo("Please answer m, k, s or q.", err=True)


@dedup_app.command("review")
def review_pairs(
    ctx: typer.Context,
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Decide the queued uncertain pairs one by one: m = merge, k = keep apart, s = skip,
    q = quit. Each decision is saved as it is made."""
    from rich.console import Console

    tally = {"merged": 0, "kept_apart": 0, "skipped": 0}
    with open_review(*_where(ctx, review, db)) as rv:
        pairs = rv.dedup_queue()
        console = Console(stderr=as_json)
        if not pairs and not as_json:
            typer.echo("No pairs are waiting for review.")
            return
        for n, pair in enumerate(pairs, start=1):
            if not rv.is_pending(pair.a, pair.b):
                continue
            _show_pair(console, pair, n, len(pairs))
            key = _ask(as_json)
            if key == "q":
                break
            if key == "s":
                tally["skipped"] += 1
                continue
            rv.decide_pair(pair.a, pair.b, "merge" if key == "m" else "keep_apart")
            tally["merged" if key == "m" else "kept_apart"] += 1
        left = len(rv.dedup_queue())
    if as_json:
        print_json({**tally, "pairs_left": left})
    else:
        typer.echo(
            f"Merged {tally['merged']:,}, kept apart {tally['kept_apart']:,}, skipped "
            f"{tally['skipped']:,}; {count(left, 'pair')} left."
        )


@dedup_app.command("undo")
def undo(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id (see 'casepool dedup --export')."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Split a cluster back into single records; re-runs keep them apart."""
    with open_review(*_where(ctx, review, db)) as rv:
        members = rv.undo_cluster(cluster)
    if as_json:
        print_json({"cluster": cluster, "records": list(members)})
    else:
        ids = ", ".join(str(m) for m in members)
        typer.echo(f"Split cluster {cluster} into {count(len(members), 'single record')} ({ids}).")


def register(app: typer.Typer) -> None:
    """Add ``casepool dedup`` and its subcommands to the root app."""
    app.add_typer(dedup_app, name="dedup")
