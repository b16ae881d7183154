"""``casepool pool`` and ``casepool sensitivity``: pooled proportions from a counts table,
or from the review's extraction (``--outcome``).

Thin: read the table (meta.tables) or the review's counts, call one meta function, print
or draw its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from meta.types import CCMode, Measure, Method, StudyCIMethod, Test
from review.cli import pool_options as opt
from review.cli.common import db_option, json_option, open_review, print_json, review_option
from review.cli.progress import progress_bars
from review.wording import count


def pool_command(
    input_file: Path | None = opt.input_option(required=False),
    sheet: str | None = opt.sheet_option(),
    events: str | None = opt.events_option(required=False),
    total: str | None = opt.total_option(required=False),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        help="Pool this protocol outcome straight from the review's extraction (no CSV).",
        show_default=False,
    ),
    ipd: bool = typer.Option(
        False,
        "--ipd",
        help="With --outcome: fit the one-stage model to the patient rows (random study "
        "intercept) instead of pooling counts.",
    ),
    covariate: list[str] = typer.Option(
        [],
        "--covariate",
        help="With --ipd: a case field (number or yes/no) to adjust for (repeat for more).",
        show_default=False,
        metavar="<field>",
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    study: str | None = opt.study_option(),
    subgroup: str | None = opt.subgroup_option(
        "Column with subgroup names: pool each group and test the difference (Q-between)."
    ),
    measure: Measure = opt.measure_option(
        "Effect measure for two-stage methods (metafor's names)."
    ),
    method: Method = opt.method_option("tau² estimator, or GLMM (binomial-normal, one-stage)."),
    test: Test = opt.test_option("Wald (z) or Hartung-Knapp-Sidik-Jonkman (knha) intervals."),
    study_ci: StudyCIMethod = opt.study_ci_option(
        "Study intervals: Clopper-Pearson, Wilson, Agresti-Coull, Wald."
    ),
    cc: float = opt.cc_option(),
    cc_mode: CCMode = opt.cc_mode_option(),
    level: float = opt.level_option(),
    as_json: bool = json_option(),
    forest: Path | None = opt.forest_option("Also draw a forest plot (.png, .svg or .pdf)."),
) -> None:
    """Pool per-study proportions (events out of totals) with their uncertainty.

    Default: the binomial-normal GLMM with Clopper-Pearson study intervals.
    """
    if ipd or covariate:
        _fit_ipd(outcome, covariate, review, db, as_json)
        return
    counts = _counts_for_pool(
        input_file, sheet, events, total, study, subgroup, outcome, review, db
    )
    options: dict[str, Any] = {
        "measure": measure,
        "method": method,
        "test": test,
        "level": level,
        "study_ci": study_ci,
        "cc": cc,
        "cc_mode": cc_mode,
    }
    from meta.subgroups import pool_counts

    result = pool_counts(counts, by_subgroup=subgroup is not None, **options)
    if forest is not None:
        from meta.forest import draw_forest

        draw_forest(result, forest)
    if as_json:
        print_json(result.to_dict())
        return
    _print_pooled(result, forest)


def _fit_ipd(
    outcome: str | None, covariates: list[str], review: Path | None, db: str | None, as_json: bool
) -> None:
    if outcome is None:
        raise typer.BadParameter(
            "the one-stage model fits an outcome of the review: give --outcome NAME",
            param_hint="'--ipd'",
        )
    with open_review(review, db, uses=("outcomes", "extraction")) as rv:
        fit, rows = rv.extraction.fit_ipd(outcome, covariates)
    terms = list(
        zip(
            fit.names,
            fit.coefficients,
            fit.se,
            fit.z,
            fit.p,
            fit.ci_lower,
            fit.ci_upper,
            strict=True,
        )
    )
    if as_json:
        print_json(
            {
                "outcome": outcome,
                "model": "one-stage logistic, random study intercept (ML, adaptive GHQ)",
                "terms": [
                    dict(
                        zip(
                            ("name", "estimate", "se", "z", "p", "ci_lower", "ci_upper"),
                            t,
                            strict=True,
                        )
                    )
                    for t in terms
                ],
                "tau2": fit.tau2,
                "loglik": fit.loglik,
                "converged": fit.converged,
                "patients": fit.n_patients,
                "studies": fit.n_studies,
                "left_out": {
                    "unknown_outcome": rows.unknown_outcome,
                    "missing_covariate": rows.missing_covariate,
                    "aggregate_only_studies": list(rows.aggregate_only),
                },
                "warnings": list(fit.warnings),
            }
        )
        return
    typer.echo(
        f"One-stage model of {outcome}: {fit.n_patients} patients in {fit.n_studies} studies "
        "(logistic, random study intercept, ML)"
    )
    typer.echo(f"  {'term':<24} {'log odds':>9} {'SE':>7} {'95% CI':>18} {'p':>7}")
    for name, b, se, _z, p, lo, hi in terms:
        ci = f"[{lo:.2f}, {hi:.2f}]"
        typer.echo(f"  {name:<24} {b:>9.3f} {se:>7.3f} {ci:>18} {p:>7.3f}")
    typer.echo(f"  tau² = {fit.tau2:.4g}")
    if fit.n_patients < 10:
        typer.echo(
            f"Note: {count(fit.n_patients, 'patient')} say little to a one-stage model; its "
            "random intercept's variance is hardly identified."
        )
    if rows.unknown_outcome or rows.missing_covariate:
        typer.echo(
            f"Left out: {count(rows.unknown_outcome, 'patient')} with the outcome unknown, "
            f"{rows.missing_covariate:,} with a covariate missing."
        )
    if rows.aggregate_only:
        typer.echo(
            f"Not in the model (aggregate rows only): {', '.join(rows.aggregate_only)}; "
            "pool the counts (without --ipd) to include them."
        )
    for warning in fit.warnings:
        typer.echo(f"Warning: {warning}", err=True)


def _counts_for_pool(
    input_file: Path | None,
    sheet: str | None,
    events: str | None,
    total: str | None,
    study: str | None,
    subgroup: str | None,
    outcome: str | None,
    review: Path | None,
    db: str | None,
) -> Any:
    """The counts to pool: from the review's extraction (``--outcome``) or from a table."""
    if outcome is not None:
        given = [
            n
            for n, v in (
                ("--input", input_file),
                ("--events", events),
                ("--total", total),
                ("--study", study),
                ("--subgroup", subgroup),
            )
            if v is not None
        ]
        if given:
            raise typer.BadParameter(
                f"{given[0]} reads a table; --outcome pools from the review, so give one or "
                "the other",
                param_hint="'--outcome'",
            )
        with open_review(review, db, uses=("outcomes", "extraction")) as rv:
            return rv.extraction.study_counts(outcome)
    missing = [
        n
        for n, v in (("--input", input_file), ("--events", events), ("--total", total))
        if v is None
    ]
    if missing:
        raise typer.BadParameter(
            f"give {missing[0]}: pool a table (--input FILE --events COL --total COL) or an "
            "outcome of the review (--outcome NAME)",
            param_hint=f"'{missing[0]}'",
        )
    from meta.tables import read_counts_table

    assert input_file is not None and events is not None and total is not None
    opt.check_sheet(input_file, sheet)
    return read_counts_table(
        input_file, events=events, total=total, study=study, subgroup=subgroup, sheet=sheet
    )


