"""``when`` conditions as REDCap branching logic: exact texts, refusals, and the same
decision as casepool's rule for every value (a property test against a small evaluator of
the REDCap logic this module writes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extraction.errors import RedcapError
from extraction.forms import Form, FormField
from extraction.redcap import choice_codes
from extraction.redcap_branching import branching_logic
from extraction.rules import parse_rule

FIELDS: list[dict[str, Any]] = [
    {"name": "imaged", "label": "Imaged", "type": "yes-no-unknown"},
    {"name": "ae", "label": "AE", "type": "yes-no-unknown"},
    {"name": "sex", "label": "Sex", "type": "choice", "choices": ["female", "male", "unknown"]},
    {"name": "sites", "label": "Sites", "type": "multichoice", "choices": ["hands", "feet"]},
    {"name": "age", "label": "Age", "type": "number"},
    {"name": "vas", "label": "VAS", "type": "integer"},
    {"name": "note", "label": "Note", "type": "text"},
]


def form_with(when: str) -> tuple[Form, FormField]:
    target = {"name": "target", "label": "Target", "type": "text", "when": when}
    form = Form.model_validate({"label": "Case", "fields": [*FIELDS, target]})
    found = form.field("target")
    assert found is not None
    return form, found


def codes(form_field: FormField) -> dict[str, str]:
    return {value: code for value, (code, _) in choice_codes(form_field).items()}


def logic(when: str) -> str:
    form, target = form_with(when)
    return branching_logic("case", target, form, codes, ("NI",))


def refused(when: str) -> str:
    with pytest.raises(RedcapError) as caught:
        logic(when)
    prefix = f"case.target: the condition {when!r} cannot be written as REDCap branching logic: "
    message = str(caught.value)
    assert message.startswith(prefix)
    return message.removeprefix(prefix)


IMAGED_KNOWN = "[imaged] <> '' and [imaged] <> 'NI' and [imaged] <> '9'"
"""Known: not blank, not the NI missing data code (not reported), not 9 (unknown)."""
AGE_KNOWN = "[age] <> '' and [age] <> 'NI'"
VAS_KNOWN = "[vas] <> '' and [vas] <> 'NI'"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("imaged == 'yes'", "[imaged] = '1'"),
        ('imaged == "no"', "[imaged] = '0'"),
        ("imaged", "[imaged] = '1'"),
        ("imaged != 'yes'", f"({IMAGED_KNOWN} and [imaged] <> '1')"),
        ("not imaged == 'yes'", f"({IMAGED_KNOWN} and [imaged] <> '1')"),
        ("imaged == 'yes' and ae == 'no'", "([imaged] = '1' and [ae] = '0')"),
        ("imaged == 'yes' or ae == 'yes'", "([imaged] = '1' or [ae] = '1')"),
        (
            "not (imaged == 'yes' or ae == 'yes')",
            f"(({IMAGED_KNOWN} and [imaged] <> '1') and "
            "([ae] <> '' and [ae] <> 'NI' and [ae] <> '9' and [ae] <> '1'))",
        ),
        ("sex in ['female', 'male']", "([sex] = '1' or [sex] = '2')"),
        (
            "sex not in ['female']",
            "([sex] <> '' and [sex] <> 'NI' and [sex] <> '3' and [sex] <> '1')",
        ),
        ("'hands' in sites", "[sites(1)] = '1'"),
        ("'feet' not in sites", "[sites(2)] = '0'"),
        ("age >= 18", f"({AGE_KNOWN} and [age] >= 18)"),
        ("18 <= age", f"({AGE_KNOWN} and [age] >= 18)"),
        ("age > -1.5", f"({AGE_KNOWN} and [age] > -1.5)"),
        ("0 < vas < 10", f"(({VAS_KNOWN} and [vas] > 0) and ({VAS_KNOWN} and [vas] < 10))"),
        ("vas <= age", f"({VAS_KNOWN} and {AGE_KNOWN} and [vas] <= [age])"),
        ("known(age)", f"({AGE_KNOWN})"),
        ("known(sex)", "([sex] <> '' and [sex] <> 'NI' and [sex] <> '3')"),
        ("not known(imaged)", "([imaged] = '' or [imaged] = 'NI' or [imaged] = '9')"),
        (
            "note != 'seen'",
            "([note] <> '' and [note] <> 'NI' and [note] <> 'unknown' and [note] <> 'seen')",
        ),
        ("note == 'seen'", "[note] = 'seen'"),
        ('note == "it\'s"', '[note] = "it\'s"'),
    ],
)
def test_a_when_is_written_as_this_branching_logic(when: str, expected: str) -> None:
    assert logic(when) == expected


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ("imaged == 'maybe'", "'maybe' is not a choice of imaged ('yes', 'no', 'unknown')"),
        (
            "imaged == 'unknown'",
            "imaged == 'unknown' is never true (rules read 'unknown' as missing): "
            "use not known(imaged)",
        ),
        (
            "sites == 'hands'",
            "sites is a multichoice field: test one choice with 'choice' in sites",
        ),
        ("'toes' in sites", "'toes' is not a choice of sites"),
        (
            "known(sites)",
            "known(sites): REDCap cannot tell an unanswered checkbox field from one with no "
            "box ticked",
        ),
        ("age * 2 > 10", "age * 2: only a field, a value or a list of values can be compared"),
        ("age > 'ten'", "age is a number, compared with 'ten'"),
        ("sex > 'female'", "sex is not a number and cannot be ordered"),
        ("sex == ae", "sex can only be compared with one of its values in quotes"),
        ("vas > note", "vas is compared with note, not a number"),
        ("note", "note is not a condition REDCap can test"),
        ("true", "true is not a condition REDCap can test"),
        ("1 < 2", "1 < 2 tests no field"),
        ("imaged if ae else sex", "imaged if ae else sex is not a condition REDCap can test"),
        ("note == 'it\\'s \"x\"'", "'it\\'s \"x\"' holds both kinds of quote"),
        (
            "vas in ['1', '2']",
            "vas is not a choice or text field: list values only for those",
        ),
    ],
)
def test_a_when_that_redcap_cannot_express_is_refused_saying_why(when: str, reason: str) -> None:
    assert refused(when) == reason


# ---------------------------------------------------------------- the same decision as the rule

_TOKEN = re.compile(
    r"\[(?P<box>[a-z0-9_]+)\((?P<code>[^)]+)\)\]|\[(?P<field>[a-z0-9_]+)\]"
    r"|'(?P<single>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<number>-?\d+(\.\d+)?)"
    r"|(?P<op><>|<=|>=|=|<|>)|(?P<word>and|or)|(?P<paren>[()])|(?P<space>\s+)"
)
_PYTHON_OP = {"=": "==", "<>": "!="}


class Cell:
    """A REDCap value in logic: compared as text with text, as a number with a number."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _other(self, other: Any) -> tuple[Any, Any]:
        if isinstance(other, Cell):
            return float(self.text), float(other.text)
        if isinstance(other, str):
            return self.text, other
        return float(self.text), other

    def __eq__(self, other: object) -> bool:
        a, b = self._other(other)
        return bool(a == b)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: Any) -> bool:
        a, b = self._other(other)
        return bool(a < b)

    def __le__(self, other: Any) -> bool:
        a, b = self._other(other)
        return bool(a <= b)

    def __gt__(self, other: Any) -> bool:
        a, b = self._other(other)
        return bool(a > b)

    def __ge__(self, other: Any) -> bool:
        a, b = self._other(other)
        return bool(a >= b)

    __hash__ = None  # type: ignore[assignment]


