"""Appraisal in a review, on SQLite and PostgreSQL: the tool by design, answers checked and
written all or nothing, a second import a no-op, dual appraisal's differences settled by
consensus, the summary table and its plots."""

from __future__ import annotations

from pathlib import Path

import pytest
from stores import store_snapshot
from typer.testing import CliRunner

from review.api import Review
from review.cli import app
from review.errors import ExtractError, ExtractImportError

runner = CliRunner()
STUDIES = Path(__file__).resolve().parents[3] / "protocols" / "rtx-ssc-calcinosis.studies.csv"
ANSWERS = (
    "study,tool,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,note\n"
    "Narváez 2019,,yes,yes,yes,unclear,yes,no,yes,yes,yes,yes,\n"
    "Daoussis 2012,,yes,yes,yes,yes,yes,yes,unclear,yes,-,-,\n"
    "Poormoghim 2016,jbi-case-report,yes,no,unclear,yes,yes,unclear,no,yes,-,-,\n"
)


@pytest.fixture
def studies(review_dir: Path) -> Path:
    with Review.open(review_dir) as rv:
        rv.extraction.import_file(STUDIES, extractor="ann", add_studies=True)
    return review_dir


def test_each_study_gets_the_tool_its_design_calls_for(studies: Path) -> None:
    with Review.open(studies) as rv:
        assert rv.appraisal.tool_for("Narváez 2019").name == "jbi-case-series"
        assert rv.appraisal.tool_for("Daoussis 2012").name == "jbi-case-report"
        assert [len(t.items) for t in rv.appraisal.tools().values()] == [8, 8, 10]


def test_answers_are_imported_all_or_nothing_and_a_second_import_is_a_no_op(
    studies: Path, tmp_path: Path
) -> None:
    path = tmp_path / "appraisal.csv"
    path.write_text(ANSWERS, encoding="utf-8")
    with Review.open(studies) as rv:
        first = rv.appraisal.import_file(path, appraiser="ann")
        assert (first.written, first.unchanged) == (26, 0)
        before = store_snapshot(studies)
        again = rv.appraisal.import_file(path, appraiser="ann")
        assert (again.written, again.unchanged) == (0, 26)
        assert store_snapshot(studies) == before
        tables, incomplete = rv.appraisal.summary()
    assert incomplete == []
    assert [(t.tool.name, [r.study for r in t.rows]) for t in tables] == [
        ("jbi-case-series", ["Narváez 2019"]),
        ("jbi-case-report", ["Daoussis 2012", "Poormoghim 2016"]),
    ]
    assert [r.score for r in tables[1].rows] == ["7/8", "4/8"]


def test_bad_answers_are_all_reported_with_their_place_and_nothing_is_written(
    studies: Path, tmp_path: Path
) -> None:
    path = tmp_path / "appraisal.csv"
    path.write_text(
        "study,tool,q1,q2,q11\nNarváez 2019,,maybe,yes,\nNobody,,yes,,\n"
        "Daoussis 2012,jbi-case-report,yes,,yes\nPoormoghim 2016,robins-i,yes,,\n",
        encoding="utf-8",
    )
    before = store_snapshot(studies)
    with Review.open(studies) as rv, pytest.raises(ExtractImportError) as caught:
        rv.appraisal.import_file(path, appraiser="ann")
    assert caught.value.problems == (
        "appraisal.csv, row 2, column q1: 'maybe' is not an answer to q1 of jbi-case-series; "
        "use yes, no, unclear, not applicable",
        "appraisal.csv, row 3: unknown study 'Nobody'",
        "appraisal.csv, row 4, column q11: jbi-case-report has no item 'q11' (its items are "
        "q1, q2, q3, q4, q5, q6, q7, q8)",
        "appraisal.csv, row 5: no appraisal tool 'robins-i'; use one of murad-2018, "
        "jbi-case-report, jbi-case-series",
    )
    assert store_snapshot(studies) == before