def sensitivity_command(
    input_file: Path | None = opt.input_option(required=False),
    sheet: str | None = opt.sheet_option(),
    events: str | None = opt.events_option(required=False),
    total: str | None = opt.total_option(required=False),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        help="Analyse this protocol outcome straight from the review's extraction (no CSV).",
        show_default=False,
    ),
    review: Path | None = review_option(),
    db: str | None = db_option(),
    study: str | None = opt.study_option(),
    subgroup: str | None = opt.subgroup_option(
        "Column with subgroup names: also pool without each subgroup in turn."
    ),
    without: list[str] = typer.Option(
        [],
        "--without",
        help="Also pool without this study (repeat for more).",
        show_default=False,
        metavar="<study>",
    ),
    method: Method = opt.method_option("Primary model for leave-one-out and the subsets."),
    measure: Measure = opt.measure_option("Measure of the primary model."),
    test: Test = opt.test_option("Interval test of the primary model."),
    study_ci: StudyCIMethod = opt.study_ci_option(
        "Study intervals, as for pool (in --json; the rows themselves are pooled estimates)."
    ),
    cc: float = opt.cc_option(),
    cc_mode: CCMode = opt.cc_mode_option(),
    level: float = opt.level_option(),
    as_json: bool = json_option(),
    forest: Path | None = opt.forest_option(
        "Also draw the table as a forest plot, one row per analysis (.png, .svg or .pdf)."
    ),
) -> None:
    """The pooled estimate across methods, leave-one-out, without single-case reports,
    without the studies you name and without each subgroup."""
    from meta.sensitivity import sensitivity_table

    counts = _counts_for_pool(
        input_file, sheet, events, total, study, subgroup, outcome, review, db
    )
    with progress_bars() as advance:
        table = sensitivity_table(
            counts,
            without=tuple(without),
            level=level,
            method=method,
            measure=measure,
            test=test,
            cc=cc,
            cc_mode=cc_mode,
            study_ci=study_ci,
            subgroup=subgroup,
            progress=advance,
        )
    if forest is not None:
        from meta.forest import draw_sensitivity_forest

        draw_sensitivity_forest(table, forest)
    if as_json:
        print_json(table.to_dict())
        return
    _print_sensitivity(table)
    if forest is not None:
        _console().print(f"Forest plot written to {forest}")


