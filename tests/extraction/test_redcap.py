"""REDCap: the forms as a data dictionary (columns, types, choices, validation, branching)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from extraction.errors import RedcapError
from extraction.forms import Forms
from extraction.redcap import HEADER, data_dictionary, data_dictionary_csv, write_data_dictionary
from review.protocol.loading import load_protocol

ROOT = Path(__file__).resolve().parents[2]
FORMS = load_protocol(ROOT / "protocols" / "rtx-ssc-calcinosis.toml").extraction.forms


def small_forms(**case_fields: Any) -> Forms:
    """A study form with a title and a case form with the given extra fields."""
    case = [{"name": "case_id", "label": "Case", "type": "text"}]
    case += [{"name": n, **spec} for n, spec in case_fields.items()]
    return Forms.model_validate(
        {
            "study": {
                "label": "Study",
                "fields": [{"name": "title", "label": "T", "type": "text"}],
            },
            "case": {"label": "Case", "fields": case},
        }
    )


def rows_by_name(forms: Forms) -> dict[str, dict[str, str]]:
    return {row["Variable / Field Name"]: row for row in data_dictionary(forms)}


# ---------------------------------------------------------------- the data dictionary


def test_the_header_is_redcaps_eighteen_columns_in_order() -> None:
    assert HEADER == (
        "Variable / Field Name",
        "Form Name",
        "Section Header",
        "Field Type",
        "Field Label",
        "Choices, Calculations, OR Slider Labels",
        "Field Note",
        "Text Validation Type OR Show Slider Number",
        "Text Validation Min",
        "Text Validation Max",
        "Identifier?",
        "Branching Logic (Show field only if...)",
        "Required Field?",
        "Custom Alignment",
        "Question Number (surveys only)",
        "Matrix Group Name",
        "Matrix Ranking?",
        "Field Annotation",
    )
    first_line = data_dictionary_csv(FORMS).splitlines()[0]
    assert next(csv.reader([first_line])) == list(HEADER)


def test_the_record_id_comes_first_then_the_study_form_then_the_case_form() -> None:
    rows = data_dictionary(FORMS)
    assert [r["Variable / Field Name"] for r in rows] == [
        "record_id",
        *FORMS.study.names,
        *FORMS.case.names,
    ]
    assert rows[0] == dict.fromkeys(HEADER, "") | {
        "Variable / Field Name": "record_id",
        "Form Name": "study",
        "Field Type": "text",
        "Field Label": "Record ID",
    }
    assert {r["Form Name"] for r in rows[: len(FORMS.study.fields) + 1]} == {"study"}
    assert {r["Form Name"] for r in rows[len(FORMS.study.fields) + 1 :]} == {"case"}
    assert all(set(r) == set(HEADER) for r in rows)


def test_the_bundled_forms_field_types_choices_and_validation() -> None:
    rows = rows_by_name(FORMS)

    def shape(name: str) -> tuple[str, ...]:
        row = rows[name]
        return (
            row["Field Type"],
            row["Choices, Calculations, OR Slider Labels"],
            row["Text Validation Type OR Show Slider Number"],
            row["Text Validation Min"],
            row["Text Validation Max"],
            row["Field Note"],
            row["Required Field?"],
        )

    assert shape("study_label") == ("text", "", "", "", "", "", "y")
    assert shape("design") == (
        "radio",
        "1, case report | 2, case series | 3, cohort",
        *("", "", "", "", "y"),
    )
    assert shape("n_patients") == ("text", "", "integer", "1", "", "", "y")
    assert shape("patient_level_data") == (
        "radio",
        "1, Yes | 0, No | 9, Unknown",
        *("", "", "", "", "y"),
    )
    assert shape("age") == ("text", "", "number", "0", "110", "Unit: years", "")
    assert shape("rtx_cycles") == ("text", "", "integer", "1", "50", "", "")
    assert shape("rtx_regimen") == (
        "radio",
        "1, 1 g twice, two weeks apart | 2, 375 mg/m2 weekly x4 | 3, other | 4, unknown",
        *("", "", "", "", "y"),
    )
    assert shape("calcinosis_sites") == (
        "checkbox",
        "1, fingers | 2, hands | 3, forearms | 4, elbows | 5, knees | 6, legs | 7, feet | "
        "8, buttocks or hips | 9, trunk | 10, face | 11, other",
        *("", "", "", "", ""),
    )
    assert rows["pain_improved_50"]["Field Note"].startswith("Use only when the report gives")


def test_the_bundled_forms_branching_logic() -> None:
    logic = {
        name: row["Branching Logic (Show field only if...)"]
        for name, row in rows_by_name(FORMS).items()
        if row["Branching Logic (Show field only if...)"]
    }
    not_a_case_report = (
        "([design] <> '' and [design] <> 'NR' and [design] <> 'NI' and [design] <> '1')"
    )
    series_summaries = [f.name for f in FORMS.study.fields if f.when == "design != 'case report'"]
    assert len(series_summaries) == 9
    assert logic == {
        **dict.fromkeys(series_summaries, not_a_case_report),
        "radiological_change": "[radiological_assessed] = '1'",
        "new_calcinosis_lesions": "[radiological_assessed] = '1'",
        "radiological_response_as_reported": "[radiological_assessed] = '1'",
        "adverse_event_description": "[adverse_event] = '1'",
    }


def test_a_long_single_choice_is_a_dropdown_and_a_date_is_text_with_a_note() -> None:
    rows = rows_by_name(
        small_forms(
            colour={"label": "Colour", "type": "choice", "choices": list("abcdefg")},
            seen={"label": "First seen", "type": "date"},
            weight={"label": "Weight", "type": "number", "unit": "kg", "min": 0.5, "max": 250.0},
        )
    )
    assert rows["colour"]["Field Type"] == "dropdown"
    assert rows["seen"]["Field Type"] == "text"
    assert rows["seen"]["Text Validation Type OR Show Slider Number"] == ""
    assert rows["seen"]["Field Note"] == "YYYY, YYYY-MM or YYYY-MM-DD"
    assert (rows["weight"]["Text Validation Min"], rows["weight"]["Text Validation Max"]) == (
        "0.5",
        "250",
    )


def test_the_dictionary_file_is_utf8_csv_that_reads_back_as_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "dictionary.csv"
    path.write_text("old", encoding="utf-8")
    write_data_dictionary(FORMS, path)
    text = path.read_bytes().decode("utf-8")
    assert list(csv.DictReader(io.StringIO(text))) == data_dictionary(FORMS)
    assert [p.name for p in tmp_path.iterdir()] == ["dictionary.csv"]


def test_writing_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "dictionary.csv"
    with pytest.raises(RedcapError) as caught:
        write_data_dictionary(FORMS, path)
    assert str(caught.value) == (
        f"{path}: the folder {path.parent} does not exist; create it or choose another"
    )


def test_a_choice_holding_a_pipe_is_refused_naming_the_field() -> None:
    forms = small_forms(route={"label": "Route", "type": "choice", "choices": ["iv | sc", "oral"]})
    with pytest.raises(RedcapError) as caught:
        data_dictionary(forms)
    assert str(caught.value) == (
        "case.route: the choice 'iv | sc' holds '|', which REDCap reads as the end of a choice"
    )


def test_a_field_called_record_id_is_refused() -> None:
    forms = small_forms(record_id={"label": "Id", "type": "text"})
    with pytest.raises(RedcapError) as caught:
        data_dictionary(forms)
    assert str(caught.value) == (
        "case.record_id: REDCap's record identifier has this name; rename the field"
    )


def test_a_name_in_both_forms_is_refused() -> None:
    forms = small_forms(title={"label": "Title again", "type": "text"})
    with pytest.raises(RedcapError) as caught:
        data_dictionary(forms)
    assert str(caught.value) == (
        "case.title: the study form has a field of this name too, and a REDCap project "
        "needs one name per field"
    )


def test_a_when_that_cannot_be_branching_logic_is_refused_naming_the_field() -> None:
    forms = small_forms(
        vas={"label": "VAS", "type": "number"},
        note={"label": "Note", "type": "text", "when": "vas * 2 > 10"},
    )
    with pytest.raises(RedcapError) as caught:
        data_dictionary(forms)
    assert str(caught.value) == (
        "case.note: the condition 'vas * 2 > 10' cannot be written as REDCap branching "
        "logic: vas * 2: only a field, a value or a list of values can be compared"
    )
