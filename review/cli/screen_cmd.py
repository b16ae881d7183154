"""``casepool screen``: screen records, blind, in two stages; conflicts and their resolution;
allocation; progress and agreement; full texts and studies. ``casepool prisma``: the flow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from review.cli.common import db_option, json_option, open_review, print_json, review_option
from review.wording import count

if TYPE_CHECKING:
    from review.api import Review
    from review.screening.agreement import PairAgreement
    from review.screening.events import Decision, ScreeningEvent
    from review.screening.state import ClusterState

screen_app = typer.Typer(
    help=(
        "Screen records at title/abstract (ta) and full text (ft), blind by default. "
        "With --stage and --reviewer and no subcommand: the full-screen screener."
    ),
    invoke_without_command=True,
)

STAGE_HELP = "The stage: ta (title/abstract) or ft (full text)."
REVIEWER_HELP = "Who is screening (default: $CASEPOOL_REVIEWER)."


def _stage(value: str | None) -> str | None:
    from review.errors import ScreeningError
    from review.screening.events import parse_stage

    if value is None:
        return None
    try:
        return parse_stage(value)
    except ScreeningError as exc:
        raise typer.BadParameter(str(exc)) from None


def _decision(value: str) -> Decision:
    from review.errors import ScreeningError
    from review.screening.events import parse_decision

    try:
        return parse_decision(value)
    except ScreeningError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--decision'") from None


ORDERS = ("default", "relevance")


def _order(value: str) -> str:
    text = str(value).strip().lower()
    if text not in ORDERS:
        raise typer.BadParameter(
            f"{value!r} is not an order; use default (cluster order) or relevance (most "
            "relevant first, once you have an include and an exclude)"
        )
    return text


def order_option() -> Any:
    return typer.Option(
        "default",
        "--order",
        help="default (cluster order) or relevance (most relevant first, by a model of your "
        "decisions so far).",
        callback=_order,
        metavar="default|relevance",
    )


def stage_option(required: bool = True) -> Any:
    return typer.Option(
        ... if required else None,
        "--stage",
        "-s",
        help=STAGE_HELP,
        callback=_stage,
        show_default=False,
        metavar="ta|ft",
    )


def reviewer_option(help_text: str = REVIEWER_HELP) -> Any:
    return typer.Option(
        None, "--reviewer", "-u", help=help_text, envvar="CASEPOOL_REVIEWER", show_default=False
    )


def by_option() -> Any:
    return typer.Option(
        ..., "--by", help="The lead taking this step (recorded).", show_default=False
    )


def _need(reviewer: str | None) -> str:
    if not reviewer:
        raise typer.BadParameter(
            "say who is screening: --reviewer NAME (or set CASEPOOL_REVIEWER)",
            param_hint="'--reviewer'",
        )
    return reviewer


def _where(
    ctx: typer.Context, review: Path | None, db: str | None
) -> tuple[Path | None, str | None]:
    parent_review, parent_db = (ctx.obj or {}).get("where", (None, None))
    return (review if review is not None else parent_review, db if db is not None else parent_db)


def _open(ctx: typer.Context, review: Path | None, db: str | None) -> Review:
    return open_review(*_where(ctx, review, db), uses=("screening", "exclusion_reasons"))


@screen_app.callback()
def screen(
    ctx: typer.Context,
    stage: str | None = stage_option(required=False),
    reviewer: str | None = reviewer_option(),
    order: str = order_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Screen records. With --stage and --reviewer and no subcommand, open the full-screen
    screener: one record at a time, single keys for include / exclude / maybe, every
    decision saved the moment its key is pressed (with --order relevance, most relevant
    first, retrained as you go)."""
    ctx.obj = {"where": (review, db)}
    if ctx.invoked_subcommand is not None:
        return
    if stage is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    from review.cli.screener import run_screener

    with open_review(review, db, uses=("screening", "exclusion_reasons")) as rv:
        run_screener(rv, stage=stage, reviewer=_need(reviewer), order=order)  # type: ignore[arg-type]


# --- one reviewer -------------------------------------------------------------------------


