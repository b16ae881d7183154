"""``casepool appraise``: the tools, a study's appraisal at the terminal or from a CSV
(every answer an event), dual appraisal's differences and their consensus, and the
summary table with its traffic-light and summary plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from review.cli.common import (
    db_option,
    json_option,
    open_review,
    print_json,
    refuse_file,
    review_option,
)
from review.wording import count

appraise_app = typer.Typer(
    help=(
        "Appraise the studies with the tool each one's design calls for: JBI's checklists "
        "for case reports and case series, Murad and colleagues' 2018 tool, or the "
        "protocol's own."
    ),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``casepool appraise`` to the root app."""
    app.add_typer(appraise_app, name="appraise")


def _open(review: Path | None, db: str | None) -> Any:
    return open_review(review, db, uses=("extraction", "appraisal"))


def _appraiser(value: str | None) -> str:
    if not value:
        raise typer.BadParameter(
            "say who is appraising: --appraiser NAME (or set CASEPOOL_APPRAISER)",
            param_hint="'--appraiser'",
        )
    return value


def appraiser_option() -> Any:
    return typer.Option(
        None,
        "--appraiser",
        "-u",
        help="Who is appraising (default: $CASEPOOL_APPRAISER).",
        envvar="CASEPOOL_APPRAISER",
        show_default=False,
    )


