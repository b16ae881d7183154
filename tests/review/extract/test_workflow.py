"""Extraction through the library API on SQLite and PostgreSQL: the bundled example's rows,
all-or-nothing imports with every problem's place, corrections as new events, dual
extraction compared and resolved, and counts for pooling."""

from __future__ import annotations

from pathlib import Path

import pytest
from stores import store_snapshot

from review.api import Review
from review.errors import BlindError, ExtractError, ExtractImportError

PROTOCOLS = Path(__file__).resolve().parents[3] / "protocols"


def bundled(name: str) -> Path:
    return PROTOCOLS / f"rtx-ssc-calcinosis.{name}.csv"


def load_example(review_dir: Path) -> None:
    with Review.open(review_dir) as rv:
        rv.extraction.import_file(bundled("studies"), extractor="ann", add_studies=True)
        rv.extraction.import_file(bundled("cases"), extractor="ann")
        rv.extraction.import_file(bundled("aggregates"), extractor="ann")


def test_the_bundled_example_gives_the_published_counts(review_dir: Path) -> None:
    load_example(review_dir)
    with Review.open(review_dir) as rv:
        got = {
            name: [(c.study, c.events, c.assessed, c.source) for c in rv.extraction.counts(name)]
            for name in ("clinical_response", "radiological_response")
        }
        pooled = rv.extraction.study_counts("clinical_response")
    assert got["clinical_response"] == [
        ("Narváez 2019", 4, 8, "aggregate"),
        ("Daoussis 2012", 1, 1, "patients"),
        ("Poormoghim 2016", 0, 1, "patients"),
    ]
    assert [(c[1], c[2]) for c in got["radiological_response"]] == [(2, 8), (1, 1), (0, 1)]
    assert list(pooled.events) == [4, 1, 0] and list(pooled.totals) == [8, 1, 1]


def test_a_second_import_is_a_no_op_and_a_changed_value_is_a_new_event(
    review_dir: Path, tmp_path: Path
) -> None:
    load_example(review_dir)
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv:
        _, again = rv.extraction.import_file(bundled("cases"), extractor="ann")
    assert (again.written, again.unchanged) == (0, 20)
    assert store_snapshot(review_dir) == before
    changed = tmp_path / "cases.csv"
    changed.write_text(
        bundled("cases").read_text(encoding="utf-8").replace("weekly x4,2,", "weekly x4,3,"),
        encoding="utf-8",
    )
    with Review.open(review_dir) as rv:
        _, done = rv.extraction.import_file(changed, extractor="ann")
        _study, trail = rv.extraction.history("Daoussis 2012", field="rtx_cycles")
    assert done.written == 1
    assert [e.value for e in trail] == ["2", "3"]  # nothing overwritten
    assert trail[1].source == "cases.csv, row 2"


def test_a_bad_file_reports_every_problem_with_its_place_and_writes_nothing(
    review_dir: Path, tmp_path: Path
) -> None:
    load_example(review_dir)
    bad = tmp_path / "cases.csv"
    bad.write_text(
        "study,case_id,age,ssc_subtype,rtx_regimen,new_inflammation_or_ulceration,"
        "radiological_assessed,adverse_event\n"
        "Daoussis 2012,2,130,limited cutaneous,other,no,no,no\n"
        "Nobody 2020,1,40,limited cutaneous,other,no,no,no\n"
        "Daoussis 2012,2,40,limited,other,no,no,no\n",
        encoding="utf-8",
    )
    before = store_snapshot(review_dir)
    with Review.open(review_dir) as rv, pytest.raises(ExtractImportError) as caught:
        rv.extraction.import_file(bad, extractor="ann")
    assert str(caught.value) == "4 problems; nothing was imported"
    assert caught.value.problems == (
        "cases.csv, row 2, column C (age): age: 130 is above the maximum, 110 years",
        "cases.csv, row 3, column A (study): unknown study 'Nobody 2020'; add it with "
        "'casepool extract study add LABEL'",
        "cases.csv, row 4, column D (ssc_subtype): ssc_subtype: 'limited' is not one of "
        "'limited cutaneous', 'diffuse cutaneous', 'sine scleroderma', 'overlap', 'unknown'",
        "cases.csv, row 4: patient '2' of study 'Daoussis 2012' is also at cases.csv, row 2",
    )
    assert store_snapshot(review_dir) == before


