"""``casepool pool`` and ``casepool sensitivity`` on a counts table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meta.pooling import pool
from meta.subgroups import pool_subgroups
from meta.tables import read_counts_table
from review.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "meta" / "rtx_ssc_calcinosis.csv"
BASE = [
    "--input", str(EXAMPLE), "--events", "clinical_response", "--total", "patients",
    "--study", "study",
]  # fmt: skip
JSON_KEYS = [
    "k", "events", "total", "measure", "method", "test", "level", "study_ci", "estimate",
    "ci_lower", "ci_upper", "pi_lower", "pi_upper", "estimate_transformed", "se", "tau2",
    "tau2_ci_lower", "tau2_ci_upper", "i2", "q", "q_df", "q_pvalue", "q_lrt", "q_lrt_pvalue",
    "studies", "warnings",
]  # fmt: skip
STUDY_KEYS = ["study", "events", "total", "proportion", "ci_lower", "ci_upper", "weight"]


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["pool", *BASE, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_has_exactly_the_documented_keys_and_the_library_numbers() -> None:
    data = _json(["--method", "REML", "--test", "knha"])
    assert list(data) == JSON_KEYS
    assert [list(s) for s in data["studies"]] == [STUDY_KEYS] * 3
    counts = read_counts_table(EXAMPLE, events="clinical_response", total="patients", study="study")
    expected = pool(counts, method="REML", test="knha").to_dict()
    assert data == json.loads(json.dumps(expected))
    assert data["method"] == "REML" and data["test"] == "knha"
    assert sum(s["weight"] for s in data["studies"]) == pytest.approx(100.0)


def test_json_has_the_numbers_the_plot_shows() -> None:
    """q_df, the level, the tau² Q-profile interval and the pooled events/n (issue 9)."""
    data = _json(["--method", "REML", "--level", "0.9", "--study-ci", "WS"])
    counts = read_counts_table(EXAMPLE, events="clinical_response", total="patients", study="study")
    result = pool(counts, method="REML", level=0.9, study_ci="WS")
    assert (data["events"], data["total"]) == (5, 10)
    assert (data["level"], data["study_ci"], data["q_df"]) == (0.9, "WS", 2)
    assert data["tau2_ci_lower"] == result.tau2_ci_lower == 0.0
    assert data["tau2_ci_upper"] == pytest.approx(result.tau2_ci_upper)
    assert result.tau2_ci_upper is not None and result.tau2_ci_upper > 1


def test_default_is_glmm_with_clopper_pearson_and_no_weights() -> None:
    data = _json([])
    assert data["method"] == "GLMM"
    assert data["k"] == 3
    assert [s["weight"] for s in data["studies"]] == [None, None, None]
    # Clopper-Pearson for 1/1: [0.025, 1]
    assert data["studies"][1]["ci_lower"] == pytest.approx(0.025)
    assert any("median" in w for w in data["warnings"])
    wilson = _json(["--study-ci", "WS", "--method", "DL"])
    assert wilson["studies"][1]["ci_lower"] != pytest.approx(0.025)


def test_subgroups_add_each_group_and_the_q_between_test() -> None:
    data = _json(["--subgroup", "source", "--method", "REML"])
    assert list(data) == [*JSON_KEYS, "subgroups"]
    groups = data["subgroups"]["groups"]
    assert [g["subgroup"] for g in groups] == ["local series", "published"]
    assert [g["k"] for g in groups] == [1, 2]
    assert list(groups[0]) == ["subgroup", "failed", "error", *JSON_KEYS]
    assert data["subgroups"]["q_between_df"] == 1
    counts = read_counts_table(
        EXAMPLE, events="clinical_response", total="patients", study="study", subgroup="source"
    )
    assert data == json.loads(json.dumps(pool_subgroups(counts, method="REML").to_dict()))
    assert 0.0 <= data["subgroups"]["q_between_pvalue"] <= 1.0


def test_human_output_shows_each_subgroups_heterogeneity_as_the_plot_does() -> None:
    result = runner.invoke(app, ["pool", *BASE, "--subgroup", "source", "--method", "REML"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    overall = lines.index("Heterogeneity: τ² = 0 [0, 45]; I² = 0.0%; Q = 0.91, df = 2, p = 0.636")
    assert lines[overall + 1] == "Heterogeneity within local series: not estimable"
    assert lines[overall + 2].startswith("Heterogeneity within published: τ² = ")
    assert lines[overall + 3].startswith("Test for subgroup differences: Q = ")


def test_human_output_shows_studies_pooled_line_heterogeneity_and_warnings() -> None:
    result = runner.invoke(app, ["pool", *BASE, "--method", "DL"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Poormoghim 2016" in out and "0/1" in out and "0.0 [0.0, 97.5]" in out
    assert "Pooled" in out and "5/10" in out
    assert "Heterogeneity: τ² = 0 [0, 45]; I² = 0.0%; Q = 0.91, df = 2, p = 0.636" in out
    assert "Warning: continuity correction 0.5 added to both cells of 2 studies" in out


def test_glmm_reports_the_wald_q_and_the_likelihood_ratio_test() -> None:
    """As metafor's rma.glmm: QE.Wld is 0 for 4/8, 1/1, 0/1; QE.LRT = 2.77 on 2 df, p = 0.25."""
    result = runner.invoke(app, ["pool", *BASE])
    assert result.exit_code == 0, result.output
    assert (
        "Heterogeneity: τ² = 0; I² = 0.0%; Wald Q = 0.00, df = 2, p = 1.000; "
        "LRT = 2.77, df = 2, p = 0.250\n" in result.stdout
    )
    data = _json([])
    assert data["q"] == pytest.approx(0.0, abs=1e-6)
    assert data["q_lrt"] == pytest.approx(2.7725887, abs=1e-6)
    assert data["q_lrt_pvalue"] == pytest.approx(0.25, abs=1e-9)
    assert _json(["--method", "DL"])["q_lrt"] is None


