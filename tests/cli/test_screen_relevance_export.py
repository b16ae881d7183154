"""``casepool screen export --order relevance`` and ``casepool screen queue --order
relevance``: the records still to screen first, most relevant first, with their predicted
relevance; the sheet still reads back as any sheet does."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from relevance_papers import relevance_review
from typer.testing import CliRunner

from review.api import Review
from review.cli import app

runner = CliRunner()


def screen(review_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["screen", *args, "--review", str(review_dir)], env={"CASEPOOL_REVIEWER": "ana"}
    )


def _decided(review_dir: Path) -> tuple[list[int], list[int]]:
    relevant, other = relevance_review(review_dir)
    with Review.open(review_dir) as rv:
        rv.screening.decide(relevant[0], stage="ta", reviewer="ana", decision="include")
        rv.screening.decide(other[0], stage="ta", reviewer="ana", decision="exclude")
    return relevant, other


def test_a_csv_sheet_in_relevance_order_has_a_relevance_column(
    review_dir: Path, tmp_path: Path
) -> None:
    relevant, other = _decided(review_dir)
    sheet = tmp_path / "ana.csv"
    result = screen(review_dir, "export", "-s", "ta", "--order", "relevance", "-o", str(sheet))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(sheet.read_text("utf-8-sig"))))
    assert list(rows[0])[-1] == "relevance"
    order = [int(r["cluster"]) for r in rows]
    assert set(order[:5]) == set(relevant[1:])  # the case reports first
    assert order[-2:] == sorted([relevant[0], other[0]])  # the decided ones last
    scores = [float(r["relevance"]) for r in rows[:10]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert [r["relevance"] for r in rows[-2:]] == ["", ""]
    back = screen(review_dir, "import", str(sheet))
    assert back.exit_code == 0, back.output
    assert back.stdout.startswith(
        "Recorded 0 decisions from ana.csv (ana, title/abstract); 2 unchanged"
    )


def test_an_xlsx_sheet_in_relevance_order_and_the_fallback_note(
    review_dir: Path, tmp_path: Path
) -> None:
    relevance_review(review_dir)
    sheet = tmp_path / "ana.xlsx"
    result = screen(review_dir, "export", "-s", "ta", "--order", "relevance", "-o", str(sheet))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        "Note: relevance order needs at least one include and one exclude among the "
        "decisions the model may learn from (0 includes, 0 excludes so far); showing the "
        "default order"
    )
    rows = list(load_workbook(sheet)["screening"].iter_rows(values_only=True))
    assert rows[0][-1] == "relevance"
    assert all(r[-1] is None for r in rows[1:])


def test_the_queue_in_relevance_order_with_json(review_dir: Path) -> None:
    relevant, _ = _decided(review_dir)
    result = screen(review_dir, "queue", "-s", "ta", "--order", "relevance", "--json")
    data = json.loads(result.stdout)
    assert data["order"] == "relevance"
    assert {c["cluster"] for c in data["clusters"][:5]} == set(relevant[1:])
    assert all(0 <= c["relevance"] <= 1 for c in data["clusters"])
    text = screen(review_dir, "queue", "-s", "ta", "--order", "relevance")
    assert text.stdout.splitlines()[0] == "ana has 10 records to screen at ta, most relevant first."


def test_a_bad_order_is_a_usage_error(review_dir: Path) -> None:
    relevance_review(review_dir)
    result = screen(review_dir, "queue", "-s", "ta", "--order", "random")
    assert result.exit_code == 2
    assert (
        "Invalid value for '--order': 'random' is not an order; use default (cluster order) or "
        "relevance (most relevant first, once you have an include and an exclude)"
    ) in " ".join(result.stderr.replace("│", " ").split())