def redcap_true(text: str, record: dict[str, str]) -> bool:
    """Evaluate the subset of REDCap logic that branching_logic writes, on coded values."""
    python = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        assert match, f"cannot read {text[at:]!r}"
        at = match.end()
        kind = next(
            k
            for k in ("box", "field", "single", "double", "number", "op", "word", "paren", "space")
            if match[k] is not None
        )
        if kind == "box":
            python.append(repr(record.get(f"{match['box']}___{match['code']}", "0")))
        elif kind == "field":
            python.append(f"Cell({record.get(match['field'], '')!r})")
        elif kind in ("single", "double"):
            python.append(repr(match[kind]))
        elif kind in ("number", "word", "paren"):
            python.append(match[kind])
        elif kind == "op":
            python.append(_PYTHON_OP.get(match["op"], match["op"]))
    return bool(eval(" ".join(python), {"Cell": Cell}))  # our own generated text only


RULES = [
    "imaged == 'yes'",
    "imaged != 'yes'",
    "not imaged == 'no'",
    "imaged",
    "not imaged",
    "imaged == 'yes' and ae == 'no'",
    "imaged == 'yes' or not ae == 'no'",
    "not (imaged == 'yes' and ae != 'no')",
    "sex in ['female', 'male']",
    "sex not in ['female']",
    "sex == 'male' or 'hands' in sites",
    "'feet' not in sites and known(age)",
    "age >= 18",
    "not age < 18",
    "0 < vas <= 50",
    "vas <= age or not known(sex)",
    "not (known(vas) and vas > 3.5)",
    "note == 'seen' or note != 'x'",
]


@st.composite
def values(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str]]:
    """One row: casepool's values (what a rule reads) and REDCap's coded cells."""
    form, _ = form_with("imaged == 'yes'")
    rule_values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for form_field in form.fields[:-1]:
        name = form_field.name
        if form_field.type == "multichoice":
            chosen = draw(st.lists(st.sampled_from(form_field.choices), unique=True))
            rule_values[name] = chosen
            for value, code in codes(form_field).items():
                cells[f"{name}___{code}"] = "1" if value in chosen else "0"
        elif draw(st.integers(0, 5)) == 0:  # not reported: no value for the rule, NI in REDCap
            cells[name] = "NI"
        elif form_field.allowed_values:
            value = draw(st.sampled_from(["", *form_field.allowed_values]))
            rule_values[name] = value
            cells[name] = codes(form_field)[value] if value else ""
        elif form_field.type in ("integer", "number"):
            number = draw(st.none() | st.integers(-5, 60).map(float) | st.sampled_from([3.5, 18.0]))
            rule_values[name] = number
            cells[name] = "" if number is None else repr(number)
        else:
            text = draw(st.sampled_from(["", "seen", "x", "unknown"]))
            rule_values[name] = text
            cells[name] = text
    return rule_values, cells


@settings(max_examples=300, deadline=None)
@given(row=values(), when=st.sampled_from(RULES))
def test_redcap_shows_the_field_exactly_when_the_rule_is_true(
    row: tuple[dict[str, Any], dict[str, str]], when: str
) -> None:
    rule_values, cells = row
    decided = parse_rule(when).evaluate(rule_values)
    if isinstance(decided, str):  # a bare yes-no-unknown field: 'yes' reads as true
        decided = decided.strip().lower() in ("yes", "true")
    assert redcap_true(logic(when), cells) is (decided is True)
