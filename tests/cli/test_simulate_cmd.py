"""``casepool screen simulate`` on a small labelled CSV and RIS: figures, determinism, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from review.cli import app

runner = CliRunner()
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "screening" / "urinary_incontinence_40.csv"


def simulate(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["screen", "simulate", *args])


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = simulate("--data", str(FIXTURE), "--seeds", "2", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_reports_medians_random_order_stops_and_each_run() -> None:
    data = _json()
    assert data["data"] == FIXTURE.name
    assert (data["n_records"], data["n_relevant"]) == (40, 6)
    assert data["model"] == "tfidf-svm"
    assert data["seeds"] == [0, 1]
    assert data["priors"] == {"relevant": 1, "irrelevant": 1}
    assert set(data["median"]) == set(data["random_median"]) == {"wss95", "wss100", "rrf10", "atd"}
    assert set(data["stop_rules"]) == {"statistical", "run-length", "safe"}
    assert [len(run["priors"]) for run in data["runs"]] == [2, 2]
    assert data["median"]["wss95"] > data["random_median"]["wss95"]
    assert data["plot"] is None


def test_same_seeds_same_numbers_and_the_label_column_matters() -> None:
    assert _json() == _json()
    other = _json("--label-column", "label_abstract_screening")
    assert other["n_relevant"] == 14
    assert other["runs"] != _json()["runs"]


def test_the_asreview_model_and_the_prior_counts_are_passed_through() -> None:
    data = _json("--model", "tfidf-logreg", "--prior-included", "2", "--prior-excluded", "3")
    assert data["model"] == "tfidf-logreg"
    assert [len(run["priors"]) for run in data["runs"]] == [5, 5]


def test_text_output_names_the_data_the_model_and_the_stopping_rules() -> None:
    result = simulate("--data", str(FIXTURE), "--seeds", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "urinary_incontinence_40.csv: 40 records, 6 relevant; model tfidf-svm; 2 seeds; "
        "priors 1 relevant + 1 irrelevant"
    )
    assert [line.split()[0] for line in lines[2:6]] == ["WSS@95", "WSS@100", "RRF@10", "ATD"]
    assert lines[6] == "Stopping, target recall 0.95 at confidence 0.95:"
    assert lines[7].lstrip().startswith("statistical (Callaghan & Müller-Hansen)")


def test_plot_is_written_as_a_png(tmp_path: Path) -> None:
    target = tmp_path / "curves.png"
    result = simulate("--data", str(FIXTURE), "--seeds", "2", "--plot", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(f"Recall curves drawn to {target}.")
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _ris(rows: list[dict[str, str]], label: str = "label_included") -> str:
    blocks = []
    for row in rows:
        note = "ASReview_relevant" if row[label] == "1" else "ASReview_irrelevant"
        blocks.append(
            f"TY  - JOUR\nTI  - {row['title']}\nAB  - {row['abstract']}\nN1  - {note}\nER  - \n"
        )
    return "\n".join(blocks)


def test_ris_with_asreview_labels_gives_the_figures_of_the_same_csv(tmp_path: Path) -> None:
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ris = tmp_path / "labelled.ris"
    ris.write_text(_ris(rows), encoding="utf-8")
    from_ris = json.loads(simulate("--data", str(ris), "--seeds", "2", "--json").stdout)
    from_csv = _json()
    assert from_ris["runs"] == from_csv["runs"]
    assert from_ris["median"] == from_csv["median"]


def test_ris_record_without_a_label_is_refused_with_its_line(tmp_path: Path) -> None:
    ris = tmp_path / "half.ris"
    ris.write_text(
        "TY  - JOUR\nTI  - One\nN1  - ASReview_relevant\nER  - \n\n"
        "TY  - JOUR\nTI  - Two\nN1  - ASReview_not_seen\nER  - \n",
        encoding="utf-8",
    )
    result = simulate("--data", str(ris))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {ris}, line 6: the record has no ASReview label; give it a note "
        "'N1  - ASReview_relevant' or 'N1  - ASReview_irrelevant'\n"
    )


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "title,abstract,included\nA,a,1\nB,b,0\n",
            "{path}, row 1: no label column 'label_included' (the header has 'title', "
            "'abstract', 'included'); name it with --label-column",
        ),
        (
            "title,label_included\nA,1\nB,yes\nC,0\n",
            "{path}, row 3, column 'label_included': the label is 'yes'; it must be 0 or 1",
        ),
        (
            "title,label_included\nA,1\nB,\nC,0\n",
            "{path}, row 3, column 'label_included': the label is empty; it must be 0 or 1",
        ),
        ("", "{path}: the file is empty; expected a header row and labelled rows"),
        ("title,label_included\n", "{path}: no records; expected labelled rows after the header"),
        (
            "title,label_included\nA,0\nB,0\n",
            "{path}: no relevant record among the 2; "
            "a simulation needs both relevant and irrelevant records",
        ),
        (
            "title,label_included\nA,1\nB,0\n",
            "the records have no words to tell them apart: every title and abstract is "
            "empty, or they all hold the same words",
        ),
        (
            "title,label_included\nrituximab,1\ncalcinosis,0\n",
            "every one of the 1 relevant records is a prior; there is nothing left to find "
            "(ask for fewer relevant priors)",
        ),
    ],
)
def test_bad_labelled_files_get_one_line_naming_the_place(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _csv(tmp_path, text)
    result = simulate("--data", str(path))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message.format(path=path)}\n"
    assert result.stdout == ""


def test_a_missing_file_and_a_folder_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    result = simulate("--data", str(missing))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {missing}: no such file; check the path and the file name\n",
    )
    result = simulate("--data", str(tmp_path))
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {tmp_path}: is a folder; give the path of a labelled CSV or RIS file\n",
    )


def test_too_many_priors_is_an_error_that_says_how_many_there_are() -> None:
    result = simulate("--data", str(FIXTURE), "--prior-included", "9")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 9 relevant priors asked for, but the data has 6 relevant records\n"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--model", "bert"], "'bert' is not one of tfidf-svm, elas-u4, tfidf-logreg"),
        (["--plot", "curves.gif"], "curves.gif: a plot is drawn as .png, .svg or .pdf"),
        (["--recall", "1"], "1.0 must be between 0 and 1 (exclusive)"),
        (["--seeds", "0"], "--seeds"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], fragment: str) -> None:
    result = simulate("--data", str(FIXTURE), *args)
    assert result.exit_code == 2
    assert fragment in " ".join(result.stderr.split())
