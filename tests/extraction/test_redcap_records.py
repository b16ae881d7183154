"""REDCap records exports (raw and labelled) read back into the forms' values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from extraction.errors import RedcapImportError
from extraction.forms import Forms
from extraction.redcap_records import RedcapRecords, read_records_export
from review.protocol.loading import load_protocol

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "redcap"
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


# ---------------------------------------------------------------- records exports

V = tuple[str, str | None]  # (text, missing code)
STUDY_1: dict[str, V] = {
    "study_label": ("Narváez 2019", None),
    "pmid": ("30639647", None),
    "doi": ("10.1016/j.autrev.2018.10.006", None),
    "design": ("case series", None),
    "source_type": ("local series", None),
    "centre": ("Barcelona, Spain", None),
    "n_patients": ("8", None),
    "patient_level_data": ("yes", None),
    "n_limited": ("6", None),
    "n_diffuse": ("2", None),
    "rtx_cycles_mean": ("", None),
    "rtx_cycles_sd": ("", None),
    "rtx_cycles_min": ("", None),
    "rtx_cycles_max": ("", None),
    "follow_up_median": ("24", None),
    "follow_up_q1": ("", None),
    "follow_up_q3": ("", None),
}
CASE_1_1: dict[str, V] = {
    "case_id": ("P1", None),
    "age": ("52", None),
    "sex": ("female", None),
    "ssc_subtype": ("limited cutaneous", None),
    "disease_duration": ("12.5", None),
    "calcinosis_sites": ("fingers; elbows", None),
    "prior_calcinosis_treatments": ("diltiazem; bisphosphonates", None),
    "rtx_indication": ("calcinosis", None),
    "rtx_regimen": ("1 g twice, two weeks apart", None),
    "rtx_cycles": ("3", None),
    "follow_up": ("24", None),
    "pain_vas_before": ("80", None),
    "pain_vas_after": ("20", None),
    "pain_improved_50": ("", None),
    "new_inflammation_or_ulceration": ("no", None),
    "radiological_assessed": ("yes", None),
    "radiological_change": ("reduction of 20% or more", None),
    "new_calcinosis_lesions": ("no", None),
    "clinical_response_as_reported": ("yes", None),
    "radiological_response_as_reported": ("yes", None),
    "adverse_event": ("yes", None),
    "adverse_event_description": ("Infusion reaction, grade 1", None),
}
CASE_1_2: dict[str, V] = CASE_1_1 | {
    "case_id": ("P2", None),
    "age": ("", "NI"),
    "sex": ("male", None),
    "ssc_subtype": ("diffuse cutaneous", None),
    "disease_duration": ("", None),
    "calcinosis_sites": ("", "NI"),
    "prior_calcinosis_treatments": ("none", None),
    "rtx_indication": ("interstitial lung disease", None),
    "rtx_regimen": ("375 mg/m2 weekly x4", None),
    "rtx_cycles": ("", None),
    "follow_up": ("6", None),
    "pain_vas_before": ("", None),
    "pain_vas_after": ("", None),
    "pain_improved_50": ("unknown", None),
    "new_inflammation_or_ulceration": ("unknown", None),
    "radiological_assessed": ("no", None),
    "radiological_change": ("", None),
    "new_calcinosis_lesions": ("", None),
    "clinical_response_as_reported": ("", None),
    "radiological_response_as_reported": ("", None),
    "adverse_event": ("no", None),
    "adverse_event_description": ("", None),
}
STUDY_2: dict[str, V] = {
    "study_label": ("Daoussis 2012", None),
    "pmid": ("22221908", None),
    "doi": ("10.1016/j.semarthrit.2011.11.007", None),
    "design": ("case report", None),
    "source_type": ("published", None),
    "centre": ("", "NI"),
    "n_patients": ("1", None),
    "patient_level_data": ("yes", None),
    **dict.fromkeys(
        [
            "n_limited",
            "n_diffuse",
            "rtx_cycles_mean",
            "rtx_cycles_sd",
            "rtx_cycles_min",
            "rtx_cycles_max",
            "follow_up_median",
            "follow_up_q1",
            "follow_up_q3",
        ],
        ("", None),
    ),
}
CASE_2_1: dict[str, V] = CASE_1_1 | {
    "case_id": ("1", None),
    "age": ("44", None),
    "disease_duration": ("7", None),
    "calcinosis_sites": ("hands; buttocks or hips; other", None),
    "prior_calcinosis_treatments": ("", None),
    "rtx_regimen": ("375 mg/m2 weekly x4", None),
    "rtx_cycles": ("2", None),
    "follow_up": ("18", None),
    "pain_vas_before": ("", None),
    "pain_vas_after": ("", None),
    "pain_improved_50": ("yes", None),
    "radiological_assessed": ("unknown", None),
    "radiological_change": ("", None),
    "new_calcinosis_lesions": ("", None),
    "clinical_response_as_reported": ("", None),
    "radiological_response_as_reported": ("", None),
    "adverse_event": ("unknown", None),
    "adverse_event_description": ("", None),
}
EXPECTED = {
    "1": (STUDY_1, {1: CASE_1_1, 2: CASE_1_2}),
    "2": (STUDY_2, {1: CASE_2_1}),
}


def plain(records: RedcapRecords) -> dict[str, Any]:
    return {
        r.record_id: (
            {n: (v.text, v.missing_code) for n, v in r.study.items()},
            {
                i: {n: (v.text, v.missing_code) for n, v in case.items()}
                for i, case in r.cases.items()
            },
        )
        for r in records.records
    }


@pytest.mark.parametrize(
    ("fixture", "labelled"), [("rtx_raw.csv", False), ("rtx_labels.csv", True)]
)
def test_a_records_export_reads_back_into_the_forms_values(fixture: str, labelled: bool) -> None:
    records = read_records_export(DATA / fixture, FORMS)
    assert records.labelled is labelled
    assert plain(records) == EXPECTED


def test_raw_and_labelled_exports_of_the_same_records_read_the_same() -> None:
    raw = read_records_export(DATA / "rtx_raw.csv", FORMS)
    labelled = read_records_export(DATA / "rtx_labels.csv", FORMS)
    assert plain(raw) == plain(labelled)


def test_a_labelled_export_with_field_name_headers_is_read_too() -> None:
    """The API's rawOrLabel=label with rawOrLabelHeaders=raw: names above, labels below."""
    raw_lines = (DATA / "rtx_raw.csv").read_text(encoding="utf-8").splitlines()
    label_lines = (DATA / "rtx_labels.csv").read_text(encoding="utf-8").splitlines()
    text = "\n".join([raw_lines[0], *label_lines[1:]]) + "\n"
    records = read_records_export(text, FORMS, name="api.csv")
    assert records.labelled is True
    assert plain(records) == EXPECTED


