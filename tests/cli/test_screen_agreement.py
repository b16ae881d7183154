"""``casepool screen agreement``: refused while blind (exit 1, nothing written), the table
per reviewer pair and Fleiss' kappa once unblinded, --json, and the case of no records in
common."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from screening import ready_review
from stores import store_snapshot
from typer.testing import CliRunner, Result

from review.api import Review
from review.cli import app
from review.screening.agreement import cohen_kappa, gwet_ac1

runner = CliRunner()

ANN = ["include", "exclude", "exclude", "exclude", "maybe"]
BOB = ["include", "exclude", "include", "exclude", "exclude"]


def decide(review_dir: Path, votes: dict[str, list[str]], *, unblind: bool = True) -> list[int]:
    clusters = ready_review(review_dir, max(len(v) for v in votes.values()))
    with Review.open(review_dir) as review:
        for person, decisions in votes.items():
            for cluster, decision in zip(clusters, decisions, strict=False):
                review.screening.decide(
                    cluster,
                    stage="ta",
                    reviewer=person,
                    decision=decision,  # type: ignore[arg-type]
                )
        if unblind:
            review.screening.unblind("ta", by="lead")
    return clusters


def agreement(review_dir: Path, *extra: str) -> Result:
    return runner.invoke(
        app, ["screen", "agreement", "--stage", "ta", "--review", str(review_dir), *extra]
    )


def test_agreement_is_refused_while_blind_and_writes_nothing(review_dir: Path) -> None:
    decide(review_dir, {"ann": ANN, "bob": BOB}, unblind=False)
    before = store_snapshot(review_dir)
    result = agreement(review_dir, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: title/abstract screening is blind: each reviewer sees only their own "
        "decisions until a lead unblinds it ('casepool screen unblind --stage ta --by "
        "LEAD')\n"
    )
    assert store_snapshot(review_dir) == before


def test_agreement_json_gives_each_pair_with_kappa_ci_pabak_and_ac1(review_dir: Path) -> None:
    decide(review_dir, {"ann": ANN, "bob": BOB})
    result = agreement(review_dir, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    table = [[1, 0, 0], [1, 2, 0], [0, 1, 0]]  # rows: ann's decision, columns: bob's
    kappa = cohen_kappa(table)
    assert kappa.value is not None and kappa.se is not None
    assert kappa.ci_lower is not None and kappa.ci_upper is not None
    assert data == {
        "stage": "ta",
        "categories": ["include", "exclude", "maybe"],
        "reviewers": ["ann", "bob"],
        "confidence": 0.95,
        "pairs": [
            {
                "reviewers": ["ann", "bob"],
                "n": 5,
                "agreed": 3,
                "percent_agreement": 60.0,
                "kappa": {
                    "value": round(kappa.value, 6),
                    "se": round(kappa.se, 6),
                    "ci_lower": round(kappa.ci_lower, 6),
                    "ci_upper": round(kappa.ci_upper, 6),
                    "confidence": 0.95,
                    "expected_agreement": 0.44,
                    "why_undefined": None,
                    "why_no_interval": None,
                },
                "pabak": 0.4,  # (3 x 0.6 - 1) / 2, k = 3 decisions
                "ac1": round(gwet_ac1(table) or 0.0, 6),
                "categories": ["include", "exclude", "maybe"],
                "table": table,
            }
        ],
        "fleiss": None,
    }
    # po = .6, pe = .2*.4 + .6*.4 + .2*.2 = .44: kappa = .16/.56
    assert data["pairs"][0]["kappa"]["value"] == pytest.approx(0.16 / 0.56, abs=1e-6)


def test_agreement_table_shows_each_pair_and_fleiss_for_three(review_dir: Path) -> None:
    decide(review_dir, {"ann": ANN, "bob": BOB, "cat": ["include", "exclude", "include"]})
    result = agreement(review_dir)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Agreement at ta over include, exclude, maybe (k = 3 for PABAK and AC1):"
    assert lines[1].split() == [
        "reviewers",
        "n",
        "both",
        "agree",
        "kappa",
        "[95%",
        "CI]",
        "PABAK",
        "AC1",
    ]
    assert lines[2].split() == [
        "ann",
        "/",
        "bob",
        "5",
        "60.0%",
        "0.286",
        "[-0.368,",
        "0.940]",
        "0.400",
        "0.452",
    ]
    assert lines[3].split()[:5] == ["ann", "/", "cat", "3", "66.7%"]
    assert lines[4].split()[:5] == ["bob", "/", "cat", "3", "100.0%"]
    assert lines[5].startswith("Fleiss' kappa, 3 reviewers, 3 records screened by all: ")
    assert lines[-1] == (
        "kappa's 95% CI: the large-sample SE of Fleiss, Cohen and Everitt (1969), as "
        "psych::cohen.kappa reports it."
    )


def test_an_undefined_kappa_is_said_in_words(review_dir: Path) -> None:
    decide(review_dir, {"ann": ["exclude", "exclude"], "bob": ["exclude", "exclude"]})
    result = agreement(review_dir)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["ann", "/", "bob", "2", "100.0%", "undefined", "1.000", "1.000"]
    assert lines[3] == (
        "ann / bob: kappa undefined: both chose exclude for every record, so chance "
        "agreement is 1 and kappa is 0/0"
    )
    data = json.loads(agreement(review_dir, "--json").stdout)
    assert data["pairs"][0]["kappa"]["value"] is None


def test_no_records_in_common_is_said_plainly(review_dir: Path) -> None:
    clusters = ready_review(review_dir, 2)
    with Review.open(review_dir) as review:
        review.screening.decide(clusters[0], stage="ta", reviewer="ann", decision="include")
        review.screening.decide(clusters[1], stage="ta", reviewer="bob", decision="exclude")
        review.screening.unblind("ta", by="lead")
    result = agreement(review_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "No two reviewers have screened the same record at ta yet (decided so far: ann, "
        "bob); agreement needs records screened by both.\n"
    )
    data = json.loads(agreement(review_dir, "--json").stdout)
    assert [(p["reviewers"], p["n"], p["percent_agreement"]) for p in data["pairs"]] == [
        (["ann", "bob"], 0, None)
    ]


def test_agreement_needs_a_known_stage(review_dir: Path) -> None:
    result = agreement(review_dir, "--stage", "xx")
    assert result.exit_code == 2
    assert "'xx' is not a screening stage" in result.stderr