def _print_pooled(result: Any, forest: Path | None) -> None:
    """The summary's rows as a table, then its lines (``meta.summary``)."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from meta.summary import level_percent, summarise

    summary = summarise(result)
    console = _console()
    table = Table(title=summary.title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Study")
    table.add_column("Events/n", justify="right", no_wrap=True)
    table.add_column(f"% [{level_percent(summary.level)} CI]", justify="right", no_wrap=True)
    if summary.show_weights:
        table.add_column("Weight %", justify="right", no_wrap=True)
    group = ""
    for row in summary.rows:
        weight = "" if row.weight is None else f"{row.weight:.1f}"
        if row.kind == "group":
            group = row.label
            _add_row(table, f"[bold]{escape(group)}[/bold]")
        elif row.kind == "study":
            _add_row(table, escape(row.label), row.events_n, row.ci_text, weight)
        elif row.kind == "subtotal":
            label = f"  subtotal {escape(group)}"
            _add_row(table, label, row.events_n, row.ci_text, weight, end_section=True)
        elif row.kind == "overall":
            table.add_section()
            _add_row(table, "[bold]Pooled[/bold]", row.events_n, row.ci_text, weight)
        else:
            _add_row(table, escape(row.label), "", row.ci_text, "")
    console.print(table)
    console.print(summary.heterogeneity, markup=False)
    for line in summary.group_heterogeneity:
        console.print(line, markup=False)
    if summary.subgroup_test is not None:
        console.print(summary.subgroup_test, markup=False)
    for note in summary.warnings:
        console.print(f"Warning: {note}", style="yellow", markup=False)
    if forest is not None:
        console.print(f"Forest plot written to {forest}")


def _add_row(table: Any, *cells: str, end_section: bool = False) -> None:
    """Add a row, dropping the cells of columns the table does not have (weight for GLMM)."""
    table.add_row(*cells[: len(table.columns)], end_section=end_section)


def _print_sensitivity(table: Any) -> None:
    """One line per analysis; warnings become numbered notes below the table."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from meta.summary import interval_text, pct

    console = _console()
    level = f"{100 * table.level:g}%"
    out = Table(
        title="Sensitivity of the pooled proportion",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
    )
    for name, justify in (
        ("Analysis", "left"),
        ("Model", "left"),
        ("k", "right"),
        (f"% [{level} CI]", "right"),
        ("PI %", "right"),
        ("tau²", "right"),
        ("I² %", "right"),
        ("p (Q)", "right"),
        ("p (LRT)", "right"),
        ("Notes", "left"),
    ):
        out.add_column(name, justify=justify, no_wrap=name != "Analysis")  # type: ignore[arg-type]
    refs_per_row, notes = table.notes()
    for row, refs in zip(table.rows, refs_per_row, strict=True):
        if row.failed:
            out.add_row(escape(row.label), row.model, str(row.k), "failed", *[""] * 5, refs)
            continue
        pi = "" if row.pi is None else f"[{pct(row.pi[0])}, {pct(row.pi[1])}]"
        out.add_row(
            escape(row.label),
            row.model,
            str(row.k),
            interval_text(row.estimate, *row.ci),
            pi,
            "" if row.tau2 is None else f"{row.tau2:.3g}",
            "" if row.i2 is None else f"{row.i2:.1f}",
            _p_cell(row.q_pvalue),
            _p_cell(row.q_lrt_pvalue),
            refs,
        )
    console.print(out)
    for number, text in enumerate(notes, start=1):
        console.print(f"{number}. {text}", markup=False)


def _p_cell(value: float | None) -> str:
    """A p-value cell: '0.636', '<0.001' or empty."""
    if value is None:
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _console() -> Any:
    """stdout, 120 columns wide when it is not a terminal (files, pipes)."""
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=120)


def register(app: typer.Typer) -> None:
    app.command("pool")(pool_command)
    app.command("sensitivity")(sensitivity_command)