def test_dual_appraisal_stands_once_both_agree_or_a_consensus_is_recorded(
    studies: Path, tmp_path: Path
) -> None:
    path = studies / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("extractors = 1", "extractors = 2"))
    mine, theirs = tmp_path / "ann.csv", tmp_path / "bo.csv"
    # one extractor has entered the designs, so they do not stand yet: the tool is named
    named = ANSWERS.replace("Narváez 2019,,", "Narváez 2019,jbi-case-series,").replace(
        "Daoussis 2012,,", "Daoussis 2012,jbi-case-report,"
    )
    with Review.open(studies) as rv, pytest.raises(ExtractImportError) as caught:
        mine.write_text(ANSWERS, encoding="utf-8")
        rv.appraisal.import_file(mine, appraiser="ann")
    assert caught.value.problems[0] == (
        "ann.csv, row 2: 'Narváez 2019' has no design yet, so its appraisal tool is not "
        "known; enter its design, or name the tool (the tool column, or --tool)"
    )
    mine.write_text(named, encoding="utf-8")
    theirs.write_text(
        named.replace("yes,no,unclear,yes,yes,unclear,no,yes", "yes,no,yes,yes,yes,unclear,no,yes"),
        encoding="utf-8",
    )
    with Review.open(studies) as rv:
        a = rv.appraisal
        a.import_file(mine, appraiser="ann")
        assert a.summary() == ((), ["Narváez 2019", "Daoussis 2012", "Poormoghim 2016"])
        a.import_file(theirs, appraiser="bo")
        (difference,) = a.differences()
        assert (difference.study.label, difference.item, dict(difference.answers)) == (
            "Poormoghim 2016",
            "q3",
            {"ann": "unclear", "bo": "yes"},
        )
        tables, incomplete = a.summary()
        assert incomplete == ["Poormoghim 2016"]
        with pytest.raises(ExtractError) as caught:
            a.resolve(
                "Poormoghim 2016", tool="jbi-case-report", item="q3", answer="perhaps", by="lee"
            )
        assert str(caught.value) == (
            "'perhaps' is not an answer to q3 of jbi-case-report; use yes, no, unclear, not "
            "applicable"
        )
        a.resolve("Poormoghim 2016", tool="jbi-case-report", item="q3", answer="unclear", by="lee")
        assert a.differences() == []
        tables, incomplete = a.summary()
    assert incomplete == []
    assert [r.study for t in tables for r in t.rows] == [
        "Narváez 2019",
        "Daoussis 2012",
        "Poormoghim 2016",
    ]


def test_the_summary_command_draws_both_plots_and_names_what_is_unfinished(
    studies: Path, tmp_path: Path
) -> None:
    path = tmp_path / "appraisal.csv"
    path.write_text(
        ANSWERS.replace(
            "Poormoghim 2016,jbi-case-report,yes,", "Poormoghim 2016,jbi-case-report,,"
        ),
        encoding="utf-8",
    )
    args = ["--review", str(studies)]
    result = runner.invoke(app, ["appraise", "import", str(path), "-u", "ann", *args])
    assert (
        result.stdout
        == "Imported 3 studies from appraisal.csv: 25 answers recorded, 0 unchanged.\n"
    )
    light, bars = tmp_path / "light.svg", tmp_path / "bars.png"
    result = runner.invoke(
        app, ["appraise", "summary", "--traffic-light", str(light), "--bars", str(bars), *args]
    )
    assert result.exit_code == 0, result.output
    assert "Not finished: Poormoghim 2016." in result.stdout
    assert "Daoussis 2012" in light.with_name("light-jbi-case-report.svg").read_text()
    assert bars.with_name("bars-jbi-case-series.png").read_bytes().startswith(b"\x89PNG")
    result = runner.invoke(
        app, ["appraise", "import", str(path), *args], env={"CASEPOOL_APPRAISER": ""}
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--appraiser': say who is appraising: --appraiser NAME (or "
        "set CASEPOOL_APPRAISER)"
    )


