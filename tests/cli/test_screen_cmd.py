"""``casepool screen``: decide, history, reset, conflicts, resolve, unblind, assign, status,
full texts and studies from the terminal; each refusal one line on stderr, a non-zero exit,
and the store as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from screening import ready_review
from stores import store_snapshot
from typer.testing import CliRunner

from review.cli import app

runner = CliRunner()


def screen(review_dir: Path, *args: str, reviewer: str | None = None):  # type: ignore[no-untyped-def]
    env = {"CASEPOOL_REVIEWER": reviewer} if reviewer else {"CASEPOOL_REVIEWER": ""}
    return runner.invoke(app, ["screen", *args, "--review", str(review_dir)], env=env)


@pytest.fixture
def ready(review_dir: Path) -> Path:
    ready_review(review_dir, 4)
    return review_dir


def test_a_decision_is_recorded_and_shown_in_the_history(ready: Path) -> None:
    result = screen(ready, "decide", "1", "--stage", "ta", "-d", "include", reviewer="ana")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Recorded ana's ta decision on cluster 1: include.\n"
    result = screen(
        ready,
        "decide",
        "1",
        "-s",
        "ta",
        "-d",
        "exclude",
        "--reason",
        "not-ssc",
        "--note",
        "SSc not confirmed",
        "--json",
        reviewer="ana",
    )
    event = json.loads(result.stdout)
    assert (event["decision"], event["reason"], event["note"]) == (
        "exclude",
        "not-ssc",
        "SSc not confirmed",
    )
    assert (event["via"], event["person"], event["cluster"]) == ("cli", "ana", 1)
    history = screen(ready, "history", "1", "--json", reviewer="ana")
    assert [e["decision"] for e in json.loads(history.stdout)["events"]] == ["include", "exclude"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["decide", "9", "-s", "ta", "-d", "include"],
            1,
            "Error: there is no cluster 9 in this review; 'casepool screen queue' and "
            "'casepool export' list the cluster ids",
        ),
        (
            ["decide", "1", "-s", "ta", "-d", "exclude", "--reason", "nope"],
            1,
            "Error: 'nope' is not an exclusion reason at title/abstract; the protocol's are: "
            "not-ssc, no-calcinosis, no-rtx, no-calcinosis-outcome, review-no-new-patients, "
            "duplicate-report, not-human, rtx-unknown",
        ),
        (
            ["decide", "1", "-s", "ft", "-d", "include"],
            1,
            "Error: cluster 1 has not gone on to full text: it goes once its title/abstract "
            "decision is agreed or resolved as include",
        ),
        (["reset", "3"], 1, "Error: ana has no decision on cluster 3 to reset"),
        (
            ["resolve", "1", "-s", "ta", "-d", "include", "--by", "lee"],
            1,
            "Error: title/abstract screening is blind: each reviewer sees only their own "
            "decisions, so there is nothing to resolve yet, until a lead unblinds it ('casepool "
            "screen unblind --stage ta --by LEAD')",
        ),
        (
            ["conflicts", "-s", "ta"],
            1,
            "Error: title/abstract screening is blind: each reviewer sees only their own "
            "decisions until a lead unblinds it ('casepool screen unblind --stage ta --by "
            "LEAD')",
        ),
    ],
)
def test_refusals_are_one_line_with_what_to_do_and_write_nothing(
    ready: Path, args: list[str], code: int, message: str
) -> None:
    before = store_snapshot(ready)
    result = screen(ready, *args, reviewer="ana")
    assert result.exit_code == code
    assert result.stderr == message + "\n"
    assert store_snapshot(ready) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["decide", "1", "-s", "xx", "-d", "include"],
            "Invalid value for '--stage' / '-s': 'xx' is not a screening stage; use ta "
            "(title/abstract) or ft (full text)",
        ),
        (
            ["decide", "1", "-s", "ta", "-d", "yes"],
            "Invalid value for '--decision': 'yes' is not a decision; use include, exclude or "
            "maybe",
        ),
        (
            ["decide", "1", "-s", "ta", "-d", "include"],
            "Invalid value for '--reviewer': say who is screening: --reviewer NAME (or set "
            "CASEPOOL_REVIEWER)",
        ),
        (
            ["assign", "-s", "ta", "--reviewers", "a,,b", "--per-record", "2"],
            "Invalid value for '--reviewers': 'a,,b' has an empty name; write --reviewers a,b,c",
        ),
    ],
)
def test_bad_options_are_usage_errors(ready: Path, args: list[str], message: str) -> None:
    before = store_snapshot(ready)
    result = screen(ready, *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert store_snapshot(ready) == before


def test_dual_review_conflict_to_resolution_end_to_end(ready: Path) -> None:
    for who, decision in (("ana", "include"), ("ben", "exclude")):
        assert screen(ready, "decide", "1", "-s", "ta", "-d", decision, reviewer=who).exit_code == 0
    assert screen(ready, "unblind", "-s", "ta", "--by", "lee").stdout == (
        "Unblinded ta: everyone's decisions there can now be seen.\n"
    )
    result = screen(ready, "conflicts", "-s", "ta")
    assert result.stdout.splitlines()[:2] == [
        "1 conflict at ta:",
        "       1  ana: include; ben: exclude",
    ]
    result = screen(
        ready,
        "resolve",
        "1",
        "-s",
        "ta",
        "-d",
        "include",
        "--by",
        "lee",
        "--why",
        "RTX given for calcinosis",
    )
    assert result.stdout == "Resolved cluster 1 at ta: include, by lee.\n"
    assert screen(ready, "conflicts", "-s", "ta").stdout == "No conflicts at ta.\n"
    assert screen(ready, "blind", "-s", "ta", "--by", "lee").stdout == (
        "Blinded ta again: each reviewer sees only their own decisions.\n"
    )
    assert screen(ready, "conflicts", "-s", "ta").exit_code == 1
    assert screen(ready, "unblind", "-s", "ta", "--by", "lee").exit_code == 0
    status = json.loads(screen(ready, "status", "--json").stdout)
    ta = next(s for s in status["stages"] if s["stage"] == "ta")
    assert ta["statuses"] == {"unscreened": 3, "resolved": 1}
    assert ta["outcomes"]["advanced"] == 1
    queue = json.loads(screen(ready, "queue", "-s", "ft", "--json", reviewer="ana").stdout)
    assert queue["clusters"] == [1]


def test_assign_prints_the_loads_and_a_second_run_assigns_nothing(ready: Path) -> None:
    args = ["assign", "-s", "ta", "--reviewers", "a,b,c", "--per-record", "2", "--seed", "5"]
    first = json.loads(screen(ready, *args, "--json").stdout)
    assert first["records"] == 4 and first["batch"] == 1
    assert sum(first["loads"].values()) == 8
    assert max(first["loads"].values()) - min(first["loads"].values()) <= 1
    again = screen(ready, *args)
    assert again.stdout == "Nothing to assign at ta: 4 records are assigned already.\n"
    assert json.loads(screen(ready, *args, "--json").stdout)["batch"] == 0


def test_status_keeps_others_decisions_blind(ready: Path) -> None:
    screen(ready, "decide", "1", "-s", "ta", "-d", "include", reviewer="ana")
    screen(ready, "decide", "2", "-s", "ta", "-d", "exclude", reviewer="ben")
    mine = json.loads(screen(ready, "status", "--json", reviewer="ana").stdout)
    ta = next(s for s in mine["stages"] if s["stage"] == "ta")
    assert ta["reviewers"] == {
        "ana": {"assigned": 0, "done": 1, "include": 1},
        "ben": {"assigned": 0, "done": 1},
    }
    assert ta["statuses"] is None