def test_sensitivity_shows_both_heterogeneity_tests_for_glmm_rows() -> None:
    result = runner.invoke(app, ["sensitivity", *BASE, "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["rows"][0]
    assert first["method"] == "GLMM" and first["q_df"] == 2
    assert first["q_lrt_pvalue"] == pytest.approx(0.25, abs=1e-9)
    result = runner.invoke(app, ["sensitivity", *BASE])
    header = next(line for line in result.stdout.splitlines() if "Analysis" in line)
    assert header.split()[-4:] == ["(Q)", "p", "(LRT)", "Notes"]
    glmm = next(line for line in result.stdout.splitlines() if " GLMM " in line)
    assert "1.000    0.250" in glmm


def test_forest_file_is_written(tmp_path: Path) -> None:
    target = tmp_path / "forest.svg"
    result = runner.invoke(app, ["pool", *BASE, "--method", "DL", "--forest", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert f"Forest plot written to {target}" in result.stdout


def test_bad_data_is_exit_1_with_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "counts.csv"
    bad.write_text("study,events,total\nA,1,2\nB,5,3\n", encoding="utf-8")
    args = ["pool", "--input", str(bad), "--events", "events", "--total", "total"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {bad}, row 3: events (5, column 'events') exceed total (3, column 'total')\n"
    )
    result = runner.invoke(app, [*args[:-1], "n"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {bad}: no column 'n' (given as --total); the columns are: "
        "'study', 'events', 'total'\n"
    )


BAD_VALUES = [
    ("--method", "MAGIC", "'MAGIC' is not one of EE, DL, REML, PM, ML, HS, SJ, EB, HE, GLMM; "
     "a method is a tau² estimator (metafor's names) or GLMM"),
    ("--measure", "OR", "'OR' is not one of PR, PLN, PLO, PAS, PFT; a measure is the scale of "
     "a proportion, as metafor names it"),
    ("--test", "t", "'t' is not one of z, knha; z is the Wald test, knha "
     "Hartung-Knapp-Sidik-Jonkman"),
    ("--cc-mode", "sometimes", "'sometimes' is not one of only0, all, if0all, none; the mode "
     "says which studies get the continuity correction"),
    ("--level", "95", "95 is not between 0 and 1 (exclusive); a confidence level is a "
     "fraction such as 0.95"),
    ("--level", "1", "1 is not between 0 and 1 (exclusive); a confidence level is a fraction "
     "such as 0.95"),
    ("--level", "high", "'high' is not a number; a confidence level is a fraction such as 0.95"),
    ("--cc", "-1", "-1 is negative; a continuity correction is a number >= 0 such as 0.5"),
    ("--cc", "inf", "inf is not a finite number; a continuity correction is a number >= 0 "
     "such as 0.5"),
    ("--cc", "half", "'half' is not a number; a continuity correction is a number >= 0 such "
     "as 0.5"),
    ("--study-ci", "XX", "'XX' is not one of CP, WS, AC, SA; CP is Clopper-Pearson, WS "
     "Wilson, AC Agresti-Coull, SA Wald"),
    ("--forest", "forest.gif", "'forest.gif' has the unknown plot format '.gif'; end the file "
     "name with .png, .svg or .pdf"),
    ("--forest", "forest", "'forest' has no plot format; end the file name with .png, .svg or "
     ".pdf"),
]  # fmt: skip


@pytest.mark.parametrize("command", ["pool", "sensitivity"])
@pytest.mark.parametrize(
    "option,value,message", BAD_VALUES, ids=[f"{o}={v}" for o, v, _ in BAD_VALUES]
)
def test_every_bad_option_value_is_a_usage_error_naming_the_option(
    command: str, option: str, value: str, message: str
) -> None:
    result = runner.invoke(app, [command, *BASE, option, value])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"\nError: Invalid value for '{option}': {message}\n")
    assert "Value error" not in result.stderr and "Traceback" not in result.stderr


def test_choices_are_accepted_in_any_letter_case() -> None:
    data = _json(["--method", "reml", "--test", "KNHA", "--measure", "pft"])
    assert (data["method"], data["test"], data["measure"]) == ("REML", "knha", "PFT")


def test_sensitivity_json_lists_models_subsets_and_the_named_study() -> None:
    args = ["sensitivity", *BASE, "--without", "Narváez 2019 (local series)", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    labels = [r["label"] for r in rows]
    assert labels.count("All studies") == 9
    assert "Leave out Daoussis 2012" in labels
    assert "Without single-case reports (n = 1)" in labels
    assert labels[-1] == "Without Narváez 2019 (local series)"
    assert rows[-1]["k"] == 2


def test_sensitivity_unknown_study_lists_the_known_ones() -> None:
    result = runner.invoke(app, ["sensitivity", *BASE, "--without", "Smith 2020"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: cannot leave out 'Smith 2020': no such study; the studies are: "
        "'Narváez 2019 (local series)', 'Daoussis 2012', 'Poormoghim 2016'\n"
    )


def test_sensitivity_human_table_numbers_the_notes() -> None:
    result = runner.invoke(app, ["sensitivity", *BASE])
    assert result.exit_code == 0, result.output
    assert "PLO REML knha" in result.stdout
    assert "1. GLMM: the estimate is the median proportion" in result.stdout


def test_sensitivity_failed_rows_point_to_their_reason() -> None:
    args = ["sensitivity", *BASE, "--without", "Narváez 2019 (local series)"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    failed_lines = [line for line in result.stdout.splitlines() if " failed " in line]
    assert len(failed_lines) == 2
    number = failed_lines[0].split()[-1]
    assert f"{number}. failed: the GLMM cannot be fitted" in result.stdout


def test_sensitivity_primary_model_is_chosen_by_options() -> None:
    args = ["sensitivity", *BASE, "--method", "DL", "--test", "knha", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    loo = [r for r in rows if r["label"].startswith("Leave out")]
    assert {(r["method"], r["test"]) for r in loo} == {("DL", "knha")}
    assert not any(r["failed"] for r in loo)


def test_xlsx_input_with_subgroups_and_a_pdf_forest(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["study", "source", "responders", "n"])
    for row in (["A", "series", 4, 8], ["B", "series", 6, 10], ["C", "reports", 1, 1],
                ["D", "reports", 0, 1], ["E", "reports", 1, 2]):  # fmt: skip
        sheet.append(row)
    table = tmp_path / "counts.xlsx"
    book.save(table)
    plot = tmp_path / "forest.pdf"
    args = ["pool", "--input", str(table), "--events", "responders", "--total", "n",
            "--study", "study", "--subgroup", "source", "--method", "REML",
            "--forest", str(plot), "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["k"] == 5
    assert [g["subgroup"] for g in data["subgroups"]["groups"]] == ["series", "reports"]
    assert plot.read_bytes().startswith(b"%PDF")


def test_study_and_subgroup_labels_are_printed_as_text_not_rich_markup(tmp_path: Path) -> None:
    table = tmp_path / "counts.csv"
    table.write_text(
        'study,events,n,group\n"Smith [red]2019",1,5,[bold]g\n"Doe [/]",3,3,[bold]g\nLee,2,4,h\n',
        encoding="utf-8",
    )
    base = ["--input", str(table), "--events", "events", "--total", "n", "--study", "study"]
    result = runner.invoke(app, ["pool", *base, "--subgroup", "group", "--method", "REML"])
    assert result.exit_code == 0, result.output
    assert "Smith [red]2019" in result.stdout and "Doe [/]" in result.stdout
    assert "subtotal [bold]g" in result.stdout
    result = runner.invoke(app, ["sensitivity", *base, "--without", "Doe [/]"])
    assert result.exit_code == 0, result.output
    assert "Without Doe [/]" in result.stdout


def test_one_study_title_says_study_not_studies(tmp_path: Path) -> None:
    table = tmp_path / "counts.csv"
    table.write_text("study,events,n\nA,2,10\n", encoding="utf-8")
    args = ["pool", "--input", str(table), "--events", "events", "--total", "n"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].strip() == "1 study; GLMM, median proportion"


def test_sensitivity_help_names_the_without_value_a_study() -> None:
    result = runner.invoke(app, ["sensitivity", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "--without <study>" in result.output and "list[str]" not in result.output


def test_sensitivity_passes_the_continuity_correction_to_two_stage_rows() -> None:
    args = ["sensitivity", *BASE, "--cc", "0.25", "--cc-mode", "all", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    reml = next(r for r in rows if (r["method"], r["measure"], r["test"]) == ("REML", "PLO", "z"))
    assert (
        "continuity correction 0.25 added to both cells of 3 studies (cc_mode all)"
        in (reml["warnings"])
    )


def test_ee_gives_tau2_zero_as_metafor_in_json_and_terminal() -> None:
    data = _json(["--method", "EE"])
    assert data["tau2"] == 0.0
    assert data["pi_lower"] is None and data["pi_upper"] is None
    result = runner.invoke(app, ["pool", *BASE, "--method", "EE"])
    assert result.exit_code == 0, result.output
    assert (
        "Heterogeneity: τ² = 0 (fixed by the common-effect model); I² = 0.0%; Q = 0.91, df = 2, "
        "p = 0.636" in result.stdout
    )


def test_no_events_anywhere_points_at_the_summed_counts_not_at_reml(tmp_path: Path) -> None:
    table = tmp_path / "counts.csv"
    table.write_text("study,events,n\nA,0,4\nB,0,4\nC,0,4\n", encoding="utf-8")
    args = ["pool", "--input", str(table), "--events", "events", "--total", "n"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the GLMM cannot be fitted: no study has any event, so the logit-scale estimate "
        "is infinite; no model estimates a proportion from such data (a continuity correction "
        "would invent the events), so report the summed counts: 0/12 = 0.0% [0.0, 26.5], the "
        "exact Clopper-Pearson 95% interval (naive pooling, which ignores differences between "
        "studies)\n"
    )
    reml = runner.invoke(app, [*args, "--method", "REML", "--json"])
    assert reml.exit_code == 0, reml.output
    assert json.loads(reml.stdout)["warnings"][-1].startswith(
        "no study has any event: the pooled estimate and its interval come from the continuity "
        "correction, not from the data; report the summed counts instead: 0/12 = 0.0% [0.0, 26.5]"
    )


def test_a_subgroup_the_glmm_cannot_fit_is_shown_failed_and_the_rest_is_pooled(
    tmp_path: Path,
) -> None:
    """The published reports are 1/1 and 0/1: the GLMM has no finite fit for them alone."""
    plot = tmp_path / "forest.svg"
    args = ["pool", *BASE, "--subgroup", "source", "--forest", str(plot)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.split() == ["subtotal", "published", "1/2", "not", "pooled"] for line in lines)
    assert any(line.split()[:4] == ["subtotal", "local", "series", "4/8"] for line in lines)
    assert "Test for subgroup differences: not computed (only 1 subgroup could be pooled)" in lines
    assert "Warning: subgroup 'published' not pooled: the GLMM cannot be fitted: " in (
        result.stdout
    )
    assert "not pooled" in plot.read_text(encoding="utf-8")
    data = _json(["--subgroup", "source"])
    groups = data["subgroups"]["groups"]
    assert [(g["subgroup"], g["failed"]) for g in groups] == [
        ("local series", False),
        ("published", True),
    ]
    assert groups[1]["error"].startswith("the GLMM cannot be fitted: every study has either")
    assert data["subgroups"]["q_between"] is None


def _workbook_with_counts_on_sheet_2(tmp_path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "About"
    first.append(["clinical response, rituximab"])
    counts = book.create_sheet("Counts")
    counts.append(["study", "clinical_response", "patients"])
    for row in (["Narváez 2019", 4, 8], ["Daoussis 2012", 1, 1], ["Poormoghim 2016", 0, 1]):
        counts.append(row)
    path = tmp_path / "counts.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("command", ["pool", "sensitivity"])
def test_sheet_chooses_the_workbooks_sheet_by_name_or_number(tmp_path: Path, command: str) -> None:
    table = _workbook_with_counts_on_sheet_2(tmp_path)
    args = [command, "--input", str(table), "--events", "clinical_response", "--total",
            "patients", "--study", "study", "--json"]  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code == 1
    assert first.stderr == (
        f"Error: {table}, sheet 'About': no studies below the header row; add one row per study "
        "(the workbook has other sheets: 'Counts'; choose one with --sheet)\n"
    )
    by_name = runner.invoke(app, [*args, "--sheet", "Counts"])
    by_number = runner.invoke(app, [*args, "--sheet", "2"])
    assert by_name.exit_code == by_number.exit_code == 0, by_name.output
    assert by_name.stdout == by_number.stdout
    unknown = runner.invoke(app, [*args, "--sheet", "3"])
    assert unknown.exit_code == 1
    assert unknown.stderr == (
        f"Error: {table}: no sheet '3'; the sheets are (number and name): 1 'About', 2 'Counts'\n"
    )


@pytest.mark.parametrize("command", ["pool", "sensitivity"])
def test_sheet_of_a_text_table_is_a_usage_error(command: str) -> None:
    result = runner.invoke(app, [command, *BASE, "--sheet", "2"])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: Invalid value for '--sheet': '2' given, but {EXAMPLE} is a text table, which "
        "has no sheets; --sheet is for Excel workbooks (.xlsx, .xlsm)\n"
    )


@pytest.mark.parametrize("command", ["pool", "sensitivity"])
def test_a_folder_given_as_input_is_named_as_a_folder(tmp_path: Path, command: str) -> None:
    args = [command, "--input", str(tmp_path), "--events", "e", "--total", "n"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path}: is a folder; give the path of a counts table inside it\n"
    )


def test_sensitivity_forest_subgroups_and_study_intervals(tmp_path: Path) -> None:
    plot = tmp_path / "leave-one-out.svg"
    args = ["sensitivity", *BASE, "--subgroup", "source", "--method", "REML",
            "--study-ci", "WS", "--forest", str(plot)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"Forest plot written to {plot}" in result.stdout
    svg = plot.read_text(encoding="utf-8")
    assert "Leave out Daoussis 2012" in svg and "Without published (source)" in svg
    data = json.loads(runner.invoke(app, [*args[:-2], "--json"]).stdout)
    assert data["study_ci"] == "WS"
    assert data["primary"]["method"] == "REML" and data["primary"]["test"] == "z"
    assert [r["label"] for r in data["rows"]][-2:] == [
        "Without local series (source)",
        "Without published (source)",
    ]
    assert data["rows"][-1]["k"] == 1