def test_not_reported_is_distinct_from_empty_and_multichoice_keeps_its_set() -> None:
    records = read_records_export(DATA / "rtx_raw.csv", FORMS)
    record = records.record("1")
    assert record is not None
    second = record.cases[2]
    assert second["age"].not_reported and second["age"].text == ""
    assert not second["disease_duration"].not_reported and second["disease_duration"].text == ""
    assert record.cases[1]["calcinosis_sites"].selected == ("fingers", "elbows")


def test_each_value_knows_its_place() -> None:
    records = read_records_export(DATA / "rtx_raw.csv", FORMS)
    record = records.record("1")
    assert record is not None
    assert str(record.cases[2]["age"].place) == f"{DATA / 'rtx_raw.csv'}, line 4, column 23 (age)"
    assert str(record.cases[1]["calcinosis_sites"].place).endswith(
        "line 3, column 27 (calcinosis_sites___1)"
    )
    assert str(record.place).endswith("line 2, column 1 (record_id)")


def test_a_bom_and_quoted_line_breaks_keep_the_line_numbers() -> None:
    text = (
        "\ufeffrecord_id,redcap_repeat_instrument,redcap_repeat_instance,title,case_id\n"
        '1,,,"A title\nover two lines",\n'
        "1,case,1,,c1\n"
    )
    records = read_records_export(text, small_forms(), name="x.csv")
    record = records.record("1")
    assert record is not None and record.study["title"].text == "A title\nover two lines"
    assert str(record.cases[1]["case_id"].place) == "x.csv, line 4, column 5 (case_id)"


# ---------------------------------------------------------------- refusals, each with its place

HEAD = (
    "record_id,redcap_repeat_instrument,redcap_repeat_instance,title,case_id,sex,"
    "sites___1,sites___2"
)


def sex_and_sites() -> Forms:
    return small_forms(
        sex={"label": "Sex", "type": "choice", "choices": ["female", "male"]},
        sites={"label": "Sites", "type": "multichoice", "choices": ["hands", "feet"]},
    )


