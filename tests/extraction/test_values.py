"""Checking values as an extractor types them: each field type, not reported, units,
ranges, partial dates, choices, required fields and 'when' conditions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extraction.forms import Form, FormField
from extraction.values import Value, ValueProblem, check_row, parse_value, typed

AGE = FormField(name="age", label="Age", type="number", unit="years", min=0, max=110)
CYCLES = FormField(name="rtx_cycles", label="Cycles", type="integer", min=1, max=50)
WHEN = FormField(name="diagnosed", label="Diagnosed", type="date")
SEX = FormField(name="sex", label="Sex", type="choice", choices=("female", "male", "unknown"))
SITES = FormField(
    name="sites", label="Sites", type="multichoice", choices=("fingers", "hands", "elbows")
)
YNU = FormField(name="imaged", label="Imaged", type="yes-no-unknown", required=True)
CHANGE = FormField(
    name="change",
    label="Change",
    type="choice",
    choices=("stable", "smaller"),
    when="imaged == 'yes'",
)
FORM = Form(label="Case", fields=(AGE, CYCLES, WHEN, SEX, SITES, YNU, CHANGE))


@pytest.mark.parametrize(
    ("field", "raw", "text"),
    [
        (AGE, "54", "54"),
        (AGE, "54.5 years", "54.5"),
        (AGE, 54.0, "54"),
        (CYCLES, "3", "3"),
        (CYCLES, "3.0", "3"),
        (WHEN, "2019", "2019"),
        (WHEN, "2019-03", "2019-03"),
        (WHEN, "2019-03-14", "2019-03-14"),
        (SEX, "Female", "female"),
        (SITES, "hands; Fingers", "fingers; hands"),
        (SITES, "elbows|hands", "hands; elbows"),
        (YNU, "Y", "yes"),
    ],
)
def test_values_are_stored_in_one_canonical_spelling(
    field: FormField, raw: object, text: str
) -> None:
    assert parse_value(field, raw) == Value(field.name, "value", text)


@pytest.mark.parametrize("raw", ["NR", "nr", "not reported", " Not Reported "])
def test_not_reported_is_a_value_of_its_own(raw: str) -> None:
    assert parse_value(AGE, raw) == Value("age", "not_reported", None)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_an_empty_cell_is_not_entered(raw: object) -> None:
    assert parse_value(AGE, raw) is None


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        (AGE, "fifty", "age: 'fifty' is not a number"),
        (AGE, "54,5", "age: '54,5' is not a number (use a decimal point)"),
        (AGE, "54 months", "age: '54 months' has the unit 'months'; give it in years"),
        (AGE, "130", "age: 130 is above the maximum, 110 years"),
        (AGE, "-1", "age: -1 is below the minimum, 0 years"),
        (CYCLES, "2.5", "rtx_cycles: '2.5' is not a whole number"),
        (
            CYCLES,
            "3 cycles",
            "rtx_cycles: '3 cycles' has the unit 'cycles'; give it a number without a unit",
        ),
        (
            WHEN,
            "14/03/2019",
            "diagnosed: '14/03/2019' is not a date; write 2019, 2019-03 or 2019-03-14",
        ),
        (WHEN, "2019-02-30", "diagnosed: '2019-02-30' is not a date in the calendar"),
        (SEX, "f", "sex: 'f' is not one of 'female', 'male', 'unknown'"),
        (
            SITES,
            "hands; knees",
            "sites: 'knees' is not one of 'fingers', 'hands', 'elbows' (separate several with ';')",
        ),
        (YNU, "maybe", "imaged: 'maybe' is not yes, no or unknown"),
    ],
)
def test_a_value_the_field_does_not_take_is_refused_naming_field_and_value(
    field: FormField, raw: str, message: str
) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_value(field, raw)
    assert str(caught.value) == message


def test_a_row_reports_every_problem_not_only_the_first() -> None:
    values, problems = check_row(
        FORM, {"age": "130", "sex": "f", "imaged": "no", "change": "stable", "colour": "red"}
    )
    assert [(p.field, p.message) for p in problems] == [
        ("colour", "colour: the form 'Case' has no such field"),
        ("age", "age: 130 is above the maximum, 110 years"),
        ("sex", "sex: 'f' is not one of 'female', 'male', 'unknown'"),
        ("change", "change: a value is given, but the field applies only when imaged == 'yes'"),
    ]
    assert set(values) == {"imaged", "change"}


def test_required_fields_accept_not_reported_and_when_unknown_keeps_the_value() -> None:
    _, problems = check_row(FORM, {})
    assert [p.message for p in problems] == [
        "imaged: required (write NR if the report does not say)"
    ]
    values, problems = check_row(FORM, {"imaged": "unknown", "change": "smaller"})
    assert problems == [] and values["change"].text == "smaller"
    _, problems = check_row(FORM, {"imaged": "NR"})
    assert problems == []


def test_rules_see_numbers_as_numbers_and_missing_as_none() -> None:
    assert typed(AGE, Value("age", "value", "54.5")) == 54.5
    assert typed(CYCLES, Value("rtx_cycles", "value", "3")) == 3
    assert typed(SITES, Value("sites", "value", "fingers; hands")) == ("fingers", "hands")
    assert typed(AGE, Value("age", "not_reported", None)) is None
    assert typed(AGE, None) is None


@given(st.floats(min_value=0, max_value=110, allow_nan=False).map(lambda x: round(x, 3)))
def test_a_canonical_number_reads_back_as_itself(number: float) -> None:
    first = parse_value(AGE, str(number))
    assert first is not None and first.text is not None
    again = parse_value(AGE, first.text)
    assert again == first
    assert float(first.text) == pytest.approx(number)
