"""Appraisal tools: the built-in templates, the default per design, custom tools."""

from __future__ import annotations

from typing import Any

import pytest

from extraction.appraisal_tools import (
    BUILT_IN_TOOLS,
    JBI_CASE_REPORT,
    JBI_CASE_SERIES,
    MURAD_2018,
    Tool,
    built_in_tool,
    custom_tool,
    tool_for_design,
)
from extraction.errors import AppraisalError


def _custom_mapping(**changes: Any) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "name": "local-tool",
        "title": "Our local checklist",
        "citation": "Protocol v2, appendix B",
        "items": [
            {"id": "a1", "domain": "selection", "question": "Were all eligible patients included?"},
            {"id": "a2", "domain": "outcome", "question": "Was response defined before treatment?"},
        ],
    }
    mapping.update(changes)
    return mapping


# --- the built-in tools -------------------------------------------------------------------


def test_murad_has_eight_questions_in_four_domains_as_table_1() -> None:
    assert MURAD_2018.item_ids == tuple(f"q{i}" for i in range(1, 9))
    assert MURAD_2018.domains == ("selection", "ascertainment", "causality", "reporting")
    per_domain = {d: len(MURAD_2018.domain_items(d)) for d in MURAD_2018.domains}
    assert per_domain == {"selection": 1, "ascertainment": 2, "causality": 4, "reporting": 1}
    assert MURAD_2018.item("q5").question == "Was there a challenge/rechallenge phenomenon?"
    assert MURAD_2018.item("q6").question == "Was there a dose-response effect?"
    assert "BMJ Evid Based Med 2018;23(2):60-63" in MURAD_2018.citation


def test_murad_allows_not_applicable_only_for_the_adverse_drug_event_questions() -> None:
    with_na = [i.id for i in MURAD_2018.items if "not applicable" in i.answers]
    assert with_na == ["q4", "q5", "q6"]
    assert all(i.answers[:3] == ("yes", "no", "unclear") for i in MURAD_2018.items)
    assert "adverse drug events" in (MURAD_2018.item("q5").note or "")


def test_jbi_checklists_have_8_and_10_items_with_four_answers() -> None:
    assert len(JBI_CASE_REPORT.items) == 8
    assert len(JBI_CASE_SERIES.items) == 10
    for tool in (JBI_CASE_REPORT, JBI_CASE_SERIES):
        assert tool.answers == ("yes", "no", "unclear", "not applicable")
        assert tool.domains == ("checklist",)
    assert JBI_CASE_REPORT.item("q8").question == "Does the case report provide takeaway lessons?"
    assert "consecutive inclusion" in JBI_CASE_SERIES.item("q4").question
    assert "Chapter 7: Systematic reviews of etiology and risk" in JBI_CASE_REPORT.citation
    assert "JBI Evid Synth 2020;18(10):2127-2133" in JBI_CASE_SERIES.citation


def test_every_built_in_tool_cites_its_source_and_says_where_its_wording_comes_from() -> None:
    assert set(BUILT_IN_TOOLS) == {"murad-2018", "jbi-case-report", "jbi-case-series"}
    for tool in BUILT_IN_TOOLS.values():
        assert "doi:10." in tool.citation and tool.wording
        assert tool.as_dict()["items"][0]["id"] == "q1"


def test_an_unknown_built_in_tool_is_named_with_the_choices() -> None:
    with pytest.raises(AppraisalError) as err:
        built_in_tool("rob2")
    assert str(err.value) == (
        "no built-in appraisal tool 'rob2'; use one of murad-2018, jbi-case-report, jbi-case-series"
    )


@pytest.mark.parametrize(
    ("design", "tool"),
    [
        ("case report", "jbi-case-report"),
        ("Case Reports", "jbi-case-report"),
        ("case-series", "jbi-case-series"),
        ("  case_series ", "jbi-case-series"),
    ],
)
def test_the_default_tool_follows_the_study_design(design: str, tool: str) -> None:
    assert tool_for_design(design).name == tool


def test_a_protocol_can_choose_murad_or_its_own_tool_per_design() -> None:
    choices = {"case report": "murad-2018", "case series": "local-tool"}
    local = custom_tool(_custom_mapping())
    assert tool_for_design("Case report", choices).name == "murad-2018"
    assert tool_for_design("case series", choices, custom=[local]) is local


def test_a_design_without_a_tool_is_refused() -> None:
    with pytest.raises(AppraisalError) as err:
        tool_for_design("cohort")
    assert str(err.value) == (
        "no appraisal tool for study design 'cohort'; known designs: case report, case series; "
        "choose a tool for it in the protocol"
    )


# --- custom tools -------------------------------------------------------------------------


def test_a_custom_tool_is_built_from_the_protocol() -> None:
    tool = custom_tool(
        _custom_mapping(answers=["yes", "no", "unclear", "not applicable"])
        | {"items": [{"id": "a1", "domain": "d", "question": "Q?", "answers": ["no", "yes"]}]}
    )
    assert isinstance(tool, Tool)
    assert tool.item("a1").answers == ("yes", "no")
    assert tool.wording == "declared in the protocol"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": None}, "appraisal tool: name: expected non-empty text, not None"),
        (
            {"citation": "  "},
            "appraisal tool 'local-tool': citation: expected non-empty text, not '  '",
        ),
        (
            {"cite": "x"},
            "appraisal tool: unknown key 'cite'; use answers, citation, items, name, title",
        ),
        ({"items": []}, "appraisal tool 'local-tool': items: expected a non-empty list of items"),
        (
            {"name": "murad-2018"},
            (
                "appraisal tool 'murad-2018': name: 'murad-2018' is a built-in tool; "
                "choose another name"
            ),
        ),
        (
            {"answers": ["yes", "maybe"]},
            (
                "appraisal tool 'local-tool': answers: 'maybe' is not an answer; use yes, no, "
                "unclear or not applicable"
            ),
        ),
        (
            {"answers": ["yes", "unclear"]},
            "appraisal tool 'local-tool': answers: the answers must include yes and no",
        ),
        (
            {"items": [{"id": "a1", "domain": "d"}]},
            "appraisal tool 'local-tool': items[0]: question is missing",
        ),
        (
            {"items": ["a1"]},
            (
                "appraisal tool 'local-tool': items[0]: expected a mapping with id, domain and "
                "question"
            ),
        ),
        (
            {"items": [{"id": "a1", "domain": "d", "question": "Q?", "weight": 2}]},
            (
                "appraisal tool 'local-tool': items[0]: unknown key 'weight'; use answers, domain, "
                "id, note, question"
            ),
        ),
        (
            {
                "items": [
                    {"id": "a1", "domain": "d", "question": "Q?"},
                    {"id": "a1", "domain": "d", "question": "R?"},
                ]
            },
            "appraisal tool 'local-tool': items[1].id: 'a1' is already the id of items[0]",
        ),
        (
            {"items": [{"id": "a1", "domain": "d", "question": "Q?", "answers": "yes"}]},
            "appraisal tool 'local-tool': items[0].answers: expected a list of answers, not 'yes'",
        ),
    ],
)
def test_a_bad_custom_tool_is_refused_naming_the_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AppraisalError) as err:
        custom_tool(_custom_mapping(**changes))
    assert str(err.value) == message


def test_a_custom_tool_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(AppraisalError) as err:
        custom_tool(["q1"])  # type: ignore[arg-type]
    assert str(err.value) == "appraisal tool: expected a mapping with name, citation and items"