@appraise_app.command("tools")
def tools(
    name: str | None = typer.Argument(None, help="Show this tool's items."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The appraisal tools, each with its source; with a name, its items."""
    with _open(review, db) as rv:
        found = rv.appraisal.tools()
    if name is not None and name not in found:
        from review.errors import ExtractError

        raise ExtractError(f"no appraisal tool {name!r}; use one of {', '.join(found)}")
    chosen = [found[name]] if name else list(found.values())
    if as_json:
        print_json({"tools": [t.as_dict() for t in chosen]})
        return
    for tool in chosen:
        typer.echo(f"{tool.name}: {tool.title} ({count(len(tool.items), 'item')})")
        typer.echo(f"  {tool.citation}")
        if name:
            for item in tool.items:
                typer.echo(f"  {item.id:<4} [{item.domain}] {item.question}")
                typer.echo(f"       answers: {', '.join(item.answers)}")


@appraise_app.command("enter")
def enter(
    study: str = typer.Option(..., "--study", help="The study's id or label."),
    tool: str | None = typer.Option(
        None, "--tool", help="The tool (default: the one the study's design calls for)."
    ),
    appraiser: str | None = appraiser_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """Appraise one study at the terminal, item by item; each answer is saved as it is
    given (Ctrl-C keeps what was saved); Enter keeps what is there."""
    from review.errors import ExtractImportError
    from review.extract.events import AppraisalRow

    person = _appraiser(appraiser)
    saved = 0
    with _open(review, db) as rv:
        a = rv.appraisal
        found = rv.extraction.find_study(study)
        spec = a.tools()[tool] if tool in a.tools() else a.tool_for(found.label)
        if tool is not None and tool != spec.name:
            from review.errors import ExtractError

            raise ExtractError(f"no appraisal tool {tool!r}; use one of {', '.join(a.tools())}")
        mine = {
            s.item: s.answers.get(person)
            for s in a.items()
            if s.study.id == found.id and s.tool == spec.name
        }
        typer.echo(f"{spec.title} for {found.label}: {spec.citation}")
        try:
            for item in spec.items:
                typer.echo(f"{item.id} [{item.domain}] {item.question}")
                current = mine.get(item.id)
                while True:
                    shown = f" <{current}>" if current else ""
                    text = str(
                        typer.prompt(
                            f"  {' / '.join(item.answers)}{shown}", default="", show_default=False
                        )
                    ).strip()
                    if not text:
                        break
                    row = AppraisalRow(found.label, spec.name, {item.id: text}, "the terminal")
                    try:
                        done = a.enter([row], appraiser=person, via="terminal")
                    except ExtractImportError as exc:  # say what is wrong, ask again
                        typer.echo(f"  {exc.problems[0].split(': ', 1)[-1]}", err=True)
                        continue
                    saved += done.written
                    break
        except typer.Abort:
            typer.echo(
                f"\nStopped: {count(saved, 'answer')} saved (each as it was given).", err=True
            )
            raise typer.Exit(130) from None
    typer.echo(f"Saved {count(saved, 'answer')} for {found.label} ({spec.name}).")


@appraise_app.command("import")
def import_answers(
    file: Path = typer.Argument(..., help="A CSV: study, tool, then one column per item id."),
    appraiser: str | None = appraiser_option(),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Import appraisal answers: every answer checked against its tool, all or nothing;
    the same file again writes nothing."""
    from review.errors import ExtractImportError

    person = _appraiser(appraiser)
    with _open(review, db) as rv:
        try:
            done = rv.appraisal.import_file(file, appraiser=person)
        except ExtractImportError as exc:
            refuse_file(file.name, exc.problems)
    if as_json:
        print_json(done.as_dict())
        return
    typer.echo(
        f"Imported {count(done.studies, 'study', 'studies')} from {file.name}: "
        f"{count(done.written, 'answer')} recorded, {done.unchanged:,} unchanged."
    )


@appraise_app.command("template")
def template(
    out: Path = typer.Option(..., "--out", "-o", help="The CSV to write.", dir_okay=False),
    review: Path | None = review_option(),
    db: str | None = db_option(),
) -> None:
    """A CSV to fill in: one row per study, its tool by design, one column per item."""
    with _open(review, db) as rv:
        n = rv.appraisal.template(out)
    typer.echo(f"Wrote {out} ({count(n, 'study', 'studies')}; '-' marks items the tool lacks).")


@appraise_app.command("compare")
def compare(
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Every item two appraisers answered differently, not yet settled."""
    with _open(review, db) as rv:
        found = rv.appraisal.differences()
    if as_json:
        print_json({"differences": [s.as_dict() for s in found]})
        return
    if not found:
        typer.echo("No differences between appraisers.")
        return
    typer.echo(f"{count(len(found), 'difference')}:")
    for state in found:
        answers = "; ".join(f"{p}: {a}" for p, a in sorted(state.answers.items()))
        typer.echo(f"  {state.study.label}  {state.tool} {state.item}  {answers}")
    typer.echo(
        "Record each consensus with 'casepool appraise resolve STUDY --tool T --item ID "
        "--answer A --by NAME'."
    )


@appraise_app.command("resolve")
def resolve(
    study: str = typer.Argument(..., help="The study's id or label."),
    tool: str = typer.Option(..., "--tool", help="The tool."),
    item: str = typer.Option(..., "--item", help="The item id (q1, q2, ...)."),
    answer: str = typer.Option(..., "--answer", help="The consensus answer."),
    by: str = typer.Option(..., "--by", help="Who recorded the consensus."),
    why: str | None = typer.Option(None, "--why", help="Why, in a few words (recorded)."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """Record the consensus answer of one item."""
    with _open(review, db) as rv:
        event = rv.appraisal.resolve(study, tool=tool, item=item, answer=answer, by=by, why=why)
    if as_json:
        print_json(event.as_dict())
        return
    typer.echo(f"Resolved {item} of {study} ({tool}): {event.answer}, by {by}.")


@appraise_app.command("summary")
def summary(
    traffic_light: Path | None = typer.Option(
        None,
        "--traffic-light",
        help="Draw the traffic-light plot (.png, .svg or .pdf).",
        dir_okay=False,
    ),
    bars: Path | None = typer.Option(
        None,
        "--bars",
        help="Draw the summary bars, weighted by study size (.png, .svg, .pdf).",
        dir_okay=False,
    ),
    by: str = typer.Option("item", "--by", help="Traffic-light columns: item or domain."),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    as_json: bool = json_option(),
) -> None:
    """The appraisal of every finished study, per tool: answers, domain concerns and the
    count of yes; and the robvis-style plots. Unfinished studies are named."""
    if by not in ("item", "domain"):
        raise typer.BadParameter(f"{by!r}: use item or domain", param_hint="'--by'")
    for option, target in (("--traffic-light", traffic_light), ("--bars", bars)):
        if target is not None and target.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise typer.BadParameter(
                f"{target}: a plot is drawn as .png, .svg or .pdf", param_hint=f"'{option}'"
            )
    with _open(review, db) as rv:
        tables, incomplete = rv.appraisal.summary()
        sizes = rv.appraisal.study_sizes()
    written = []
    if tables and (traffic_light or bars):
        from extraction.appraisal_plots import draw_summary_bars, draw_traffic_light

        for table in tables:
            for target, draw in ((traffic_light, "light"), (bars, "bars")):
                if target is None:
                    continue
                path = (
                    target
                    if len(tables) == 1
                    else target.with_name(f"{target.stem}-{table.tool.name}{target.suffix}")
                )
                if draw == "light":
                    written.append(draw_traffic_light(table, path, by=by))  # type: ignore[arg-type]
                else:
                    written.append(draw_summary_bars(table, path, weights=sizes))
    if as_json:
        print_json(
            {
                "tables": [t.as_dict() for t in tables],
                "incomplete": incomplete,
                "written": [str(p) for p in written],
            }
        )
        return
    if not tables:
        typer.echo("No study is fully appraised yet.")
    for table in tables:
        typer.echo(f"{table.tool.title} ({table.tool.name})")
        ids = table.tool.item_ids
        typer.echo(f"  {'study':<24} " + " ".join(f"{i:>4}" for i in ids) + "   yes")
        short = {"yes": "Y", "no": "N", "unclear": "?", "not applicable": "NA"}
        for row in table.rows:
            marks = " ".join(f"{short.get(a, a):>4}" for a in row.answers)
            typer.echo(f"  {row.study:<24} {marks}   {row.score}")
    if incomplete:
        typer.echo(f"Not finished: {', '.join(incomplete)}.")
    for path in written:
        typer.echo(f"Wrote {path}.")
