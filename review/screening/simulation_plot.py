"""The recall curves of a screening simulation, drawn to a PNG/SVG/PDF (an edge: writes a file).

One thin line per seed, the median in bold, random order as the diagonal, the target recall
as a dotted line and where the statistical stopping rule stopped in each run as a marker.
"""

from __future__ import annotations

from pathlib import Path

from review.screening.simulation import SimulationSummary

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def draw_recall_curves(summary: SimulationSummary, path: Path) -> Path:
    """Draw the recall curves of ``summary`` to ``path``; returns the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = summary.n_records
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    curves = []
    for run in summary.runs:
        prior_found = summary.n_relevant - sum(run.labels)
        found = np.concatenate(
            [[prior_found], prior_found + np.cumsum(np.asarray(run.labels, dtype=float))]
        )
        x = np.arange(len(run.priors), n + 1)
        y = found / summary.n_relevant
        curves.append(y)
        ax.plot(x, y, color="#4c72b0", alpha=0.25, linewidth=0.9)
    median = np.median(np.vstack(curves), axis=0)
    x = np.arange(len(summary.runs[0].priors), n + 1)
    ax.plot(x, median, color="#1f3f73", linewidth=2.2, label=f"{summary.model} (median)")
    ax.plot([0, n], [0, 1], color="#888888", linestyle="--", linewidth=1.2, label="random order")
    ax.axhline(
        summary.settings.recall,
        color="#999999",
        linestyle=":",
        linewidth=1,
        label=f"target recall {summary.settings.recall:.0%}",
    )
    stops = [run.stop("statistical") for run in summary.runs]
    ax.scatter(
        [s.screened for s in stops],
        [s.recall for s in stops],
        marker="v",
        s=46,
        color="#c44e52",
        zorder=3,
        label="statistical stop (each seed)",
    )
    heuristic = [run.stop("run-length") for run in summary.runs]
    ax.scatter(
        [s.screened for s in heuristic],
        [s.recall for s in heuristic],
        marker="o",
        s=26,
        facecolors="none",
        edgecolors="#dd8452",
        zorder=3,
        label=f"{summary.settings.run_length} irrelevant in a row (each seed)",
    )
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("records screened")
    ax.set_ylabel("recall (share of relevant records found)")
    ax.set_title(
        f"{summary.name}: {n:,} records, {summary.n_relevant:,} relevant, "
        f"{len(summary.runs)} seeds",
        fontsize=10,
    )
    ax.grid(True, color="#eeeeee")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
