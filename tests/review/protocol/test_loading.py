"""Protocol files: every bundled one loads; malformed ones give exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.errors import ProtocolError
from review.protocol.loading import dotted_path, key_lines, load_protocol, parse_protocol

ROOT = Path(__file__).resolve().parents[3]
PROTOCOLS = sorted((ROOT / "protocols").glob("*.toml"))
DATA_FILES = sorted(
    p for pattern in ("*.csv", "*.xml", "*.ris") for p in (ROOT / "protocols").glob(pattern)
)  # the record files are loaded by tests/review/run/test_run.py
BUNDLED = (ROOT / "protocols" / "rtx-ssc-calcinosis.toml").read_text(encoding="utf-8")


def replace_once(text: str, old: str, new: str, after: str = "") -> str:
    start = text.index(after) if after else 0
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :]


def problem(text: str) -> str:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, name="p.toml")
    return str(caught.value)


def test_there_is_a_bundled_protocol() -> None:
    assert [p.name for p in PROTOCOLS] == ["rtx-ssc-calcinosis.toml"]
    every_file = {p.name for p in (ROOT / "protocols").iterdir()}
    assert every_file == {p.name for p in PROTOCOLS + DATA_FILES}, "a file no test loads"


def test_bundled_counts_are_the_facts_of_the_worked_example() -> None:
    """FACTS.md: clinical response 4/8, 1/1, 0/1 (5 of 10); radiological 2/8, 1/1, 0/1 (3 of 10)."""
    from meta.tables import read_counts_table

    path = ROOT / "protocols" / "rtx-ssc-calcinosis.counts.csv"
    clinical = read_counts_table(path, events="clinical_response", total="total", study="study")
    assert clinical.studies == ("Narváez 2019", "Daoussis 2012", "Poormoghim 2016")
    assert (clinical.events, clinical.totals) == ((4, 1, 0), (8, 1, 1))
    radiological = read_counts_table(
        path, events="radiological_response", total="total", study="study"
    )
    assert sum(radiological.events) == 3 and sum(radiological.totals) == 10


@pytest.mark.parametrize("path", PROTOCOLS, ids=lambda p: p.name)
def test_every_bundled_protocol_loads(path: Path) -> None:
    protocol = load_protocol(path)
    assert protocol.outcomes
    assert protocol.extraction.forms.case.fields


def test_bundled_protocol_has_the_index_study_outcomes_and_plan() -> None:
    protocol = parse_protocol(BUNDLED)
    assert [o.name for o in protocol.outcomes] == [
        "clinical_response",
        "radiological_response",
        "adverse_events",
    ]
    assert protocol.analysis.primary.method == "GLMM"
    assert protocol.analysis.primary.measure == "PLO"
    assert protocol.search.pubmed is not None
    assert '"Scleroderma, Systemic"[Mesh]' in protocol.search.pubmed.query
    assert protocol.search.pubmed.email is None  # never invented: the user gives it
    assert protocol.review.registration is None
    codes = {r.code for r in protocol.exclusion_reasons}
    assert {"not-ssc", "no-calcinosis", "no-rtx", "duplicate-report", "not-human"} <= codes
    assert [r.code for r in protocol.reasons_for("title_abstract")].count(
        "full-text-unavailable"
    ) == 0


def test_clinical_response_rule_follows_the_published_definition() -> None:
    from extraction.rules import parse_rule

    rule = parse_rule(parse_protocol(BUNDLED).outcome("clinical_response").rule)
    responder = {
        "pain_vas_before": 80,
        "pain_vas_after": 30,
        "new_inflammation_or_ulceration": "no",
    }
    assert rule.evaluate(responder) is True
    assert rule.evaluate({**responder, "pain_vas_after": 41}) is False
    assert rule.evaluate({**responder, "pain_vas_after": 40}) is True
    assert rule.evaluate({**responder, "pain_vas_after": 41, "pain_improved_50": "yes"}) is False
    assert rule.evaluate({**responder, "new_inflammation_or_ulceration": "yes"}) is False
    assert rule.evaluate({**responder, "new_inflammation_or_ulceration": "unknown"}) is None
    reported = {"pain_improved_50": "yes", "new_inflammation_or_ulceration": "no"}
    assert rule.evaluate(reported) is True
    assert rule.evaluate({"new_inflammation_or_ulceration": "no"}) is None


def test_misspelt_field_type_names_the_key_path_and_line() -> None:
    text = replace_once(BUNDLED, 'type = "choice"', 'type = "numbr"', after='name = "ssc_subtype"')
    line = text[: text.index('type = "numbr"')].count("\n") + 1
    assert problem(text) == (
        f"p.toml, line {line}: extraction.forms.case.fields[3].type: 'numbr' is not one of "
        "'text', 'integer', 'number', 'date', 'choice', 'multichoice' or 'yes-no-unknown'"
    )


def test_toml_syntax_error_gives_line_and_column() -> None:
    text = BUNDLED.replace("blind = true", "blind = tru")
    line = text[: text.index("blind = tru")].count("\n") + 1
    assert problem(text) == f"p.toml: line {line}, column 9: TOML syntax error: Invalid value"


def test_unknown_key_is_named() -> None:
    text = BUNDLED.replace("[review.question]", "[review.question]\npopulaton = 'x'")
    line = text[: text.index("populaton")].count("\n") + 1
    assert (
        problem(text)
        == f"p.toml, line {line}: review.question.populaton: unknown key (check its spelling)"
    )


def test_rule_with_unknown_field_is_named() -> None:
    text = BUNDLED.replace("rule = \"adverse_event == 'yes'\"", "rule = \"adverse_evnt == 'yes'\"")
    line = text[: text.index("adverse_evnt")].count("\n") + 1
    assert problem(text) == (
        f"p.toml, line {line}: outcomes[2].rule: unknown case field(s): adverse_evnt"
    )


def test_rule_that_calls_a_function_is_refused() -> None:
    text = BUNDLED.replace(
        "rule = \"adverse_event == 'yes'\"", "rule = \"__import__('os').system('x')\""
    )
    assert problem(text).endswith(
        "outcomes[2].rule: \"__import__('os').system('x')\": "
        "only known(field) may be called in a rule"
    )


def test_all_problems_are_listed_at_once() -> None:
    message = problem("title = 1\n")
    first, *rest = message.splitlines()
    assert first == "p.toml: 8 problems:"
    assert "p.toml: review: required key is missing" in rest
    assert "p.toml, line 1: title: unknown key (check its spelling)" in rest


def test_repeated_field_name_is_reported_at_the_second_field_with_its_line() -> None:
    text = replace_once(BUNDLED, 'name = "sex"', 'name = "age"')
    line = text[: text.index('name = "age"', text.index('name = "age"') + 1)].count("\n") + 1
    assert problem(text) == (
        f"p.toml, line {line}: extraction.forms.case.fields[2].name: "
        "'age' is already the name of fields[1]"
    )


def test_when_with_unknown_field_is_reported_at_its_key_with_its_line() -> None:
    text = BUNDLED.replace("when = \"adverse_event == 'yes'\"", "when = \"adverse_evnt == 'yes'\"")
    line = text[: text.index('when = "adverse_evnt')].count("\n") + 1
    assert problem(text) == (
        f"p.toml, line {line}: extraction.forms.case.fields[21].when: "
        "refers to unknown field(s): adverse_evnt"
    )


def test_empty_protocol_says_what_a_protocol_needs() -> None:
    for text in ("", "# only a comment\n\n"):
        assert problem(text) == (
            "p.toml: the file has no TOML keys; a protocol needs [review], [search], "
            "[eligibility], [[exclusion_reasons]], [extraction], [[outcomes]] and [analysis]"
        )


def test_rule_that_ends_too_early_says_so_not_column_0() -> None:
    text = BUNDLED.replace("rule = \"adverse_event == 'yes'\"", 'rule = "adverse_event == "')
    line = text[: text.index('rule = "adverse_event == "')].count("\n") + 1
    assert problem(text) == (
        f"p.toml, line {line}: outcomes[2].rule: "
        "cannot parse 'adverse_event == ': invalid syntax at the end of the rule"
    )


@pytest.mark.parametrize(
    "old,new,path,message",
    [
        ("blind = true", 'blind = "maybe"', "screening.blind",
         "should be true or false (got 'maybe')"),
        ('stages = ["title_abstract", "full_text"]\nreviewers', 'stages = "full_text"\nreviewers',
         "screening.stages", "should be an array ([...]) (got 'full_text')"),
        ('label = "Sex"', "label = 5", "extraction.forms.case.fields[2].label",
         "should be a string in quotes (got 5)"),
        ("reviewers_per_record = 2", "reviewers_per_record = 2.5",
         "screening.reviewers_per_record", "should be a whole number (got 2.5)"),
        ("min = 0\nmax = 110", 'min = "zero"\nmax = 110', "extraction.forms.case.fields[1].min",
         "should be a number (got 'zero')"),
    ],
)  # fmt: skip
def test_wrong_value_types_are_named_in_toml_words(
    old: str, new: str, path: str, message: str
) -> None:
    text = replace_once(BUNDLED, old, new)
    line = text[: text.index(new.split("\n")[0])].count("\n") + 1
    assert problem(text) == f"p.toml, line {line}: {path}: {message}"


@pytest.mark.parametrize(
    "old,new,path,message",
    [
        ("blind = true", 'blind = "yes"', "screening.blind", "should be true or false (got 'yes')"),
        ("reviewers_per_record = 2", 'reviewers_per_record = "2"',
         "screening.reviewers_per_record", "should be a whole number (got '2')"),
        ("min = 0\nmax = 110", 'min = "0"\nmax = 110', "extraction.forms.case.fields[1].min",
         "should be a number (got '0')"),
        ('type = "text"\nrequired = true', 'type = "text"\nrequired = 1',
         "extraction.forms.study.fields[0].required", "should be true or false (got 1)"),
    ],
)  # fmt: skip
def test_quoted_numbers_and_booleans_are_not_silently_converted(
    old: str, new: str, path: str, message: str
) -> None:
    text = replace_once(BUNDLED, old, new)
    line = text[: text.index(new.split("\n")[-1] if "required" in new else new.split("\n")[0])]
    assert problem(text) == f"p.toml, line {line.count(chr(10)) + 1}: {path}: {message}"


def test_a_value_where_a_table_belongs_says_table() -> None:
    text = BUNDLED.replace("[review.question]", "[review.question_]").replace(
        "authors = []", "authors = []\nquestion = 'what works?'"
    )
    assert (
        "review.question: should be a table (a [section] or { key = value, ... }) "
        "(got 'what works?')" in problem(text)
    )


def test_choice_field_without_choices_is_refused() -> None:
    text = replace_once(BUNDLED, 'choices = ["female", "male", "unknown"]\n', "")
    assert "extraction.forms.case.fields[2]: a choice field needs at least two choices" in problem(
        text
    )


def test_min_greater_than_max_is_refused() -> None:
    text = replace_once(BUNDLED, "max = 110", "max = -1", after='name = "age"')
    assert "min (0) is greater than max (-1)" in problem(text)


def test_dates_must_be_pubmed_dates() -> None:
    text = BUNDLED.replace(
        "[search.pubmed]\n", '[search.pubmed]\nmindate = "2020-01"\nmaxdate = "2021"\n'
    )
    assert "search.pubmed.mindate: '2020-01' is not a PubMed date" in problem(text)


def test_missing_file_and_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"nope\.toml: no such protocol file$"):
        load_protocol(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes("title = 'Narv\xe1ez'\n".encode("latin-1"))
    with pytest.raises(
        ProtocolError,
        match=r"latin\.toml: line 1, column 14: not UTF-8 text; save the file as UTF-8$",
    ):
        load_protocol(latin)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BUNDLED.encode("utf-8"))
    assert load_protocol(path).outcomes[0].name == "clinical_response"


def test_dotted_path_and_key_lines() -> None:
    assert dotted_path(("a", "b", 3, "c")) == "a.b[3].c"
    lines = key_lines("[a]\nx = 1\n[[a.f]]\nname = 'p'\n[[a.f]]\nname = 'q'\n")
    assert lines["a.x"] == 2
    assert lines["a.f[0].name"] == 4
    assert lines["a.f[1].name"] == 6


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "leads = []",
            'leads = ["a,b"]',
            "screening.leads: lead name 'a,b' cannot be used: names may not hold commas, "
            "semicolons or control characters",
        ),
        (
            'advance = "after-resolution"',
            'advance = "always"',
            "screening.advance: 'always' is not one of 'after-resolution' or 'either-includes'",
        ),
        (
            'include = ["rituximab"',
            'include = [3, "rituximab"',
            "screening.highlight.include[0]: should be a string in quotes (got 3)",
        ),
        (
            'kind = "local"',
            'kind = "friend"',
            "search.other_sources[0].kind: 'friend' is not one of",
        ),
    ],
)
def test_the_screening_settings_are_checked_where_they_are_written(
    old: str, new: str, message: str
) -> None:
    text = BUNDLED.replace(old, new, 1)
    line = text[: text.index(new)].count("\n") + 1
    assert problem(text).startswith(f"p.toml, line {line}: {message}")


def test_the_bundled_screening_settings_are_read() -> None:
    protocol = parse_protocol(BUNDLED, name="p.toml")
    screening = protocol.screening
    assert (screening.blind, screening.leads, screening.advance) == (
        True,
        (),
        "after-resolution",
    )
    assert "calcif*" in screening.highlight.include
    assert "murine" in screening.highlight.exclude
    assert [s.kind for s in protocol.search.other_sources] == ["local", "citation-search"]