def refusal(text: str, forms: Forms | None = None, **options: Any) -> str:
    with pytest.raises(RedcapImportError) as caught:
        read_records_export(text, forms or sex_and_sites(), name="e.csv", **options)
    return str(caught.value)


def test_an_unknown_column_is_refused() -> None:
    assert refusal(HEAD + ",weight\n1,,,T,,,,,\n") == (
        "e.csv, line 1, column 9 (weight): unknown column: not a field of the forms nor a "
        "REDCap column"
    )


def test_a_checkbox_column_for_a_code_not_in_the_dictionary_is_an_unknown_column() -> None:
    assert refusal(HEAD + ",sites___3\n1,,,T,,,,,\n") == (
        "e.csv, line 1, column 9 (sites___3): unknown column: not a field of the forms nor a "
        "REDCap column"
    )


def test_an_export_not_made_with_the_dictionary_is_refused_at_its_first_column() -> None:
    assert refusal("participant_id,title\n1,T\n") == (
        "e.csv, line 1, column 1 (participant_id): the first column must be the record id "
        "(record_id): is this an export of a project made with casepool's data dictionary?"
    )


def test_a_case_form_without_the_repeat_columns_is_refused() -> None:
    assert refusal("record_id,title,case_id\n1,T,c\n", small_forms()) == (
        "e.csv, line 1, column 1 (record_id): the case form repeats, but the export has no "
        "redcap_repeat_instrument and redcap_repeat_instance columns: set the case "
        "instrument as repeating in REDCap"
    )


def test_a_code_not_in_the_dictionary_is_refused() -> None:
    assert refusal(HEAD + "\n1,,,T,,,,\n1,case,1,,c1,3,1,0\n") == (
        "e.csv, line 3, column 6 (sex): '3' is not a code of sex (1 female, 2 male)"
    )


def test_a_labelled_value_that_is_not_a_choice_is_refused() -> None:
    text = HEAD + "\n1,,,T,,,,\n1,case,1,,c1,woman,Checked,Unchecked\n"
    assert refusal(text, values="labelled") == (
        "e.csv, line 3, column 6 (sex): 'woman' is not a choice of sex ('female', 'male')"
    )


def test_a_checkbox_cell_that_is_neither_ticked_nor_not_is_refused() -> None:
    assert refusal(HEAD + "\n1,,,T,,,,\n1,case,1,,c1,1,yes,0\n", values="raw") == (
        "e.csv, line 3, column 7 (sites___1): 'yes' is not a checkbox value (1, 0 or empty)"
    )


def test_a_repeat_instrument_that_is_not_the_case_form_is_refused() -> None:
    assert refusal(HEAD + "\n1,,,T,,,,\n1,medication,1,,c1,1,0,0\n") == (
        "e.csv, line 3, column 2 (redcap_repeat_instrument): 'medication' is not the "
        "repeating instrument: only the case form repeats"
    )


def test_a_missing_record_id_is_refused() -> None:
    assert (
        refusal(HEAD + "\n,,,T,,,,\n")
        == "e.csv, line 2, column 1 (record_id): the record id is empty"
    )


def test_a_duplicate_instance_is_refused() -> None:
    text = HEAD + "\n1,,,T,,,,\n1,case,1,,c1,1,0,0\n1,case,1,,c2,2,0,0\n"
    assert refusal(text) == (
        "e.csv, line 4, column 1 (record_id): record 1 has case instance 1 twice (the first "
        "is line 3)"
    )


def test_a_second_study_row_for_a_record_is_refused() -> None:
    assert refusal(HEAD + "\n1,,,T,,,,\n1,,,U,,,,\n") == (
        "e.csv, line 3, column 1 (record_id): record 1 has a second study row (the first is line 2)"
    )


def test_an_instance_number_that_is_not_one_is_refused() -> None:
    assert refusal(HEAD + "\n1,case,first,,c1,1,0,0\n") == (
        "e.csv, line 2, column 3 (redcap_repeat_instance): 'first' is not an instance "
        "number (1, 2, ...)"
    )


def test_a_case_value_on_a_study_row_is_refused() -> None:
    assert refusal(HEAD + "\n1,,,T,c1,,,\n") == (
        "e.csv, line 2, column 5 (case_id): a case field on a row without "
        "redcap_repeat_instrument case"
    )