def test_terminal_appraisal_saves_each_answer_as_it_is_given(studies: Path) -> None:
    answers = "yes\nmaybe\nno\n\nunclear\n"
    result = runner.invoke(
        app,
        ["appraise", "enter", "--study", "Daoussis 2012", "-u", "cy", "--review", str(studies)],
        input=answers,
    )
    assert result.exit_code == 130
    assert "'maybe' is not an answer to q2 of jbi-case-report" in result.stderr
    assert result.stderr.rstrip().endswith("Stopped: 3 answers saved (each as it was given).")
    with Review.open(studies) as rv:
        mine = {s.item: s.answers["cy"] for s in rv.appraisal.items() if "cy" in s.answers}
    assert mine == {"q1": "yes", "q2": "no", "q4": "unclear"}


def test_a_tool_declared_in_the_protocol_is_used_for_the_designs_it_is_given(
    studies: Path, tmp_path: Path
) -> None:
    path = studies / "protocol.toml"
    text = path.read_text(encoding="utf-8").replace(
        '"case report" = "jbi-case-report"', '"case report" = "local-check"'
    )
    text = text.replace(
        "[appraisal.designs]",
        '[[appraisal.tools]]\nname = "local-check"\ncitation = "Our own two questions (2026)"\n'
        'items = [{id = "a1", domain = "selection", question = "Consecutive patients?"},\n'
        '         {id = "a2", domain = "reporting", question = "Follow-up given?"}]\n\n'
        "[appraisal.designs]",
    )
    path.write_text(text, encoding="utf-8")
    answers = tmp_path / "answers.csv"
    answers.write_text("study,a1,a2\nDaoussis 2012,yes,unclear\n", encoding="utf-8")
    with Review.open(studies) as rv:
        assert rv.appraisal.tool_for("Daoussis 2012").name == "local-check"
        assert rv.appraisal.tool_for("Narváez 2019").name == "jbi-case-series"
        done = rv.appraisal.import_file(answers, appraiser="ann")
        tables, _ = rv.appraisal.summary()
    assert done.written == 2
    assert [(t.tool.name, t.rows[0].score) for t in tables] == [("local-check", "1/2")]


def test_a_plot_file_of_an_unknown_kind_is_a_usage_error_before_anything_is_read(
    studies: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "appraise",
            "summary",
            "--traffic-light",
            str(tmp_path / "x.txt"),
            "--review",
            str(studies),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--traffic-light': {tmp_path / 'x.txt'}: a plot is drawn "
        "as .png, .svg or .pdf"
    )
    assert not (tmp_path / "x.txt").exists()


def test_the_template_has_a_row_per_study_with_its_tool_and_refuses_a_missing_folder(
    studies: Path, tmp_path: Path
) -> None:
    out = tmp_path / "appraisal.csv"
    result = runner.invoke(
        app, ["appraise", "template", "--out", str(out), "--review", str(studies)]
    )
    assert result.stdout == f"Wrote {out} (3 studies; '-' marks items the tool lacks).\n"
    assert out.read_text(encoding="utf-8").splitlines() == [
        "study,tool,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,note",
        "Narváez 2019,jbi-case-series,,,,,,,,,,,",
        "Daoussis 2012,jbi-case-report,,,,,,,,,-,-,",
        "Poormoghim 2016,jbi-case-report,,,,,,,,,-,-,",
    ]
    with Review.open(studies) as rv:  # the template imports back as answering nothing
        assert rv.appraisal.import_file(out, appraiser="ann").written == 0
    missing = tmp_path / "no" / "appraisal.csv"
    result = runner.invoke(
        app, ["appraise", "template", "--out", str(missing), "--review", str(studies)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {missing}: the folder {missing.parent} does not exist; create it or choose "
        "another\n"
    )