def _event_line(event: ScreeningEvent) -> str:
    what: str = event.decision or event.kind
    if event.kind == "resolve":
        what = f"resolved: {event.decision}"
    reason = f" ({event.reason})" if event.reason else ""
    note = f" - {event.note}" if event.note else ""
    via = f" via {event.via}" if event.via != "cli" else ""
    extra = f" [{event.source}]" if event.source else ""
    return (
        f"{event.at}  {event.stage}  {event.person:<12} {what}{reason}{note}"
        f"  (record {event.paper.record_id}{via}){extra}"
    )


@screen_app.command("decide")
def decide(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id."),
    stage: str = stage_option(),
    reviewer: str | None = reviewer_option(),
    decision: str = typer.Option(
        ..., "--decision", "-d", help="include, exclude or maybe.", show_default=False
    ),
    reason: str | None = typer.Option(
        None,
        "--reason",
        help="An exclusion reason's code from the protocol (required at full text).",
    ),
    note: str | None = typer.Option(None, "--note", help="A free note."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Record a decision on a cluster (it supersedes your earlier one)."""
    chosen = _decision(decision)
    with _open(ctx, review, db) as rv:
        event = rv.screening.decide(
            cluster,
            stage=stage,  # type: ignore[arg-type]
            reviewer=_need(reviewer),
            decision=chosen,
            reason=reason,
            note=note,
            via="cli",
        )
    if as_json:
        print_json(event.as_dict())
    else:
        moved = (
            f" (cluster {cluster} is now part of cluster {event.paper.cluster_id})"
            if event.paper.cluster_id != cluster
            else ""
        )
        why = f" ({event.reason})" if event.reason else ""
        typer.echo(
            f"Recorded {event.person}'s {event.stage} decision on cluster "
            f"{event.paper.cluster_id}: {event.decision}{why}{moved}."
        )


@screen_app.command("note")
def note(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id."),
    text: str = typer.Argument(..., help="The note."),
    stage: str = stage_option(),
    reviewer: str | None = reviewer_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Attach a note to a cluster at a stage (it decides nothing)."""
    with _open(ctx, review, db) as rv:
        event = rv.screening.note(
            cluster,
            stage=stage,  # type: ignore[arg-type]
            reviewer=_need(reviewer),
            text=text,
            via="cli",
        )
    typer.echo(f"Noted on cluster {event.paper.cluster_id}.")


@screen_app.command("reset")
def reset(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id."),
    reviewer: str | None = reviewer_option(
        "Whose decision to reset (default: $CASEPOOL_REVIEWER)."
    ),
    stage: str | None = stage_option(required=False),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Return a cluster to unscreened for a reviewer; the trail keeps every decision.
    Without --stage: the one stage where the reviewer has a decision on it."""
    from review.errors import ScreeningError

    name = _need(reviewer)
    with _open(ctx, review, db) as rv:
        screening = rv.screening
        if stage is None:
            stages = [
                s
                for s in screening.settings.stages
                if screening.state(cluster, stage=s, viewer=name).votes_of(name)
            ]
            if not stages:
                raise ScreeningError(f"{name} has no decision on cluster {cluster} to reset")
            if len(stages) > 1:
                raise ScreeningError(
                    f"{name} has decisions on cluster {cluster} at both stages; "
                    "say which with --stage ta or --stage ft"
                )
            stage = stages[0]
        event = screening.reset(cluster, stage=stage, reviewer=name, via="cli")  # type: ignore[arg-type]
    typer.echo(
        f"Reset {event.person}'s {event.stage} decision on cluster {event.paper.cluster_id}; "
        "it is unscreened for them again."
    )


@screen_app.command("history")
def history(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id."),
    reviewer: str | None = reviewer_option("Whose view (while a stage is blind, only theirs)."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The trail of a cluster: every decision, reset, note and resolution on its papers."""
    with _open(ctx, review, db) as rv:
        paper, events = rv.screening.history(cluster, viewer=reviewer)
    if as_json:
        print_json(
            {
                "cluster": paper.cluster_id,
                "records": list(paper.members),
                "events": [e.as_dict() for e in events],
            }
        )
        return
    records = ", ".join(str(m) for m in paper.members)
    typer.echo(f"Cluster {paper.cluster_id} (records {records}):")
    if not events:
        typer.echo("  no screening events yet")
    for event in events:
        typer.echo("  " + _event_line(event))


@screen_app.command("queue")
def queue_cmd(
    ctx: typer.Context,
    stage: str = stage_option(),
    reviewer: str | None = reviewer_option(),
    order: str = order_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The clusters a reviewer still has to screen at a stage (with --order relevance,
    most relevant first, with each one's predicted relevance)."""
    name = _need(reviewer)
    if order == "relevance":
        with _open(ctx, review, db) as rv:
            ranked = rv.screening.relevance(stage, name)  # type: ignore[arg-type]
        if as_json:
            print_json(ranked.as_dict())
            return
        how = "most relevant first" if ranked.ranked else "in cluster order"
        typer.echo(
            f"{name} has {count(len(ranked.clusters), 'record')} to screen at {stage}, {how}."
        )
        if ranked.why_unranked:
            typer.echo(f"Note: {ranked.why_unranked}", err=True)
        for cluster in ranked.clusters[:50]:
            score = ranked.scores.get(cluster)
            typer.echo(f"  {cluster}" + ("" if score is None else f"  relevance {score:.2f}"))
        if len(ranked.clusters) > 50:
            typer.echo("  ...")
        return
    with _open(ctx, review, db) as rv:
        todo = rv.screening.queue(stage, name)  # type: ignore[arg-type]
    if as_json:
        print_json({"stage": stage, "reviewer": name, "clusters": todo})
        return
    typer.echo(f"{name} has {count(len(todo), 'record')} to screen at {stage}.")
    if todo:
        typer.echo("  " + ", ".join(str(c) for c in todo[:50]) + (" ..." if len(todo) > 50 else ""))


@screen_app.command("export")
def export_sheet(
    ctx: typer.Context,
    stage: str = stage_option(),
    reviewer: str | None = reviewer_option("Whose records (default: $CASEPOOL_REVIEWER)."),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="The sheet to write: FILE.xlsx (with dropdowns) or FILE.csv.",
        show_default=False,
        dir_okay=True,
    ),
    order: str = order_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Write a reviewer's records to a spreadsheet to screen in Excel: one row each, with
    dropdowns for decision and reason; their decisions so far filled in (with --order
    relevance, the records to screen first, most relevant first, and a relevance column).
    Bring it back with 'casepool screen import'."""
    name = _need(reviewer)
    with _open(ctx, review, db) as rv:
        written = rv.screening.export_sheet(stage, name, out, order)  # type: ignore[arg-type]
    if as_json:
        print_json(written.as_dict())
        return
    for line in written.notes:
        typer.echo(f"Note: {line}", err=True)
    typer.echo(f"{written.message}.")


@screen_app.command("import")
def import_sheet(
    ctx: typer.Context,
    sheet: Path = typer.Argument(..., help="The filled sheet (.xlsx or .csv).", dir_okay=True),
    reviewer: str | None = reviewer_option(
        "Whose sheet it is: the reviewer it was exported for (default: $CASEPOOL_REVIEWER)."
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Record the decisions of a sheet written by 'casepool screen export'. Every row is
    checked first; if any has a problem, all are listed and nothing is imported. Rows
    that change nothing are skipped, so importing a sheet twice is harmless."""
    name = _need(reviewer)
    with _open(ctx, review, db) as rv:
        done = rv.screening.import_sheet(sheet, name)
    if as_json:
        print_json(done.as_dict())
        return
    for line in (*done.notes, *done.warnings):
        typer.echo(f"Note: {line}", err=True)
    typer.echo(f"{done.message}.")


# --- the lead ---------------------------------------------------------------------------


def _state_line(state: ClusterState) -> str:
    votes = "; ".join(
        f"{v.person}: {v.decision}{f' ({v.reason})' if v.reason else ''}" for v in state.votes
    )
    plain = " / ".join(f"{v.person}: {v.decision}" for v in state.votes)
    why = f"  [{state.why}]" if state.why and state.why != plain else ""
    return f"{state.cluster_id:>8}  {votes}{why}"


@screen_app.command("conflicts")
def conflicts(
    ctx: typer.Context,
    stage: str = stage_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The clusters whose reviewers disagree at a stage (once it is unblinded)."""
    with _open(ctx, review, db) as rv:
        found = rv.screening.conflicts(stage)  # type: ignore[arg-type]
        advance = rv.screening.settings.advance
    if as_json:
        print_json(
            {
                "stage": stage,
                "conflicts": [{**s.as_dict(), "outcome": s.outcome(advance)} for s in found],
            }
        )
        return
    if not found:
        typer.echo(f"No conflicts at {stage}.")
        return
    typer.echo(f"{count(len(found), 'conflict')} at {stage}:")
    for state in found:
        ahead = (
            " (goes on to full text: either-includes)"
            if state.outcome(advance) == "advanced"
            else ""
        )
        typer.echo(_state_line(state) + ahead)
    typer.echo(
        f"Resolve each with 'casepool screen resolve CLUSTER --stage {stage} "
        "--decision include|exclude --by LEAD'."
    )


@screen_app.command("agreement")
def agreement(
    ctx: typer.Context,
    stage: str = stage_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Agreement between reviewers at a stage (once it is unblinded): for each pair, the
    records both screened, percent agreement, Cohen's kappa with its 95% CI (large-sample
    SE of Fleiss, Cohen and Everitt 1969), PABAK and Gwet's AC1 over include / exclude /
    maybe; Fleiss' kappa when three or more reviewers screened."""
    with _open(ctx, review, db) as rv:
        found = rv.screening.agreement(stage)  # type: ignore[arg-type]
    if as_json:
        print_json(found.as_dict())
        return
    if not found.compared:
        who = ", ".join(found.reviewers) if found.reviewers else "no one"
        typer.echo(
            f"No two reviewers have screened the same record at {stage} yet "
            f"(decided so far: {who}); agreement needs records screened by both."
        )
        return
    typer.echo(
        f"Agreement at {stage} over {', '.join(found.categories)} "
        f"(k = {len(found.categories)} for PABAK and AC1):"
    )
    typer.echo(
        f"{'reviewers':<28} {'n both':>6} {'agree':>7}  {'kappa [95% CI]':<24} "
        f"{'PABAK':>6} {'AC1':>6}"
    )
    for pair in found.pairs:
        typer.echo(_agreement_line(pair))
    for pair in found.pairs:
        if pair.n and pair.kappa.why_undefined:
            typer.echo(f"{' / '.join(pair.raters)}: kappa undefined: {pair.kappa.why_undefined}")
        elif pair.n and pair.kappa.why_no_interval:
            typer.echo(f"{' / '.join(pair.raters)}: {pair.kappa.why_no_interval}")
    if found.fleiss is not None:
        fleiss = found.fleiss
        value = (
            f"{fleiss.value:.3f}"
            if fleiss.value is not None
            else f"undefined ({fleiss.why_undefined})"
        )
        typer.echo(
            f"Fleiss' kappa, {len(fleiss.raters)} reviewers, "
            f"{count(fleiss.n, 'record')} screened by all: {value}"
        )
    typer.echo(
        "kappa's 95% CI: the large-sample SE of Fleiss, Cohen and Everitt (1969), as "
        "psych::cohen.kappa reports it."
    )


def _agreement_line(pair: PairAgreement) -> str:
    names = " / ".join(pair.raters)
    if not pair.n:
        return f"{names:<28} {0:>6}  (no records in common)"
    kappa = pair.kappa
    if kappa.value is not None and kappa.ci_lower is not None and kappa.ci_upper is not None:
        shown = f"{kappa.value:.3f} [{kappa.ci_lower:.3f}, {kappa.ci_upper:.3f}]"
    elif kappa.value is not None:
        shown = f"{kappa.value:.3f} [no interval]"
    else:
        shown = "undefined"
    percent = pair.percent_agreement or 0.0
    return (
        f"{names:<28} {pair.n:>6} {percent:>6.1f}%  {shown:<24} "
        f"{pair.pabak or 0.0:>6.3f} {pair.ac1 or 0.0:>6.3f}"
    )


@screen_app.command("resolve")
def resolve(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id."),
    stage: str = stage_option(),
    decision: str = typer.Option(
        ..., "--decision", "-d", help="include or exclude.", show_default=False
    ),
    by: str = by_option(),
    reason: str | None = typer.Option(
        None, "--reason", help="The exclusion reason's code (required at full text)."
    ),
    why: str | None = typer.Option(None, "--why", help="Why, in a few words (recorded)."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Record the final decision on a cluster."""
    chosen = _decision(decision)
    with _open(ctx, review, db) as rv:
        event, before = rv.screening.resolve(
            cluster,
            stage=stage,  # type: ignore[arg-type]
            decision=chosen,
            by=by,
            reason=reason,
            why=why,
            via="cli",
        )
    if as_json:
        print_json({**event.as_dict(), "was": before.as_dict()})
        return
    was = "" if before.status == "conflict" else f" (it was {before.status}, not in conflict)"
    because = f" ({event.reason})" if event.reason else ""
    typer.echo(
        f"Resolved cluster {event.paper.cluster_id} at {stage}: {event.decision}{because}, "
        f"by {event.person}{was}."
    )


@screen_app.command("unblind")
def unblind(
    ctx: typer.Context,
    stage: str = stage_option(),
    by: str = by_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Show every reviewer's decisions at a stage (conflicts, agreement, PRISMA counts)."""
    with _open(ctx, review, db) as rv:
        changed = rv.screening.unblind(stage, by=by)  # type: ignore[arg-type]
    if changed:
        typer.echo(f"Unblinded {stage}: everyone's decisions there can now be seen.")
    else:
        typer.echo(f"{stage} was already unblinded.")


@screen_app.command("blind")
def blind(
    ctx: typer.Context,
    stage: str = stage_option(),
    by: str = by_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Hide others' decisions at a stage again (each reviewer sees only their own)."""
    with _open(ctx, review, db) as rv:
        changed = rv.screening.blind(stage, by=by)  # type: ignore[arg-type]
    if changed:
        typer.echo(f"Blinded {stage} again: each reviewer sees only their own decisions.")
    else:
        typer.echo(f"{stage} is already blind.")


@screen_app.command("assign")
def assign(
    ctx: typer.Context,
    stage: str = stage_option(),
    reviewers: str = typer.Option(
        ..., "--reviewers", help="Comma-separated reviewer names: a,b,c.", show_default=False
    ),
    per_record: int = typer.Option(2, "--per-record", min=1, help="Reviewers per record."),
    seed: int = typer.Option(1, "--seed", help="The same seed gives the same split."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Share the stage's records not yet assigned among reviewers: loads within one
    record of each other, every pair sharing records, reproducible by seed."""
    names = [n.strip() for n in reviewers.split(",")]
    if any(not n for n in names):
        raise typer.BadParameter(
            f"{reviewers!r} has an empty name; write --reviewers a,b,c",
            param_hint="'--reviewers'",
        )
    with _open(ctx, review, db) as rv:
        done = rv.screening.assign(stage, names, per_record=per_record, seed=seed)  # type: ignore[arg-type]
    if as_json:
        print_json(done.as_dict())
        return
    allocation = done.allocation
    if not allocation.assigned:
        verb = "is" if done.already == 1 else "are"
        already = count(done.already, "record")
        typer.echo(f"Nothing to assign at {stage}: {already} {verb} assigned already.")
        return
    typer.echo(
        f"Assigned {count(len(allocation.assigned), 'record')} at {stage} "
        f"(batch {done.batch}, seed {seed}), {per_record} reviewer"
        f"{'s' if per_record != 1 else ''} each:"
    )
    for person, n in allocation.loads.items():
        typer.echo(f"  {person:<16} {n:>8,}")
    if allocation.overlaps:
        typer.echo("Shared by each pair:")
        for (a, b), n in allocation.overlaps.items():
            typer.echo(f"  {a} + {b}: {n:,}")


@screen_app.command("status")
def status(
    ctx: typer.Context,
    reviewer: str | None = reviewer_option("Show this reviewer's own decision counts."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Progress per stage and reviewer."""
    with _open(ctx, review, db) as rv:
        stages = rv.screening.status(viewer=reviewer)
    if as_json:
        print_json({"stages": [s.as_dict() for s in stages]})
        return
    names = {"ta": "Title/abstract", "ft": "Full text"}
    for st in stages:
        blind = " (blind)" if st.blind else ""
        typer.echo(f"{names[st.stage]}{blind}: {count(st.eligible, 'record')} to screen")
        if st.outcomes is not None:
            parts = ", ".join(f"{k} {v:,}" for k, v in st.outcomes.items())
            typer.echo(f"  outcome: {parts}")
        if st.statuses is not None:
            parts = ", ".join(f"{k} {v:,}" for k, v in st.statuses.items())
            typer.echo(f"  status: {parts}")
        for person, tally in st.reviewers.items():
            assigned = tally.get("assigned", 0)
            of = f" of {assigned:,} assigned" if assigned else ""
            own = ", ".join(
                f"{k} {tally[k]:,}" for k in ("include", "exclude", "maybe") if tally.get(k)
            )
            typer.echo(
                f"  {person:<16} {tally.get('done', 0):>7,} done{of}" + (f" ({own})" if own else "")
            )


# --- full texts and studies -------------------------------------------------------------


@screen_app.command("retrieve")
def retrieve(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The cluster id."),
    pdf: str | None = typer.Option(None, "--pdf", help="The PDF's path or URL."),
    not_retrieved: bool = typer.Option(
        False, "--not-retrieved", help="The full text could not be found (give --why)."
    ),
    why: str | None = typer.Option(None, "--why", help="Why it could not be retrieved."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Record a report's full text as found (with its PDF) or not retrieved (and why)."""
    with _open(ctx, review, db) as rv:
        if not_retrieved:
            paper = rv.screening.not_retrieved(cluster, why=why or "")
            typer.echo(f"Cluster {paper.cluster_id}: full text not retrieved ({why}).")
        else:
            if why:
                raise typer.BadParameter("--why goes with --not-retrieved", param_hint="'--why'")
            paper = rv.screening.retrieved(cluster, pdf=pdf)
            where = f" ({pdf})" if pdf else ""
            typer.echo(f"Cluster {paper.cluster_id}: full text retrieved{where}.")


@screen_app.command("link")
def link(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The report's cluster id."),
    study: int = typer.Option(
        ..., "--study", help="A cluster id of another report of the same study.", show_default=False
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Link a report to another report of the same study (the same patients): PRISMA
    counts them as one study."""
    with _open(ctx, review, db) as rv:
        paper, other = rv.screening.link(cluster, study=study)
    assert other is not None
    typer.echo(f"Linked cluster {paper.cluster_id} to the study of cluster {other.cluster_id}.")


@screen_app.command("unlink")
def unlink(
    ctx: typer.Context,
    cluster: int = typer.Argument(..., help="The report's cluster id."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Make a report its own study again."""
    with _open(ctx, review, db) as rv:
        paper, _ = rv.screening.unlink(cluster)
    typer.echo(f"Cluster {paper.cluster_id} is its own study again.")


@screen_app.command("studies")
def studies(
    ctx: typer.Context,
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The studies with more than one report, and their reports."""
    with _open(ctx, review, db) as rv:
        groups = rv.screening.studies()
    if as_json:
        print_json({"studies": [{"study": k, "reports": v} for k, v in groups.items()]})
        return
    if not groups:
        typer.echo("Every report is its own study.")
    for study, reports in groups.items():
        typer.echo(f"Study {study}: reports {', '.join(str(r) for r in reports)}")


def register(app: typer.Typer) -> None:
    """Add ``casepool screen`` and ``casepool prisma`` to the root app."""
    app.add_typer(screen_app, name="screen")
    app.command("prisma")(prisma)
    from review.cli.simulate_cmd import simulate

    screen_app.command("simulate")(simulate)


def prisma(
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Draw the flow diagram to this file (.svg, .png or .pdf).",
        dir_okay=False,
    ),
    csv: Path | None = typer.Option(
        None,
        "--csv",
        help="Write the counts as the PRISMA2020 R package's CSV (for its app).",
        dir_okay=False,
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The PRISMA 2020 flow of the review: records per source, duplicates, screened,
    excluded, reports sought, not retrieved, assessed, excluded per reason, included."""
    from review.prisma.draw import diagram_format
    from review.prisma.files import check_target

    if out is not None:
        diagram_format(out)
    for target in (out, csv):
        if target is not None:
            check_target(target)  # both refused before either is written
    with open_review(review, db, uses=("search", "exclusion_reasons", "screening")) as rv:
        flow, blind = rv.screening.flow()
    for stage in blind:
        typer.echo(
            f"Note: {stage} screening is blind, so its decisions are not counted yet "
            f"(every record there waits); a lead unblinds it with 'casepool screen unblind "
            f"--stage {stage} --by LEAD'.",
            err=True,
        )
    written = []
    if out is not None:
        from review.prisma.draw import draw_prisma

        written.append(draw_prisma(flow, out))
    if csv is not None:
        from review.prisma.csv_template import write_prisma2020_csv

        written.append(write_prisma2020_csv(flow, csv))
        if flow.in_progress:
            typer.echo(
                f"Note: {csv} leaves out the records and reports still waiting for a "
                "decision (the PRISMA2020 template has no box for them), so its boxes add "
                "up only once every one is decided; the diagram shows them.",
                err=True,
            )
    if as_json:
        print_json({**flow.as_dict(), "blind": list(blind), "written": [str(p) for p in written]})
        return
    _print_flow(flow)
    for path in written:
        typer.echo(f"Wrote {path}.")


def _print_flow(flow: Any) -> None:
    typer.echo("Identification (databases and registers):")
    for source in flow.sources:
        if source.left:
            typer.echo(f"  {source.name:<28} {source.n:>8,}")
    rows = [
        ("duplicates removed", flow.duplicates),
        ("records screened", flow.records_screened),
        ("records excluded", flow.records_excluded),
        ("awaiting screening", flow.records_awaiting),
        ("reports sought", flow.dbr_sought),
        ("reports not retrieved", flow.dbr_not_retrieved),
        ("awaiting retrieval", flow.dbr_awaiting_retrieval),
        ("reports assessed", flow.dbr_assessed),
    ]
    for label, n in rows:
        if n or not label.startswith("awaiting"):
            typer.echo(f"  {label:<28} {n:>8,}")
    for reason in flow.dbr_excluded:
        typer.echo(f"    excluded: {reason.label:<40} {reason.n:>6,}")
    if flow.dbr_awaiting:
        typer.echo(f"  {'awaiting full-text decision':<28} {flow.dbr_awaiting:>8,}")
    if flow.has_other_methods:
        typer.echo("Identification (other methods):")
        for source in flow.other_sources:
            typer.echo(f"  {source.name:<28} {source.n:>8,}")
        other = [
            ("already found or duplicates", flow.other_removed),
            ("excluded at screening", flow.other_screened_out),
            ("awaiting screening", flow.other_awaiting_screening),
            ("reports sought", flow.other_sought),
            ("reports not retrieved", flow.other_not_retrieved),
            ("awaiting retrieval", flow.other_awaiting_retrieval),
            ("reports assessed", flow.other_assessed),
        ]
        for label, n in other:
            if n or label in ("reports sought", "reports assessed"):
                typer.echo(f"  {label:<28} {n:>8,}")
        for reason in flow.other_excluded:
            typer.echo(f"    excluded: {reason.label:<40} {reason.n:>6,}")
        if flow.other_awaiting:
            typer.echo(f"  {'awaiting full-text decision':<28} {flow.other_awaiting:>8,}")
    typer.echo("Included:")
    typer.echo(f"  {'studies':<28} {flow.new_studies:>8,}")
    typer.echo(f"  {'reports':<28} {flow.new_reports:>8,}")


from review.cli.stop_cmd import stop_check  # noqa: E402  (it builds on this module's options)

screen_app.command("stop-check")(stop_check)