def test_every_problem_is_reported_together() -> None:
    text = HEAD + ",weight\n,,,T,,,,,\n1,case,1,,c1,7,0,0,\n1,visit,1,,c1,1,0,0,\n"
    assert refusal(text).splitlines() == [
        "e.csv: 4 problems:",
        "e.csv, line 1, column 9 (weight): unknown column: not a field of the forms nor a "
        "REDCap column",
        "e.csv, line 2, column 1 (record_id): the record id is empty",
        "e.csv, line 3, column 6 (sex): '7' is not a code of sex (1 female, 2 male)",
        "e.csv, line 4, column 2 (redcap_repeat_instrument): 'visit' is not the repeating "
        "instrument: only the case form repeats",
    ]


def test_an_empty_file_and_a_file_that_is_not_utf8_are_refused(tmp_path: Path) -> None:
    assert refusal("") == "e.csv: the file is empty; export the records again"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("record_id,title\n1,Narv\xe1ez\n".encode("latin-1"))
    with pytest.raises(RedcapImportError) as caught:
        read_records_export(latin, sex_and_sites())
    assert str(caught.value) == (
        f"{latin}: not UTF-8 text (byte 23); export the CSV again from REDCap"
    )


def test_other_missing_data_codes_can_be_named() -> None:
    text = HEAD + "\n1,,,NASK,,,,\n1,case,1,,c1,NASK,0,0\n"
    records = read_records_export(
        text, sex_and_sites(), name="e.csv", missing_codes={"NASK": "Not asked"}
    )
    record = records.record("1")
    assert record is not None
    assert record.study["title"].missing_code == "NASK"
    assert record.cases[1]["sex"].missing_code == "NASK"


def test_a_column_given_twice_is_refused() -> None:
    assert refusal(HEAD + ",sex\n1,,,T,,,,,\n") == (
        "e.csv, line 1, column 9 (sex): a second sex column (the first is column 6)"
    )


def test_a_row_longer_than_the_header_is_refused() -> None:
    assert refusal(HEAD + "\n1,,,T,,,,,extra\n") == "e.csv, line 2: 9 cells, the header has 8"


def test_an_export_of_a_longitudinal_project_is_refused() -> None:
    text = "record_id,redcap_event_name,title\n1,baseline_arm_1,T\n"
    assert refusal(text) == (
        "e.csv, line 1, column 2 (redcap_event_name): an export of a longitudinal project "
        "(with events): casepool's data dictionary makes a classic project whose case form "
        "repeats"
    )


def test_label_headers_shared_by_two_fields_are_matched_in_order() -> None:
    forms = small_forms(
        before={"label": "VAS", "type": "number"},
        after={"label": "VAS", "type": "number"},
    )
    text = (
        "Record ID,Repeat Instrument,Repeat Instance,T,Complete?,Case,VAS,VAS,Complete?\n"
        "1,,,Title,Complete,,,,\n"
        "1,Case,1,,,c1,80,20,Incomplete\n"
    )
    record = read_records_export(text, forms, name="l.csv").record("1")
    assert record is not None
    case = record.cases[1]
    assert (case["before"].text, case["after"].text) == ("80", "20")
    assert str(case["after"].place) == "l.csv, line 3, column 8 (after)"


def test_checkbox_labels_and_missing_code_labels_are_read_in_a_labelled_export() -> None:
    """The API's exportCheckboxLabel: a ticked box holds its choice's label."""
    text = (
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,title,case_id,sex,"
        "sites___1,sites___2,sites___ni\n"
        "1,,,T,,,,,\n"
        "1,case,1,,c1,No information,hands,feet,\n"
        "1,case,2,,c2,Male,,,No information\n"
    )
    records = read_records_export(text, sex_and_sites(), name="e.csv", values="labelled")
    record = records.record("1")
    assert record is not None
    first, second = record.cases[1], record.cases[2]
    assert (first["sex"].text, first["sex"].missing_code) == ("", "NI")
    assert first["sites"].selected == ("hands", "feet")
    assert (second["sex"].text, second["sites"].missing_code) == ("male", "NI")


def test_nr_is_read_as_not_reported_like_ni() -> None:
    text = HEAD + ",sites___nr\n1,,,NR,,,,,\n1,case,1,,c1,NR,0,0,1\n"
    record = read_records_export(text, sex_and_sites(), name="e.csv").record("1")
    assert record is not None
    assert (record.study["title"].text, record.study["title"].missing_code) == ("", "NR")
    case = record.cases[1]
    assert (case["sex"].missing_code, case["sites"].missing_code) == ("NR", "NR")
    assert case["case_id"].missing_code is None
