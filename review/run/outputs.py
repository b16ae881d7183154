"""The run's files: forest plots and the PRISMA diagram drawn so that the same review
draws the same bytes, ``results.json`` and the CSV tables (edges: they write files)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meta.results import PoolResult
    from meta.sensitivity import SensitivityTable
    from review.analysis import PlanResult
    from review.prisma.flow import PrismaFlow

SVG_SALT = "casepool-run"
"""Seed of matplotlib's SVG element ids: the same figure gets the same ids every run."""


@contextmanager
def _reproducible() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT, "svg.fonttype": "none"}):
        yield


def draw_forest_svg(
    result: PoolResult | SensitivityTable, path: Path, *, title: str | None = None
) -> Path:
    """A forest plot as ``meta.forest`` draws it, saved as SVG without a date and with
    fixed element ids."""
    import matplotlib.pyplot as plt

    from meta.forest import build_figure

    with _reproducible():
        figure = build_figure(result, title=title)
        try:
            figure.savefig(
                path,
                format="svg",
                bbox_inches="tight",
                pad_inches=0.15,
                metadata={"Date": None},
            )
        finally:
            plt.close(figure)
    return path


def draw_prisma_svg(flow: PrismaFlow, path: Path) -> Path:
    """The PRISMA 2020 diagram (``review.prisma.draw``, already without a date)."""
    from review.prisma.draw import draw_prisma

    with _reproducible():
        return draw_prisma(flow, path)


def write_json(data: Any, path: Path) -> Path:
    """Sorted keys, two-space indent, UTF-8, one newline at the end."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def write_csv(rows: Sequence[Mapping[str, Any]], columns: tuple[str, ...], path: Path) -> Path:
    """A CSV table (LF line ends; empty cells for missing values)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


POOLED_COLUMNS = (
    "outcome",
    "k",
    "events",
    "total",
    "measure",
    "method",
    "test",
    "estimate",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "i2",
    "q",
    "q_pvalue",
)
STUDY_COLUMNS = ("outcome", "study", "events", "total", "proportion", "ci_lower", "ci_upper")
SENSITIVITY_COLUMNS = (
    "outcome",
    "analysis",
    "method",
    "measure",
    "test",
    "k",
    "estimate",
    "ci_lower",
    "ci_upper",
    "tau2",
    "i2",
    "warnings",
)


def pooled_rows(plans: list[PlanResult]) -> list[dict[str, Any]]:
    """One row per outcome: its primary pooled estimate."""
    rows = []
    for plan in plans:
        p = plan.primary
        rows.append(
            {
                "outcome": plan.outcome,
                "k": p.k,
                "events": p.events,
                "total": p.total,
                "measure": p.measure,
                "method": p.method,
                "test": p.test,
                "estimate": p.estimate,
                "ci_lower": p.ci_lower,
                "ci_upper": p.ci_upper,
                "pi_lower": p.pi_lower,
                "pi_upper": p.pi_upper,
                "tau2": p.tau2,
                "i2": p.i2,
                "q": p.q,
                "q_pvalue": p.q_pvalue,
            }
        )
    return rows


def study_rows(plans: list[PlanResult]) -> list[dict[str, Any]]:
    """One row per outcome and study: its count and its own interval."""
    return [
        {
            "outcome": plan.outcome,
            "study": s.study,
            "events": s.events,
            "total": s.total,
            "proportion": s.proportion,
            "ci_lower": s.ci_lower,
            "ci_upper": s.ci_upper,
        }
        for plan in plans
        for s in plan.primary.studies
    ]


def sensitivity_rows(plans: list[PlanResult]) -> list[dict[str, Any]]:
    """One row per outcome and sensitivity analysis, in the plan's order."""
    rows = []
    for plan in plans:
        for r in plan.sensitivity.rows:
            rows.append(
                {
                    "outcome": plan.outcome,
                    "analysis": r.label,
                    "method": r.method,
                    "measure": r.measure,
                    "test": r.test,
                    "k": r.k,
                    "estimate": r.estimate,
                    "ci_lower": None if r.ci is None else r.ci[0],
                    "ci_upper": None if r.ci is None else r.ci[1],
                    "tau2": r.tau2,
                    "i2": r.i2,
                    "warnings": "; ".join(r.warnings),
                }
            )
    return rows