def test_an_aggregate_row_with_more_events_than_patients_is_refused(
    review_dir: Path, tmp_path: Path
) -> None:
    load_example(review_dir)
    bad = tmp_path / "agg.csv"
    bad.write_text("study,outcome,events,assessed\nNarváez 2019,clinical_respons,9,8\n")
    with Review.open(review_dir) as rv, pytest.raises(ExtractImportError) as caught:
        rv.extraction.import_file(bad, extractor="ann")
    assert caught.value.problems == (
        "agg.csv, row 2, column B (outcome): outcome: 'clinical_respons' is not one of "
        "'clinical_response', 'radiological_response', 'adverse_events'",
        "agg.csv, row 2, column C (events): 9 events of 8 assessed is more events than patients",
    )


def test_dual_extraction_compares_field_by_field_and_uses_resolved_values(
    review_dir: Path, tmp_path: Path
) -> None:
    path = review_dir / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("extractors = 1", "extractors = 2"))
    load_example(review_dir)
    other = tmp_path / "aggregates.csv"
    other.write_text(
        bundled("aggregates")
        .read_text(encoding="utf-8")
        .replace("clinical_response,4,8", "clinical_response,5,8"),
        encoding="utf-8",
    )
    with Review.open(review_dir) as rv:
        x = rv.extraction
        assert x.counts("clinical_response")[0].study == "Daoussis 2012"  # ann alone: pending
        x.import_file(other, extractor="bo")
        (difference,) = x.compare()
        assert difference.cell[1:] == ("aggregate", "clinical_response", "events")
        assert {p: e.value for p, e in difference.entries.items()} == {"ann": "4", "bo": "5"}
        assert next(c.study for c in x.counts("radiological_response")) == "Narváez 2019"
        x.resolve(
            "Narváez 2019",
            form="aggregate",
            row="clinical_response",
            field="events",
            value="4",
            by="lee",
            why="Table 2",
        )
        assert x.compare() == []
        first = x.counts("clinical_response")[0]
    assert (first.study, first.events, first.assessed) == ("Narváez 2019", 4, 8)


def test_registering_studies_and_resolving_check_their_input(review_dir: Path) -> None:
    with Review.open(review_dir) as rv:
        x = rv.extraction
        study = x.add_study("Narváez 2019")
        with pytest.raises(ExtractError) as caught:
            x.add_study("narváez 2019")
        assert (
            str(caught.value)
            == f"a study called 'Narváez 2019' is already registered (id {study.id})"
        )
        with pytest.raises(ExtractError) as caught:
            x.add_study("Local", cluster=99)
        assert str(caught.value) == "there is no cluster 99 in this review"
        with pytest.raises(ExtractError) as caught:
            x.resolve("Narváez 2019", field="n_patients", value="8", by="lee")
        assert str(caught.value) == "nothing was entered for n_patients in 'Narváez 2019'"
        with pytest.raises(ExtractError) as caught:
            x.resolve("Narváez 2019", field="n_patient", value="8", by="lee")
        assert str(caught.value) == "the study form has no field 'n_patient'"
        with pytest.raises(ExtractError) as caught:
            x.history("Nobody")
        assert str(caught.value) == (
            "there is no study 'Nobody' to extract; 'casepool extract studies' lists them"
        )


def test_the_studies_screening_included_are_registered_once_each(review_dir: Path) -> None:
    from screening import ready_review

    a, b, c, d = ready_review(review_dir, 4)
    with Review.open(review_dir) as rv:
        s = rv.screening
        with pytest.raises(BlindError) as caught:
            rv.extraction.add_included()
        assert str(caught.value) == (
            "full-text screening is blind, so what it included is not known yet; a lead "
            "unblinds it with 'casepool screen unblind --stage ft --by LEAD'"
        )
        s.unblind("ta", by="lee")
        s.unblind("ft", by="lee")
        for cluster in (a, b, c):
            for person in ("ana", "ben"):
                s.decide(cluster, stage="ta", reviewer=person, decision="include")
        for cluster in (a, b):
            for person in ("ana", "ben"):
                s.decide(cluster, stage="ft", reviewer=person, decision="include")
        for person in ("ana", "ben"):
            s.decide(c, stage="ft", reviewer=person, decision="exclude", reason="no-rtx")
        s.link(b, study=a)  # two reports of one study
        added = rv.extraction.add_included()
        assert [(x.label, x.cluster_id) for x in added] == [(f"Author{a} {2000 + a}", a)]
        assert rv.extraction.add_included() == []
        assert d not in {x.cluster_id for x in rv.extraction.studies()}
