"""``casepool screen simulate``: replay a labelled data set to measure the ranking model and
the stopping rules, as ``asreview simulate`` does (review.screening.simulation)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from review.cli.common import json_option, print_json

if TYPE_CHECKING:
    from review.screening.simulation import SimulationSummary

RULE_NAMES = {
    "statistical": "statistical (Callaghan & Müller-Hansen)",
    "run-length": "{n} irrelevant in a row",
    "safe": "SAFE, checkable part",
}


def _read(path: Path) -> bytes:
    from review.errors import SimulationError

    if path.is_dir():
        raise SimulationError(f"{path}: is a folder; give the path of a labelled CSV or RIS file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SimulationError(f"{path}: no such file; check the path and the file name") from None
    except OSError as exc:
        raise SimulationError(f"{path}: cannot read the file: {exc.strerror or exc}") from None


def simulate(
    data: Path = typer.Option(
        ...,
        "--data",
        help="The labelled records: ASReview-style CSV/TSV (title, abstract, a 0/1 label "
        "column) or RIS with ASReview's labels (N1 ASReview_relevant/irrelevant).",
        show_default=False,
        dir_okay=True,
    ),
    label_column: str = typer.Option(
        "label_included", "--label-column", help="The CSV column holding the 0/1 labels."
    ),
    seeds: int = typer.Option(10, "--seeds", min=1, help="Runs, with seeds 0 to N-1."),
    prior_included: int = typer.Option(
        1, "--prior-included", min=0, help="Relevant records known before screening starts."
    ),
    prior_excluded: int = typer.Option(
        1, "--prior-excluded", min=0, help="Irrelevant records known before screening starts."
    ),
    model: str = typer.Option(
        "",
        "--model",
        help=(
            "The ranking model: tfidf-svm (the default), elas-u4 (ASReview's default, "
            "replayed exactly) or tfidf-logreg."
        ),
        show_default=False,
    ),
    recall: float = typer.Option(
        0.95, "--recall", min=0.0, max=1.0, help="The stopping rule's target recall."
    ),
    confidence: float = typer.Option(
        0.95, "--confidence", min=0.0, max=1.0, help="The stopping rule's confidence."
    ),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Draw the recall curves to this file (.png, .svg or .pdf).",
        show_default=False,
        dir_okay=False,
    ),
    as_json: bool = json_option(),
) -> None:
    """Replay the labels of a labelled data set with the ranking model retrained after
    every decision, priors drawn as ASReview draws them: WSS@95, WSS@100, RRF@10 and ATD
    against random order, and where each stopping rule stopped. Same seeds, same numbers."""
    from review.screening.ranking import DEFAULT, MODELS
    from review.screening.simulation_plot import PLOT_SUFFIXES

    chosen = model or DEFAULT
    if chosen not in MODELS:
        raise typer.BadParameter(
            f"{model!r} is not one of {', '.join(MODELS)}", param_hint="'--model'"
        )
    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        raise typer.BadParameter(
            f"{plot}: a plot is drawn as .png, .svg or .pdf", param_hint="'--plot'"
        )
    for option, value in (("--recall", recall), ("--confidence", confidence)):
        if not 0.0 < value < 1.0:
            raise typer.BadParameter(
                f"{value} must be between 0 and 1 (exclusive)", param_hint=f"'{option}'"
            )
    summary = _run(
        data, label_column, seeds, prior_included, prior_excluded, chosen, recall, confidence
    )
    written = None
    if plot is not None:
        from review.screening.simulation_plot import draw_recall_curves

        written = draw_recall_curves(summary, plot)
    if as_json:
        result = summary.as_dict()
        result["plot"] = str(written) if written else None
        print_json(result)
        return
    _print(summary)
    if written:
        typer.echo(f"Recall curves drawn to {written}.")


def _run(
    data: Path,
    label_column: str,
    seeds: int,
    prior_included: int,
    prior_excluded: int,
    model: str,
    recall: float,
    confidence: float,
) -> SimulationSummary:
    from review.screening.ranking import Ranker
    from review.screening.simulation import StopSettings, simulate_seeds
    from review.screening.simulation_data import read_labelled

    labelled = read_labelled(_read(data), str(data), label_column=label_column)
    ranker = Ranker(labelled.texts, model=model)  # type: ignore[arg-type]
    return simulate_seeds(
        ranker,
        labelled.labels,
        name=data.name,
        model=model,
        seeds=seeds,
        n_prior_included=prior_included,
        n_prior_excluded=prior_excluded,
        stop_settings=StopSettings(recall=recall, confidence=confidence),
    )


def _print(summary: SimulationSummary) -> None:
    from review.screening.simulation import STOP_RULES

    s = summary
    typer.echo(
        f"{s.name}: {s.n_records:,} records, {s.n_relevant:,} relevant; model {s.model}; "
        f"{len(s.runs)} seeds; priors {s.n_prior_included} relevant + "
        f"{s.n_prior_excluded} irrelevant"
    )
    typer.echo(f"{'median over seeds':<22}{s.model:>14}{'random order':>14}")
    for label, metric, fmt in (
        ("WSS@95", "wss95", ".3f"),
        ("WSS@100", "wss100", ".3f"),
        ("RRF@10", "rrf10", ".3f"),
        ("ATD (records)", "atd", ".1f"),
    ):
        ours, random = s.median(metric), s.median(metric, random=True)
        typer.echo(f"{label:<22}{ours:>14{fmt}}{random:>14{fmt}}")
    typer.echo(
        f"Stopping, target recall {s.settings.recall:g} at confidence {s.settings.confidence:g}:"
    )
    for rule in STOP_RULES:
        done = s.stop_summary(rule)
        name = RULE_NAMES[rule].format(n=s.settings.run_length)
        typer.echo(
            f"  {name:<40} target reached in {done['reached_target']}/{done['runs']} runs; "
            f"median recall {done['median_recall']:.3f}, work saved "
            f"{done['median_work_saved']:.3f} ({done['median_screened']:,.0f} screened)"
        )
