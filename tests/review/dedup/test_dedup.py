"""Deduplication: normalisation, vetoes, clustering, decisions, merged view, counts."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.dedup.features import (
    features,
    fold,
    journal_tokens,
    journals_compatible,
    looks_like_abstract,
    normalise_title,
    page_range,
)
from review.dedup.matching import (
    Constraints,
    compare,
    deduplicate,
    merged_view,
    replay_decisions,
)
from review.dedup.workflow import (
    cluster_view,
    decide,
    export_membership,
    pending_pairs,
    run_dedup,
    undo_cluster,
)
from review.errors import DedupError
from review.records import Author, Record
from review.sources.tabular import read_delimited
from review.store import Store, open_store
from review.store.dedup import cluster_membership, dedup_counts
from review.store.records import finish_load, insert_records, mark_deleted, start_load

DATA = Path(__file__).resolve().parents[2] / "data" / "dedup"


def special_cases() -> tuple[list[Record], set[frozenset[str]]]:
    """The bib-dedupe special_cases set read by casepool's CSV importer, and its true clusters
    (by source_id)."""
    path = DATA / "special_cases_records.csv"
    records = list(read_delimited(path.read_bytes(), str(path), source="bib-dedupe").records)
    with (DATA / "special_cases_merged_ids.csv").open(encoding="utf-8", newline="") as handle:
        truth = {frozenset(row["merged_ids"].split(";")) for row in csv.DictReader(handle)}
    return records, truth


ARTICLE = Record(
    source="pubmed",
    source_id="1",
    title="Rituximab for calcinosis cutis in systemic sclerosis: a case series",
    authors=(Author("Smith", "Anna"), Author("Jones", "Bo"), Author("Ng", "Chi")),
    journal="Journal of Clinical Rheumatology",
    year=2019,
    volume="25",
    issue="3",
    pages="122-9",
)
EMBASE_COPY = dataclasses.replace(
    ARTICLE,
    source="embase",
    source_id="E1",
    title="Rituximab for Calcinosis Cutis in Systemic Sclerosis: A Case Series.",
    journal="J Clin Rheumatol",
    pages="122-129",
    abstract="We describe five patients.",
)


def clusters_by_source_id(records: list[Record], **kwargs: object) -> set[frozenset[str]]:
    result = deduplicate(list(enumerate(records)), **kwargs)  # type: ignore[arg-type]
    return {frozenset(records[m].source_id or "" for m in c.members) for c in result.clusters}


# --- normalisation -------------------------------------------------------------------------


def test_fold_removes_case_accents_html_and_punctuation() -> None:
    assert fold("Hémolytic–Uremic <i>Syndrome</i> &amp; ADAMTS-13") == (
        "hemolytic uremic syndrome adamts 13"
    )


def test_title_drops_language_notes_brackets_and_review_notes() -> None:
    assert normalise_title("[The role of complement in pathology]. [Polish]") == (
        "the role of complement in pathology"
    )
    assert normalise_title("Foo bar. [Article in Spanish]") == "foo bar"
    assert normalise_title("Screening update. [Review] [33 refs]") == "screening update"
    assert normalise_title("Eculizumab.[Erratum appears in N Engl J Med. 2009;360:1]") == (
        "eculizumab"
    )


def test_page_ranges_expand_abbreviations_and_ignore_mangled_supplements() -> None:
    assert page_range("822-9") == ("822", "829")
    assert page_range("822-829") == ("822", "829")
    assert page_range("47--65") == ("47", "65")
    assert page_range("S417-S429") == ("s417", "s429")
    assert page_range("Suppl-29") == ("", "")
    assert page_range(None) == ("", "")
    assert page_range('"52-4, 64"') == ("52", "54")
    assert page_range("0822-0829") == ("822", "829")
    assert page_range("01-Jun") == ("", "")


def test_article_numbers_are_not_mistaken_for_one_page_abstracts() -> None:
    assert looks_like_abstract(*page_range("1514"), None)
    assert looks_like_abstract(*page_range("57-58"), "Suppl. 1")
    assert not looks_like_abstract(*page_range("CD008173"), None)
    assert not looks_like_abstract(*page_range("e12724"), None)
    assert not looks_like_abstract(*page_range("122-9"), "3")


def test_journal_abbreviations_match_their_full_titles_only() -> None:
    full = journal_tokens("The Journal of Clinical Pathology (London)")
    assert journals_compatible(journal_tokens("J Clin Pathol"), full)
    assert journals_compatible(
        journal_tokens("N Engl J Med"), journal_tokens("New England Journal of Medicine")
    )
    assert journals_compatible(
        journal_tokens("Thromb Haemost"), journal_tokens("Thrombosis & Haemostasis")
    )
    assert not journals_compatible(journal_tokens("Cancer"), journal_tokens("Cancer Cytopathology"))
    assert not journals_compatible(journal_tokens("J Clin Pathol"), journal_tokens("J Clin Oncol"))


@pytest.mark.parametrize(
    ("title", "types", "kind"),
    [
        ("Erratum: Rituximab for calcinosis", (), "erratum"),
        ("Correction to: Rituximab for calcinosis", (), "erratum"),
        ("Rituximab for calcinosis (vol 25, pg 122, 2019)", (), "erratum"),
        ("Comment on: Rituximab for calcinosis", (), "comment"),
        ("Re: Rituximab for calcinosis", (), "comment"),
        ("Rituximab for calcinosis - Reply", (), "reply"),
        ("Reply to Smith et al.", (), "reply"),
        ("Retraction note: Rituximab for calcinosis", (), "retraction"),
        ("Rituximab for calcinosis", ("Published Erratum",), "erratum"),
        ("Rituximab for calcinosis", ("Comment",), "comment"),
        ("Rituximab for calcinosis", ("Retraction of Publication",), "retraction"),
        ("Rituximab for calcinosis", ("Congress",), "conference"),
        ("Retracted: Rituximab for calcinosis", (), "article"),
        ("Rituximab for calcinosis", ("Journal Article", "Case Reports"), "article"),
    ],
)
def test_kind_of_record_from_title_and_publication_types(
    title: str, types: tuple[str, ...], kind: str
) -> None:
    record = dataclasses.replace(ARTICLE, title=title, publication_types=types)
    assert features(record).kind == kind


# --- matching and vetoes -------------------------------------------------------------------


def test_special_cases_are_clustered_exactly_as_the_ground_truth() -> None:
    records, truth = special_cases()
    assert clusters_by_source_id(records) == truth


def test_abbreviated_journal_and_page_range_still_merge() -> None:
    verdict = compare(features(ARTICLE), features(EMBASE_COPY))
    assert verdict.verdict == "same"
    assert clusters_by_source_id([ARTICLE, EMBASE_COPY]) == {frozenset({"1", "E1"})}


def test_conflicting_doi_vetoes_an_otherwise_identical_pair() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1000/a1")
    b = dataclasses.replace(EMBASE_COPY, doi="10.1000/b2")
    assert compare(features(a), features(b)).reason == "different DOI"
    assert clusters_by_source_id([a, b]) == set()


def test_conflicting_pmid_vetoes_a_merge() -> None:
    a = dataclasses.replace(ARTICLE, pmid="111")
    b = dataclasses.replace(EMBASE_COPY, pmid="222")
    assert clusters_by_source_id([a, b]) == set()


def test_same_doi_merges_despite_other_differences() -> None:
    a = dataclasses.replace(ARTICLE, doi="https://doi.org/10.1000/X1", pages=None, volume=None)
    b = dataclasses.replace(EMBASE_COPY, doi="10.1000/x1", year=2020, journal="Other")
    assert compare(features(a), features(b)).reason == "same DOI"
    assert clusters_by_source_id([a, b]) == {frozenset({"1", "E1"})}


@pytest.mark.parametrize(
    "title",
    [
        "Erratum: Rituximab for calcinosis cutis in systemic sclerosis: a case series",
        "Comment on: Rituximab for calcinosis cutis in systemic sclerosis: a case series",
        "Rituximab for calcinosis cutis in systemic sclerosis: a case series - Reply",
        "Retraction: Rituximab for calcinosis cutis in systemic sclerosis: a case series",
    ],
)
def test_notice_is_never_merged_with_its_article(title: str) -> None:
    notice = dataclasses.replace(EMBASE_COPY, title=title, pages="130")
    assert clusters_by_source_id([ARTICLE, notice]) == set()


def test_conference_abstract_is_not_merged_with_its_article() -> None:
    abstract = dataclasses.replace(
        EMBASE_COPY,
        journal="Annals of the Rheumatic Diseases. Conference: EULAR 2018",
        year=2018,
        volume="77",
        pages="A1234",
    )
    assert compare(features(ARTICLE), features(abstract)).reason == "article vs conference"
    assert clusters_by_source_id([ARTICLE, abstract]) == set()


def test_chain_of_similar_records_does_not_join_two_papers() -> None:
    """B is close to A and to C, but A and C are two years apart: B may join one, not both."""
    base = dataclasses.replace(ARTICLE, volume=None, pages=None, journal="Rheumatology")
    a = dataclasses.replace(base, source_id="A", year=2018)
    b = dataclasses.replace(base, source_id="B", year=2019)
    c = dataclasses.replace(base, source_id="C", year=2020)
    clusters = clusters_by_source_id([a, b, c])
    assert all(not {"A", "C"} <= cluster for cluster in clusters)


def test_titles_that_differ_only_in_a_number_wait_for_a_person() -> None:
    one = dataclasses.replace(ARTICLE, title="FOCUS 1: a randomised trial of ceftaroline")
    two = dataclasses.replace(
        EMBASE_COPY, title="FOCUS 2: a randomised trial of ceftaroline", pages="130-9"
    )
    assert compare(features(one), features(two)).reason == "titles differ in a number"
    result = deduplicate([(1, one), (2, two)])
    assert result.clusters == ()
    assert [(m.a, m.b) for m in result.uncertain] == [(1, 2)]


def test_same_title_without_corroboration_is_queued_not_merged() -> None:
    a = Record(source="scopus", source_id="S", title="Calcinosis cutis treated with rituximab")
    b = Record(source="wos", source_id="W", title="Calcinosis cutis treated with rituximab")
    result = deduplicate([(10, a), (20, b)])
    assert result.clusters == ()
    assert [(m.a, m.b) for m in result.uncertain] == [(10, 20)]


def test_identical_titles_meet_even_when_their_start_and_end_blocks_are_oversized() -> None:
    # 450 titles share the first and last 24 letters, so those blocks are not expanded;
    # two records with one identical title must still be compared.
    crowd = [
        Record(
            source="s",
            source_id=f"c{i}",
            title=f"Rituximab in the treatment of calcinosis, patient {i}: a systematic review "
            "and meta-analysis",
            year=2019,
        )
        for i in range(450)
    ]
    title = (
        "Rituximab in the treatment of calcinosis in the Lyon cohort: a systematic review "
        "and meta-analysis"
    )
    pair = [Record(source=s, source_id=s, title=title, year=2019) for s in ("a", "b")]
    result = deduplicate(list(enumerate([*crowd, *pair], start=1)))
    assert [(m.a, m.b, m.reason) for m in result.uncertain] == [
        (451, 452, "same title, too little else to confirm")
    ]


def test_number_typo_is_tolerated_at_the_same_volume_and_page() -> None:
    one = dataclasses.replace(ARTICLE, title="p16INK4a expression in cervical neoplasia grade 2")
    typo = dataclasses.replace(
        EMBASE_COPY, title="p6INK4a expression in cervical neoplasia grade 2"
    )
    assert compare(features(one), features(typo)).reason == "title, volume and pages agree"


def test_abstract_without_place_is_not_merged_on_title_authors_and_year_alone() -> None:
    """A supplement abstract and an article lacking volume and pages: ask, do not merge."""
    article = dataclasses.replace(ARTICLE, volume=None, pages=None, issue=None)
    abstract = dataclasses.replace(EMBASE_COPY, issue="Suppl. 1", pages="57-58", volume="26")
    assert compare(features(article), features(abstract)).verdict == "maybe"


def test_generic_title_with_several_conflicts_is_not_queued() -> None:
    a = Record(
        source="pubmed",
        source_id="A",
        title="Atypical hemolytic uremic syndrome",
        year=2009,
        authors=(Author("Noris", "M"),),
        journal="N Engl J Med",
        volume="361",
        pages="1676-87",
    )
    b = Record(
        source="embase",
        source_id="B",
        title="Atypical haemolytic uraemic syndrome",
        year=2010,
        authors=(Author("Kavanagh", "D"),),
        journal="Curr Opin Hematol",
        volume="17",
        pages="432-8",
    )
    verdict = compare(features(a), features(b))
    assert (verdict.verdict, verdict.reason) == (
        "distinct",
        "different authors, volume, pages, journal, year",
    )


def test_primary_is_the_pubmed_record_and_cluster_id_the_smallest_member() -> None:
    result = deduplicate([(7, EMBASE_COPY), (9, ARTICLE)])
    (cluster,) = result.clusters
    assert cluster.members == (7, 9)
    assert cluster.cluster_id == 7
    assert cluster.primary == 9
    assert result.n_duplicates == 1


# --- decisions -----------------------------------------------------------------------------


def test_keep_apart_constraint_stops_a_confident_merge() -> None:
    result = deduplicate(
        [(1, ARTICLE), (2, EMBASE_COPY)], Constraints(keep_apart=frozenset({(1, 2)}))
    )
    assert result.clusters == ()
    assert result.uncertain == ()


def test_person_can_merge_across_an_automatic_veto() -> None:
    a = dataclasses.replace(ARTICLE, doi="10.1000/a1")
    b = dataclasses.replace(EMBASE_COPY, doi="10.1000/b2")
    result = deduplicate([(1, a), (2, b)], Constraints(merge=((1, 2),)))
    assert [c.members for c in result.clusters] == [(1, 2)]
    assert result.clusters[0].reasons == ((1, "primary"), (2, "merged by a person"))


def test_replay_latest_decision_wins_and_undo_keeps_members_apart() -> None:
    constraints = replay_decisions(
        [
            ("merge", (2, 1), ()),
            ("keep_apart", (3, 4), ()),
            ("undo", None, (5, 6, 7)),
            ("merge", (3, 4), ()),
            ("merge", (5, 6), ()),
        ]
    )
    assert constraints.merge == ((1, 2), (3, 4), (5, 6))
    assert constraints.keep_apart == frozenset({(5, 7), (6, 7)})


# --- merged view ---------------------------------------------------------------------------


def test_merged_view_fills_the_abstract_from_another_member() -> None:
    view = merged_view([ARTICLE, EMBASE_COPY])
    assert view.abstract == "We describe five patients."
    assert view.source == "pubmed"
    assert view.journal == "Journal of Clinical Rheumatology"
    assert view.pages == "122-9"


def test_merged_view_of_one_record_is_that_record() -> None:
    assert merged_view([ARTICLE]) == ARTICLE
    with pytest.raises(ValueError, match="at least one record"):
        merged_view([])


# --- order independence --------------------------------------------------------------------


def _variants() -> list[Record]:
    records, _ = special_cases()
    extra = [
        ARTICLE,
        EMBASE_COPY,
        dataclasses.replace(EMBASE_COPY, source="scopus", source_id="S1", abstract=None),
        dataclasses.replace(ARTICLE, source_id="2", title="Erratum: " + (ARTICLE.title or "")),
        dataclasses.replace(ARTICLE, source_id="3", year=2021, volume="27", pages="1-5"),
    ]
    return records + extra


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(len(_variants())))))
def test_clusters_do_not_depend_on_input_order(order: list[int]) -> None:
    records = _variants()
    baseline = deduplicate(list(enumerate(records)))
    shuffled = deduplicate([(i, records[i]) for i in order])
    assert {c.members for c in shuffled.clusters} == {c.members for c in baseline.clusters}
    assert {c.primary for c in shuffled.clusters} == {c.primary for c in baseline.clusters}
    assert shuffled.uncertain == baseline.uncertain


# --- store ---------------------------------------------------------------------------------


def load(store: Store, source: str, records: list[Record]) -> None:
    with store.transaction() as conn:
        load_id = start_load(conn, kind="file", source=source, file_name=f"{source}.ris")
        n = insert_records(conn, load_id, records)
        finish_load(conn, load_id, n_read=len(records), n_new=n)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "review.db", create=True)
    load(
        opened,
        "pubmed",
        [
            ARTICLE,
            dataclasses.replace(
                ARTICLE, source_id="9", title="Other paper entirely about mice", pages="1-2"
            ),
        ],
    )
    load(opened, "embase", [EMBASE_COPY])
    return opened


def test_membership_before_any_run_is_all_singletons(store: Store) -> None:
    assert cluster_membership(store.conn) == {1: (1, True), 2: (2, True), 3: (3, True)}


def test_run_links_records_and_counts_for_prisma(store: Store) -> None:
    counts = run_dedup(store)
    assert cluster_membership(store.conn) == {1: (1, True), 2: (2, True), 3: (1, False)}
    assert counts.per_source == (("embase", 1), ("pubmed", 2))
    assert (counts.records_identified, counts.duplicates_removed) == (3, 1)
    assert (counts.records_after_dedup, counts.clusters, counts.pairs_queued) == (2, 1, 0)
    assert dedup_counts(store.conn) == counts


def test_cluster_view_fills_the_abstract(store: Store) -> None:
    run_dedup(store)
    assert cluster_view(store, 1).abstract == "We describe five patients."


def test_undo_splits_and_a_rerun_does_not_merge_again(store: Store) -> None:
    run_dedup(store)
    assert undo_cluster(store, 1) == (1, 3)
    assert cluster_membership(store.conn)[3] == (3, True)
    run_dedup(store)
    assert cluster_membership(store.conn)[3] == (3, True)
    assert dedup_counts(store.conn).duplicates_removed == 0


def test_undo_of_a_missing_cluster_names_it_and_changes_nothing(store: Store) -> None:
    run_dedup(store)
    before = cluster_membership(store.conn)
    with pytest.raises(DedupError) as err:
        undo_cluster(store, 2)
    assert str(err.value) == (
        "there is no cluster 2 of two or more records; "
        "'casepool dedup --export FILE.csv' lists the clusters"
    )
    assert cluster_membership(store.conn) == before
    assert store.conn.execute("SELECT COUNT(*) FROM dedup_decisions").fetchone()[0] == 0


def test_keep_apart_from_review_is_respected_on_rerun(tmp_path: Path) -> None:
    opened = open_store(tmp_path / "r.db", create=True)
    a = Record(source="scopus", source_id="S", title="Calcinosis cutis treated with rituximab")
    b = Record(source="wos", source_id="W", title="Calcinosis cutis treated with rituximab")
    load(opened, "scopus", [a])
    load(opened, "wos", [b])
    assert run_dedup(opened).pairs_queued == 1
    (pair,) = pending_pairs(opened)
    decide(opened, pair.a, pair.b, "keep_apart")
    assert pending_pairs(opened) == []
    counts = run_dedup(opened)
    assert (counts.pairs_queued, counts.clusters) == (0, 0)


def test_merge_from_review_survives_a_rerun(tmp_path: Path) -> None:
    opened = open_store(tmp_path / "r.db", create=True)
    a = Record(source="scopus", source_id="S", title="Calcinosis cutis treated with rituximab")
    b = Record(source="wos", source_id="W", title="Calcinosis cutis treated with rituximab")
    load(opened, "scopus", [a])
    load(opened, "wos", [b])
    run_dedup(opened)
    assert decide(opened, 2, 1, "merge") == 1
    assert cluster_membership(opened.conn) == {1: (1, True), 2: (1, False)}
    counts = run_dedup(opened)
    assert (counts.clusters, counts.pairs_queued) == (1, 0)


def test_merge_refused_when_a_person_kept_members_apart(store: Store) -> None:
    run_dedup(store)
    decide(store, 1, 2, "keep_apart")
    with pytest.raises(DedupError) as err:
        decide(store, 3, 2, "merge")
    assert str(err.value) == (
        "cannot merge records 2 and 3: records 1 and 2 of their clusters were kept apart "
        "by a person"
    )


def test_decision_on_unknown_record_is_an_error(store: Store) -> None:
    with pytest.raises(DedupError) as err:
        decide(store, 1, 99, "merge")
    assert str(err.value) == (
        "record 99 does not exist or was withdrawn by its source; "
        "'casepool dedup --export FILE.csv' lists the records"
    )


def test_export_writes_one_row_per_record(store: Store, tmp_path: Path) -> None:
    run_dedup(store)
    out = tmp_path / "clusters.csv"
    assert export_membership(store, out) == 3
    assert out.read_text(encoding="utf-8").splitlines() == [
        "source,source_id,cluster_id,is_primary,record_id",
        "pubmed,1,1,1,1",
        "pubmed,9,2,1,2",
        "embase,E1,1,0,3",
    ]


def test_keep_apart_inside_one_cluster_asks_for_an_undo_first(store: Store) -> None:
    run_dedup(store)
    with pytest.raises(DedupError) as err:
        decide(store, 3, 1, "keep_apart")
    assert str(err.value) == (
        "records 1 and 3 are both in cluster 1; split it first with 'casepool dedup undo 1'"
    )


def test_withdrawn_primary_leaves_the_cluster_with_a_stand_in(store: Store) -> None:
    run_dedup(store)
    with store.transaction() as conn:
        assert mark_deleted(conn, "pubmed", ["1"]) == 1
    assert cluster_membership(store.conn) == {2: (2, True), 3: (1, True)}
    counts = dedup_counts(store.conn)
    assert (counts.records_identified, counts.duplicates_removed) == (2, 0)


def test_new_records_join_existing_clusters_on_rerun(store: Store) -> None:
    run_dedup(store)
    load(store, "scopus", [dataclasses.replace(EMBASE_COPY, source="scopus", source_id="S9")])
    assert cluster_membership(store.conn)[4] == (4, True)
    run_dedup(store)
    assert cluster_membership(store.conn)[4] == (1, False)
