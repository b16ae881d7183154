"""Outcomes derived from case rows with three-valued logic, and per-study counts from
patient rows or an aggregate row."""

from __future__ import annotations

from pathlib import Path

from extraction.derive import AggregateRow, OutcomeRule, patient_outcome, study_count
from review.protocol.loading import load_protocol

PROTOCOL = load_protocol(
    Path(__file__).resolve().parents[2] / "protocols" / "rtx-ssc-calcinosis.toml"
)


def rule(name: str) -> OutcomeRule:
    spec = PROTOCOL.outcome(name)
    return OutcomeRule(spec.name, spec.rule, spec.assessed)


def test_missing_values_leave_the_outcome_unknown_never_no() -> None:
    clinical = rule("clinical_response")
    assert patient_outcome(clinical, "1", {}).event is None
    assert patient_outcome(clinical, "1", {"pain_improved_50": "yes"}).event is None
    responder = {
        "pain_vas_before": 80,
        "pain_vas_after": 30,
        "new_inflammation_or_ulceration": "no",
    }
    assert patient_outcome(clinical, "1", responder).event is True
    worse = {**responder, "new_inflammation_or_ulceration": "yes"}
    assert patient_outcome(clinical, "1", worse).event is False


def test_a_report_without_ulceration_detail_falls_back_on_its_own_verdict() -> None:
    clinical = rule("clinical_response")
    verdict = {"new_inflammation_or_ulceration": "unknown", "clinical_response_as_reported": "yes"}
    assert patient_outcome(clinical, "1", verdict).event is True
    assert (
        patient_outcome(clinical, "1", {**verdict, "clinical_response_as_reported": "no"}).event
        is False
    )


def test_patients_not_assessed_are_left_out_of_n_and_unknown_ones_counted_apart() -> None:
    radiological = rule("radiological_response")
    cases = [
        (
            "1",
            {
                "radiological_assessed": "yes",
                "radiological_change": "complete resolution",
                "new_calcinosis_lesions": "no",
            },
        ),
        (
            "2",
            {
                "radiological_assessed": "yes",
                "radiological_change": "stable",
                "new_calcinosis_lesions": "no",
            },
        ),
        ("3", {"radiological_assessed": "no"}),
        ("4", {"radiological_assessed": "unknown"}),
        ("5", {"radiological_assessed": "yes", "radiological_change": "complete resolution"}),
    ]
    count = study_count("S", radiological, cases)
    assert count is not None
    assert (count.events, count.assessed, count.unknown, count.not_assessed) == (1, 2, 2, 1)
    assert count.source == "patients"


def test_an_aggregate_row_is_the_count_and_says_when_it_overrides_case_rows() -> None:
    clinical = rule("clinical_response")
    only = study_count("Narváez 2019", clinical, [], AggregateRow("clinical_response", 4, 8))
    assert only is not None and (only.events, only.assessed, only.source, only.note) == (
        4,
        8,
        "aggregate",
        None,
    )
    both = study_count("S", clinical, [("1", {})], AggregateRow("clinical_response", 4, 8))
    assert both is not None
    assert (
        both.note == "the aggregate row is used; the 1 case row describes only some of the patients"
    )
    assert study_count("S", clinical, []) is None
