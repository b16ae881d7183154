"""Appraisals, judgements, consensus and the summary table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extraction.appraisal import (
    BUILT_IN_TOOLS,
    JBI_CASE_REPORT,
    JBI_CASE_SERIES,
    MURAD_2018,
    Appraisal,
    AppraisalError,
    Tool,
    appraise,
    consensus,
    consensus_all,
    domain_concern,
    judge,
    summary_table,
    summary_tables,
)

ALL_YES = {f"q{i}": "yes" for i in range(1, 9)}


def _murad(study: str = "Smith 2019", appraiser: str = "ann", **answers: str) -> Appraisal:
    return appraise(MURAD_2018, study, appraiser, {**ALL_YES, **answers})


# --- appraisals ---------------------------------------------------------------------------


def test_an_appraisal_keeps_answers_in_the_tools_order() -> None:
    answers = dict(reversed(list({**ALL_YES, "q5": "not applicable"}.items())))
    appraisal = appraise(MURAD_2018, "Smith 2019", "ann", answers, note="drug reaction")
    assert [i for i, _ in appraisal.answers] == list(MURAD_2018.item_ids)
    assert appraisal.answer("q5") == "not applicable"
    assert appraisal.as_dict()["tool"] == "murad-2018"
    assert appraisal.as_dict()["note"] == "drug reaction"


@pytest.mark.parametrize(
    ("study", "appraiser", "answers", "message"),
    [
        (
            "Smith 2019",
            "ann",
            {**ALL_YES, "q9": "yes"},
            (
                "study 'Smith 2019': item 'q9' is not in murad-2018 (its items are q1, q2, q3, q4, "
                "q5, q6, q7, q8)"
            ),
        ),
        (
            "Smith 2019",
            "ann",
            {**ALL_YES, "q2": "maybe"},
            "study 'Smith 2019', item q2: 'maybe' is not an answer; use yes, no or unclear",
        ),
        (
            "Smith 2019",
            "ann",
            {**ALL_YES, "q1": "not applicable"},
            (
                "study 'Smith 2019', item q1: 'not applicable' is not an answer; use yes, no or "
                "unclear"
            ),
        ),
        (
            "Smith 2019",
            "ann",
            {**ALL_YES, "q4": "Yes"},
            (
                "study 'Smith 2019', item q4: 'Yes' is not an answer; use yes, no, unclear or not "
                "applicable"
            ),
        ),
        (
            "Smith 2019",
            "ann",
            {"q1": "yes", "q2": "no", "q4": "yes"},
            "study 'Smith 2019': murad-2018 items not answered: q3, q5, q6, q7, q8",
        ),
        (" ", "ann", ALL_YES, "an appraisal needs a study label"),
        ("Smith 2019", "", ALL_YES, "study 'Smith 2019': an appraisal needs an appraiser"),
    ],
)
def test_answers_are_checked_against_the_tool(
    study: str, appraiser: str, answers: dict[str, str], message: str
) -> None:
    with pytest.raises(AppraisalError) as err:
        appraise(MURAD_2018, study, appraiser, answers)
    assert str(err.value) == message


def test_an_appraisal_built_directly_is_checked_too() -> None:
    with pytest.raises(AppraisalError) as err:
        Appraisal("Smith 2019", JBI_CASE_REPORT, "ann", (("q1", "yes"),))
    assert str(err.value) == (
        "study 'Smith 2019': jbi-case-report items not answered: q2, q3, q4, q5, q6, q7, q8"
    )


# --- judgements ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "concern"),
    [
        (["yes", "yes"], "low"),
        (["yes", "unclear"], "unclear"),
        (["unclear", "no", "yes"], "high"),
        (["not applicable", "yes"], "low"),
        (["not applicable", "not applicable"], "not applicable"),
    ],
)
def test_a_domain_takes_its_worst_applicable_answer(answers: list[str], concern: str) -> None:
    assert domain_concern(answers) == concern


def test_judging_a_murad_appraisal_gives_a_concern_per_domain_and_a_yes_count() -> None:
    appraisal = _murad(q2="unclear", q5="no", q6="not applicable", q4="not applicable")
    judgement = judge(appraisal)
    assert judgement.domains == (
        ("selection", "low"),
        ("ascertainment", "unclear"),
        ("causality", "high"),
        ("reporting", "low"),
    )
    assert (judgement.yes, judgement.applicable, judgement.score) == (4, 6, "4/6")
    assert judgement.as_dict()["domains"]["causality"] == "high"


def test_judging_a_jbi_checklist_counts_yes_among_applicable_items() -> None:
    answers = {f"q{i}": "yes" for i in range(1, 11)} | {"q4": "no", "q5": "not applicable"}
    judgement = judge(appraise(JBI_CASE_SERIES, "Lee 2021", "bo", answers))
    assert judgement.score == "8/9"
    assert judgement.concern("checklist") == "high"


# --- consensus ----------------------------------------------------------------------------


def test_consensus_lists_agreed_items_and_the_disagreements() -> None:
    ann = _murad(appraiser="ann", q2="unclear", q7="no")
    bo = _murad(appraiser="bo", q2="yes", q7="no", q8="unclear")
    result = consensus(ann, bo)
    assert [d.item for d in result.disagreements] == ["q2", "q8"]
    assert (result.disagreements[0].first, result.disagreements[0].second) == ("unclear", "yes")
    assert dict(result.agreed)["q7"] == "no"
    assert result.agreement == 6 / 8 and not result.settled
    assert result.as_dict()["disagreements"][1] == {
        "item": "q8",
        "first": "yes",
        "second": "unclear",
    }


def test_resolving_the_disagreements_gives_the_consensus_appraisal() -> None:
    result = consensus(_murad(appraiser="ann", q2="unclear"), _murad(appraiser="bo"))
    final = result.resolve({"q2": "unclear"}, note="discussed 3 May")
    assert final.appraiser == "consensus" and final.note == "discussed 3 May"
    assert final.answer("q2") == "unclear" and final.answer("q1") == "yes"


def test_agreeing_appraisals_resolve_with_no_resolutions() -> None:
    result = consensus(_murad(appraiser="ann"), _murad(appraiser="bo"))
    assert result.settled and result.resolve().values == tuple(ALL_YES.values())


@pytest.mark.parametrize(
    ("resolutions", "message"),
    [
        ({}, "study 'Smith 2019': disagreements not resolved: q2, q3"),
        ({"q2": "yes"}, "study 'Smith 2019': disagreements not resolved: q3"),
        (
            {"q1": "no", "q2": "yes", "q3": "yes"},
            (
                "study 'Smith 2019', item q1: both appraisers answered yes; only disagreements are "
                "resolved"
            ),
        ),
        (
            {"q2": "sort of", "q3": "yes"},
            "study 'Smith 2019', item q2: 'sort of' is not an answer; use yes, no or unclear",
        ),
    ],
)
def test_a_resolution_must_settle_every_disagreement_and_only_those(
    resolutions: dict[str, str], message: str
) -> None:
    result = consensus(_murad(appraiser="ann", q2="no", q3="no"), _murad(appraiser="bo"))
    with pytest.raises(AppraisalError) as err:
        result.resolve(resolutions)
    assert str(err.value) == message


def test_consensus_needs_one_study_one_tool_and_two_appraisers() -> None:
    jbi = appraise(JBI_CASE_REPORT, "Smith 2019", "bo", {f"q{i}": "yes" for i in range(1, 9)})
    cases = [
        (
            _murad(),
            _murad(study="Jones 2020", appraiser="bo"),
            "consensus needs two appraisals of one study, not 'Smith 2019' and 'Jones 2020'",
        ),
        (
            _murad(),
            jbi,
            (
                "study 'Smith 2019': the appraisals use different tools (murad-2018 and "
                "jbi-case-report)"
            ),
        ),
        (
            _murad(),
            _murad(q1="no"),
            "study 'Smith 2019': both appraisals are by 'ann'; dual appraisal needs two appraisers",
        ),
    ]
    for first, second, message in cases:
        with pytest.raises(AppraisalError) as err:
            consensus(first, second)
        assert str(err.value) == message


def test_dual_appraisal_of_many_studies_pairs_each_studys_two_appraisals() -> None:
    appraisals = [
        _murad("A", "ann", q1="no"),
        _murad("B", "ann"),
        _murad("A", "bo"),
        _murad("B", "bo"),
    ]
    results = consensus_all(appraisals)
    assert [(r.study, r.appraisers, len(r.disagreements)) for r in results] == [
        ("A", ("ann", "bo"), 1),
        ("B", ("ann", "bo"), 0),
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "study 'C' has 1 appraisal (by 'ann'); dual appraisal compares two"),
        (
            [_murad("C", "bo"), _murad("C", "cy")],
            "study 'C' has 3 appraisals (by 'ann', 'bo', 'cy'); dual appraisal compares two",
        ),
    ],
)
def test_dual_appraisal_needs_exactly_two_appraisals_per_study(
    extra: list[Appraisal], message: str
) -> None:
    with pytest.raises(AppraisalError) as err:
        consensus_all([_murad("A", "ann"), _murad("A", "bo"), _murad("C", "ann"), *extra])
    assert str(err.value) == message


# --- the summary table --------------------------------------------------------------------


def _three() -> list[Appraisal]:
    return [
        _murad("A 2001", q1="no", q5="not applicable"),
        _murad("B 2002", q1="unclear", q5="not applicable"),
        _murad("C 2003", q5="no"),
    ]


def test_the_summary_table_counts_answers_per_item_and_concerns_per_domain() -> None:
    table = summary_table(_three())
    assert table.studies == ("A 2001", "B 2002", "C 2003")
    assert [table.count("q1", a) for a in ("yes", "no", "unclear")] == [1, 1, 1]
    assert table.count("q5", "not applicable") == 2
    assert table.concern_count("selection", "high") == 1
    assert table.concern_count("causality", "low") == 2
    data = table.as_dict()
    assert data["rows"][0]["answers"]["q1"] == "no"
    assert data["rows"][2]["domains"]["causality"] == "high"
    assert data["item_counts"]["q5"] == {"yes": 0, "no": 1, "unclear": 0, "not applicable": 2}
    assert data["domain_counts"]["selection"] == {
        "low": 1,
        "unclear": 1,
        "high": 1,
        "not applicable": 0,
    }
    assert data["citation"] == MURAD_2018.citation


def test_weighted_proportions_count_each_study_by_its_size() -> None:
    table = summary_table(_three())
    plain = {p.item: p for p in table.proportions()}
    assert plain["q1"].share("no") == pytest.approx(1 / 3)
    weighted = {p.item: p for p in table.proportions({"A 2001": 1, "B 2002": 2, "C 2003": 7})}
    assert weighted["q1"].share("yes") == pytest.approx(0.7)
    assert weighted["q1"].share("unclear") == pytest.approx(0.2)
    assert weighted["q5"].share("not applicable") == pytest.approx(0.3)
    assert weighted["q5"].as_dict()["item"] == "q5"


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"A 2001": 1, "B 2002": 2}, "weights: no study size for 'C 2003'"),
        (
            {"A 2001": 1, "B 2002": 0, "C 2003": 3},
            "weights: the size of 'B 2002' is 0; use a positive number",
        ),
        (
            {"A 2001": 1, "B 2002": float("nan"), "C 2003": 3},
            "weights: the size of 'B 2002' is nan; use a positive number",
        ),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float], message: str) -> None:
    with pytest.raises(AppraisalError) as err:
        summary_table(_three()).proportions(weights)
    assert str(err.value) == message


def test_the_summary_table_needs_one_final_appraisal_per_study_and_one_tool() -> None:
    jbi = appraise(JBI_CASE_REPORT, "D 2004", "ann", {f"q{i}": "yes" for i in range(1, 9)})
    cases = [
        ([], "a summary table needs at least one appraisal"),
        (
            [*_three(), jbi],
            (
                "study 'D 2004' uses jbi-case-report, not murad-2018; make one table per tool "
                "(summary_tables)"
            ),
        ),
        (
            [*_three(), _murad("A 2001", appraiser="bo")],
            "study 'A 2001' is appraised twice; settle the two appraisals with consensus first",
        ),
    ]
    for appraisals, message in cases:
        with pytest.raises(AppraisalError) as err:
            summary_table(appraisals)
        assert str(err.value) == message
    tables = summary_tables([*_three(), jbi])
    assert [(t.tool.name, len(t.rows)) for t in tables] == [
        ("murad-2018", 3),
        ("jbi-case-report", 1),
    ]


@st.composite
def _appraisals(draw: st.DrawFn) -> tuple[Tool, list[Appraisal]]:
    tool = draw(st.sampled_from(list(BUILT_IN_TOOLS.values())))
    n = draw(st.integers(min_value=1, max_value=25))
    appraisals = [
        appraise(
            tool,
            f"study {k}",
            "ann",
            {item.id: draw(st.sampled_from(item.answers)) for item in tool.items},
        )
        for k in range(n)
    ]
    return tool, appraisals


@settings(max_examples=60, deadline=None)
@given(data=_appraisals(), sizes=st.lists(st.integers(1, 500), min_size=25, max_size=25))
def test_summary_counts_match_the_appraisals(
    data: tuple[Tool, list[Appraisal]], sizes: list[int]
) -> None:
    tool, appraisals = data
    table = summary_table(appraisals)
    weights = {a.study: sizes[k] for k, a in enumerate(appraisals)}
    for item in tool.items:
        counts = {a: table.count(item.id, a) for a in tool.answers}
        assert sum(counts.values()) == len(appraisals)
        assert counts == {a: sum(x.answer(item.id) == a for x in appraisals) for a in tool.answers}
    for domain in tool.domains:
        assert sum(
            table.concern_count(domain, c) for c in ("low", "unclear", "high", "not applicable")
        ) == len(appraisals)
    for shares in (table.proportions(), table.proportions(weights)):
        for item in shares:
            assert sum(s for _, s in item.shares) == pytest.approx(1.0)
    equal = table.proportions({a.study: 3 for a in appraisals})
    flat = [s for p in table.proportions() for _, s in p.shares]
    assert [s for p in equal for _, s in p.shares] == pytest.approx(flat)
    for row, appraisal in zip(table.rows, appraisals, strict=True):
        assert row.yes == appraisal.values.count("yes") <= row.applicable


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_consensus_splits_every_item_and_resolving_to_one_side_restores_it(
    data: st.DataObject,
) -> None:
    tool = data.draw(st.sampled_from(list(BUILT_IN_TOOLS.values())))
    first, second = (
        appraise(
            tool,
            "S",
            who,
            {item.id: data.draw(st.sampled_from(item.answers)) for item in tool.items},
        )
        for who in ("ann", "bo")
    )
    result = consensus(first, second)
    assert len(result.agreed) + len(result.disagreements) == len(tool.items)
    assert all(d.first != d.second for d in result.disagreements)
    for side, pick in ((first, "first"), (second, "second")):
        chosen = {d.item: getattr(d, pick) for d in result.disagreements}
        assert result.resolve(chosen).answers == side.answers
