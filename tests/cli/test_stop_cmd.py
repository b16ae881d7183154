"""``casepool screen stop-check`` from the terminal: what to screen next, whether the target
is met, the heuristics beside it, --json, and bad options as one line with exit 2."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from screening import ready_review
from stores import store_snapshot
from typer.testing import CliRunner

from review.api import Review
from review.cli import app

runner = CliRunner()


def screen(review_dir: Path, *args: str, reviewer: str | None = None):  # type: ignore[no-untyped-def]
    env = {"CASEPOOL_REVIEWER": reviewer or ""}
    return runner.invoke(app, ["screen", *args, "--review", str(review_dir)], env=env)


@pytest.fixture
def ready(review_dir: Path) -> tuple[Path, list[int]]:
    clusters = ready_review(review_dir, 30)
    with Review.open(review_dir) as rv:
        for c in clusters[:3]:
            rv.screening.decide(c, stage="ta", reviewer="ana", decision="include")
        for c in clusters[3:10]:
            rv.screening.decide(c, stage="ta", reviewer="ana", decision="exclude")
    return review_dir, clusters


def test_stop_check_says_what_to_screen_then_that_the_target_is_met(
    ready: tuple[Path, list[int]],
) -> None:
    review_dir, clusters = ready
    first = screen(review_dir, "stop-check", "--stage", "ta", "--recall", "0.5", reviewer="ana")
    assert first.exit_code == 0, first.output
    order = sorted(clusters[10:])
    random.Random(1).shuffle(order)
    ids = ", ".join(str(c) for c in order[:10])
    assert first.stdout.splitlines()[:5] == [
        "Stopping rule (Callaghan & Müller-Hansen 2020) at title/abstract for ana: recall "
        "target 50% at 95% confidence.",
        "Before the random sample: 10 of 30 records screened (3 relevant); random sample: 0 "
        "of the 20 left screened in order (0 relevant).",
        "Recall target not met yet: p = 1 (it must fall below 0.05).",
        f"Screen these 10 random records next, in this order (cluster ids): {ids}",
        "If none of them is relevant, 10 more random records will meet the target; each "
        "relevant one found raises the count.",
    ]
    assert first.stdout.splitlines()[5] == (
        "Random sample 1 (seed 1): 10 of the 20 records in its recorded order released "
        "(10 records drawn now)."
    )
    assert first.stdout.splitlines()[6] == "Heuristic, 50 irrelevant in a row: not reached (7)."
    assert first.stdout.splitlines()[7].startswith(
        "SAFE, the countable part: 10% of records screened: yes (33.3%); twice the estimated "
        "number of relevant records screened: not known (no initial random set was screened)"
    )
    with Review.open(review_dir) as rv:
        for c in order[:10]:
            rv.screening.decide(c, stage="ta", reviewer="ana", decision="exclude")
    done = screen(review_dir, "stop-check", "-s", "ta", "--recall", "0.5", "--json", reviewer="ana")
    data = json.loads(done.stdout)
    assert data["target_met"] is True
    assert data["p_value"] == pytest.approx(0.04334, abs=1e-5)
    assert data["sample"] == {"id": 1, "seed": 1, "released": 10, "urn": 20, "drawn_now": 0}
    assert (data["sample_screened"], data["k_target"], data["next"]) == (10, 4, [])
    text = screen(review_dir, "stop-check", "-s", "ta", "--recall", "0.5", reviewer="ana")
    assert "Recall target met at 95% confidence: p = 0.0433." in text.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--recall", "1.5"],
            "Invalid value for '--recall': 1.5 is not between 0 and 1 (exclusive); a recall "
            "target is a fraction such as 0.95",
        ),
        (
            ["--confidence", "high"],
            "Invalid value for '--confidence': 'high' is not a number; a confidence level is "
            "a fraction such as 0.95",
        ),
        (
            ["--sample", "0"],
            "Invalid value for '--sample': 0 is below 1; the sample is a number of records "
            "such as 100",
        ),
        (
            ["--stage", "xx"],
            "Invalid value for '--stage' / '-s': 'xx' is not a screening stage; use ta "
            "(title/abstract) or ft (full text)",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    ready: tuple[Path, list[int]], args: list[str], message: str
) -> None:
    review_dir, _ = ready
    before = store_snapshot(review_dir)
    given = ["stop-check", *(["--stage", "ta"] if "--stage" not in args else []), *args]
    result = screen(review_dir, *given, reviewer="ana")
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert store_snapshot(review_dir) == before


def test_the_review_as_a_whole_while_blind_is_one_error_line(ready: tuple[Path, list[int]]) -> None:
    review_dir, _ = ready
    result = screen(review_dir, "stop-check", "--stage", "ta")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: title/abstract screening is blind: each reviewer sees only their own "
        "decisions until a lead unblinds it ('casepool screen unblind --stage ta --by "
        "LEAD'); to see your own, give --reviewer NAME\n"
    )
