"""export_records: clusters and sources, labels, neutralised cells, and import round trips."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from progress_calls import Recorder
from stores import AT, add_records, clock, link, records_of

from review.dedup.clusters import Membership
from review.errors import ExportError
from review.records import Author, Record
from review.sources.exporting import export_records
from review.sources.importing import import_file
from review.store import Store, open_store, sqlite_url
from review.store.records import insert_records, start_load

DATA = Path(__file__).resolve().parents[2] / "data" / "import"
RIS_FIXTURES = ("embase", "scopus", "wos", "ovid_medline", "zotero", "endnote", "refworks")


def _store(path: Path) -> Store:
    return open_store(sqlite_url(path), create=True)


def _import(store: Store, tmp_path: Path, *names: str) -> None:
    for name in names:
        path = tmp_path / name
        shutil.copyfile(DATA / name, path)
        import_file(store, path, source=name.split(".")[0], clock=clock)


def _by_id(store: Store) -> dict[int, Record]:
    return records_of(store)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_export_has_source_cluster_and_primary_and_all_adds_members(
    store: Store, tmp_path: Path
) -> None:
    _import(store, tmp_path, "embase.ris", "scopus.ris", "pubmed.nbib")
    ids = {(r.source, r.title): i for i, r in _by_id(store).items()}
    embase = ids[("embase", "Rituximab for calcinosis cutis in systemic sclerosis: a case report")]
    scopus = ids[("scopus", "Rituximab for calcinosis cutis in systemic sclerosis: a case report")]
    pubmed = ids[("pubmed", "Rituximab for calcinosis cutis in systemic sclerosis: a case report.")]
    link(store, [embase, scopus, pubmed], pubmed)
    primary = export_records(store, tmp_path / "primary.csv")
    assert (primary.n_records, primary.n_clusters) == (5, 5)
    assert primary.message == (
        f"Wrote 5 primary records (5 clusters) to {tmp_path / 'primary.csv'} (csv)"
    )
    rows = _csv_rows(tmp_path / "primary.csv")
    merged = [r for r in rows if r["cluster_id"] == str(embase)]
    assert [(r["casepool_id"], r["source"], r["is_primary"]) for r in merged] == [
        (str(pubmed), "pubmed", "1")
    ]
    everything = export_records(store, tmp_path / "all.csv", include_all=True)
    assert (everything.n_records, everything.n_clusters) == (7, 5)
    rows = _csv_rows(tmp_path / "all.csv")
    merged = [r for r in rows if r["cluster_id"] == str(embase)]
    assert [(r["source"], r["is_primary"]) for r in merged] == [
        ("pubmed", "1"),
        ("embase", "0"),
        ("scopus", "0"),
    ]


def test_a_primary_without_abstract_is_exported_with_its_duplicates_abstract(
    store: Store, tmp_path: Path
) -> None:
    pubmed = Record(source="pubmed", source_id="1", pmid="1", title="Rituximab and calcinosis")
    embase = Record(
        source="embase",
        source_id="E1",
        pmid="1",
        title="Rituximab and calcinosis",
        abstract="Calcinosis regressed after rituximab.",
    )
    with store.transaction() as tx:
        insert_records(tx, start_load(tx, kind="file", source="pubmed", at=AT), [pubmed])
        insert_records(tx, start_load(tx, kind="file", source="embase", at=AT), [embase])
    ids = {r.source: i for i, r in _by_id(store).items()}
    link(store, [ids["pubmed"], ids["embase"]], ids["pubmed"])
    export_records(store, tmp_path / "primary.csv")
    (row,) = _csv_rows(tmp_path / "primary.csv")
    assert (row["source"], row["abstract"]) == ("pubmed", "Calcinosis regressed after rituximab.")
    export_records(store, tmp_path / "all.csv", include_all=True)
    rows = {r["source"]: r for r in _csv_rows(tmp_path / "all.csv")}
    assert rows["pubmed"]["abstract"] == ""  # --all: each record exactly as its source gave it


def test_csv_and_xlsx_exports_import_back_unchanged(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "embase.ris", "wos.ris", "pubmed.nbib", "asreview.csv")
    originals = sorted(_by_id(store).values(), key=lambda r: (r.source, r.source_id or ""))
    for name in ("back.csv", "back.xlsx"):
        export_records(store, tmp_path / name, include_all=True)
        fresh = _store(tmp_path / f"{name}.db")
        try:
            summary = import_file(fresh, tmp_path / name, source="back", clock=clock)
            assert summary.n_rejected == 0
            back = sorted(
                _by_id(fresh).values(),
                key=lambda r: (dict(r.extra).get("source", ""), r.source_id or ""),
            )
        finally:
            fresh.close()
        assert len(back) == len(originals)
        by_key = {(r.source_id, r.title): r for r in back}
        for original in originals:
            again = by_key[(original.source_id, original.title)]
            expected = replace(original, authors=_without_affiliations(original))
            assert replace(again, source=original.source) == expected, name


@pytest.mark.parametrize("name", ["moved.csv", "moved.xlsx", "moved.ris"])
@pytest.mark.parametrize("include_all", [False, True])
def test_an_export_of_sources_sharing_ids_imports_back(
    store: Store, tmp_path: Path, name: str, include_all: bool
) -> None:
    # Two tools both number their records 1, 2: the ids collide once the export is
    # imported under one --source, so the shared ones are qualified by their source.
    for source, titles in (("asreview", ("Alpha", "Beta")), ("rayyan", ("Gamma", "Delta"))):
        path = tmp_path / f"{source}.csv"
        path.write_text("id,title\n" + "".join(f"{i},{t}\n" for i, t in enumerate(titles, 1)))
        import_file(store, path, source=source, clock=clock)
    extra = tmp_path / "extra.csv"
    extra.write_text("id,title\n7,Epsilon\n")
    import_file(store, extra, source="rayyan", clock=clock)
    export_records(store, tmp_path / name, include_all=include_all)
    fresh = _store(tmp_path / f"{name}.db")
    try:
        summary = import_file(fresh, tmp_path / name, source="moved", clock=clock)
        back = sorted((r.source_id, r.title) for r in _by_id(fresh).values())
    finally:
        fresh.close()
    assert (summary.n_new, summary.n_rejected) == (5, 0)
    assert back == [
        ("7", "Epsilon"),
        ("asreview:1", "Alpha"),
        ("asreview:2", "Beta"),
        ("rayyan:1", "Gamma"),
        ("rayyan:2", "Delta"),
    ]


def _without_affiliations(record: Record) -> tuple[Author, ...]:
    """Author names only: CSV, XLSX and RIS carry no per-author affiliations."""
    return tuple(replace(a, affiliations=()) for a in record.authors)


def test_ris_export_imports_back_unchanged(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, *(f"{n}.ris" for n in RIS_FIXTURES))
    originals = list(_by_id(store).values())
    export_records(store, tmp_path / "back.ris", include_all=True)
    fresh = _store(tmp_path / "back.db")
    try:
        import_file(fresh, tmp_path / "back.ris", source="back", clock=clock)
        back = list(_by_id(fresh).values())
    finally:
        fresh.close()
    assert [replace(r, source="x") for r in back] == [replace(r, source="x") for r in originals]


def test_formula_cells_are_neutralised_in_csv_and_xlsx(store: Store, tmp_path: Path) -> None:
    with store.transaction() as tx:
        load = start_load(tx, kind="file", source="evil", at=AT)
        insert_records(
            tx,
            load,
            [
                Record(
                    source="evil",
                    source_id="1",
                    title='=HYPERLINK("http://x")',
                    journal="@SUM(1)",
                    pages="-12",
                    volume="+3",
                    abstract="\tcmd",
                )
            ],
        )
    export_records(store, tmp_path / "out.csv")
    (row,) = _csv_rows(tmp_path / "out.csv")
    assert (row["title"], row["journal"], row["pages"], row["volume"], row["abstract"]) == (
        '\'=HYPERLINK("http://x")',
        "'@SUM(1)",
        "'-12",
        "'+3",
        "'\tcmd",
    )
    export_records(store, tmp_path / "out.xlsx")
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "out.xlsx")
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    title = sheet.cell(row=2, column=header.index("title") + 1)
    assert (title.value, title.data_type) == ('\'=HYPERLINK("http://x")', "s")
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    book.close()


def test_labels_go_to_n1_as_asreview_writes_them_and_to_the_included_column(
    store: Store, tmp_path: Path
) -> None:
    _import(store, tmp_path, "scopus.ris")
    first, second = sorted(_by_id(store))
    export_records(store, tmp_path / "labelled.ris", labels={first: True, second: False})
    text = (tmp_path / "labelled.ris").read_text(encoding="utf-8")
    assert f"N1  - casepool: record {first}; source scopus; cluster {first} (primary)\n" in text
    assert text.count("N1  - ASReview_relevant") == 1
    assert text.count("N1  - ASReview_irrelevant") == 1
    export_records(store, tmp_path / "labelled.csv", labels={first: True})
    assert [r["included"] for r in _csv_rows(tmp_path / "labelled.csv")] == ["1", ""]


def test_export_format_comes_from_the_extension_or_is_refused(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "zotero.ris")
    assert export_records(store, tmp_path / "x.txt").format == "ris"
    assert export_records(store, tmp_path / "x.dat", fmt="csv").format == "csv"
    with pytest.raises(ExportError, match=r"^unknown export format 'bib'; use ris, csv, xlsx$"):
        export_records(store, tmp_path / "x.csv", fmt="bib")
    with pytest.raises(ExportError) as error:
        export_records(store, tmp_path / "x.bib")
    assert str(error.value) == (
        "x.bib: cannot tell the export format from the extension; give --format ris|csv|xlsx"
    )


def test_a_failed_export_leaves_no_file_behind(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "zotero.ris")
    with pytest.raises(ExportError) as error:
        export_records(store, tmp_path / "missing" / "x.csv")
    assert str(error.value) == (
        f"{tmp_path / 'missing' / 'x.csv'}: the folder {tmp_path / 'missing'} does not exist; "
        "create it or choose another"
    )
    with pytest.raises(ExportError) as error:
        export_records(store, tmp_path)
    assert str(error.value) == (
        f"{tmp_path}: is a folder; give a file name, e.g. {tmp_path / 'records.ris'}"
    )
    target = tmp_path / "keep.csv"
    target.write_text("old")
    with pytest.raises(KeyError):
        export_records(store, target, labels=_Exploding({0: True}))
    assert target.read_text() == "old"
    assert not list(tmp_path.glob(".keep.csv.*"))


class _Exploding(dict[int, bool]):
    """A labels mapping that fails mid-export."""

    def get(self, key: int, default: object = None) -> bool:  # type: ignore[override]
        raise KeyError(key)


_PUBMED_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<PubmedArticleSet><PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">40000002</PMID><Article PubModel="Print"><Journal>
<ISSN IssnType="Electronic">1434-9949</ISSN><JournalIssue CitedMedium="Internet">
<Volume>41</Volume><Issue>2</Issue><PubDate><Year>2022</Year><Month>Feb</Month></PubDate>
</JournalIssue><Title>Clinical rheumatology</Title><ISOAbbreviation>Clin Rheumatol</ISOAbbreviation>
</Journal><ArticleTitle>Calcinosis and <i>B-cell</i> depletion: a series.</ArticleTitle>
<Pagination><MedlinePgn>301-309</MedlinePgn></Pagination>
<ELocationID EIdType="doi" ValidYN="Y">10.1007/s10067-022-06000-1</ELocationID>
<Abstract><AbstractText Label="BACKGROUND">Calcinosis is hard to treat.</AbstractText>
<AbstractText Label="RESULTS">Four of six patients improved.</AbstractText></Abstract>
<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Okafor</LastName><ForeName>Ngozi</ForeName>
<Initials>N</Initials></Author><Author ValidYN="Y"><CollectiveName>Calcinosis Group</CollectiveName>
</Author></AuthorList><Language>eng</Language><PublicationTypeList>
<PublicationType UI="D002363">Case Reports</PublicationType></PublicationTypeList></Article>
<MeshHeadingList><MeshHeading><DescriptorName UI="D002114">Calcinosis</DescriptorName>
</MeshHeading></MeshHeadingList></MedlineCitation></PubmedArticle></PubmedArticleSet>
"""


def test_pubmed_xml_records_round_trip_through_every_export_format(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "pubmed.xml"
    path.write_bytes(_PUBMED_XML)
    import_file(store, path, source="pubmed", clock=clock)
    (original,) = _by_id(store).values()
    assert original.title is not None and original.authors
    for name in ("back.ris", "back.csv", "back.xlsx"):
        export_records(store, tmp_path / name)
        fresh = _store(tmp_path / f"{name}.db")
        try:
            import_file(fresh, tmp_path / name, source="pubmed", clock=clock)
            (again,) = _by_id(fresh).values()
        finally:
            fresh.close()
        assert again == replace(original, authors=_without_affiliations(original)), name


def test_ris_export_writes_medline_page_ranges_in_full_and_csv_keeps_the_field(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "pages.nbib"
    path.write_text("PMID- 1\nTI  - One.\nPG  - 244-55\n\nPMID- 2\nTI  - Two.\nPG  - e24\n")
    import_file(store, path, source="pubmed", clock=clock)
    export_records(store, tmp_path / "out.ris")
    first, second = (tmp_path / "out.ris").read_bytes().split(b"ER  - \r\n")[:2]
    assert b"SP  - 244\r\nEP  - 255\r\n" in first
    assert b"SP  - e24\r\n" in second and b"EP  - " not in second
    export_records(store, tmp_path / "out.csv")
    assert [r["pages"] for r in _csv_rows(tmp_path / "out.csv")] == ["244-55", "e24"]


@pytest.mark.parametrize("name", ["records.ris", "records.csv", "records.xlsx"])
def test_an_export_is_as_readable_as_the_umask_allows(
    store: Store, tmp_path: Path, umask: int, name: str
) -> None:
    _import(store, tmp_path, "zotero.ris")
    export_records(store, tmp_path / name)
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    export_records(store, tmp_path / name)  # replacing an earlier export
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_format_the_extension_does_not_name_is_noted(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "zotero.ris")
    summary = export_records(store, tmp_path / "for-rayyan.xlsx", fmt="csv")
    assert summary.notes == (
        "for-rayyan.xlsx holds CSV (--format csv) but its extension .xlsx says XLSX; programs "
        "that go by the extension will misread it: name it for-rayyan.csv",
    )
    for name, fmt in (("x.ris", "ris"), ("x.txt", "csv"), ("x.dat", "xlsx"), ("x.csv", None)):
        assert export_records(store, tmp_path / name, fmt=fmt).notes == ()


def test_the_xlsx_export_has_a_frozen_filterable_header_and_readable_columns(
    store: Store, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    from review.sources.tabular import EXPORT_COLUMNS

    _import(store, tmp_path, "embase.ris", "scopus.ris")
    export_records(store, tmp_path / "out.xlsx")
    book = load_workbook(tmp_path / "out.xlsx")
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:Z6"  # the header and the 5 records, every column
    assert len(EXPORT_COLUMNS) == 26
    assert all(cell.font.b for cell in sheet[1])
    widths = {
        c: sheet.column_dimensions[sheet.cell(1, i).column_letter].width
        for i, c in enumerate(EXPORT_COLUMNS, start=1)
    }
    assert (widths["title"], widths["abstract"], widths["year"]) == (60, 80, 10)
    assert all(widths[c] >= len(c) + 3 for c in EXPORT_COLUMNS)
    book.close()


@pytest.mark.parametrize("name", ["out.ris", "out.csv", "out.xlsx"])
@pytest.mark.parametrize("include_all", [False, True])
def test_export_progress_counts_the_records_written(
    store: Store, tmp_path: Path, name: str, include_all: bool
) -> None:
    records = [Record(source="s", source_id=str(i), title=f"Record {i}") for i in range(2500)]
    add_records(store, "s", records)
    recorder = Recorder()
    summary = export_records(store, tmp_path / name, include_all=include_all, progress=recorder)
    assert summary.n_records == 2500
    assert recorder.counts_up(f"writing {name}", 2500, "records", updates=4)
    if name.endswith(".xlsx"):
        assert recorder.of(f"compressing {name}") == [(0, None, "steps"), (1, 1, "steps")]
        assert recorder.phases() == [f"writing {name}", f"compressing {name}"]
    else:
        assert recorder.phases() == [f"writing {name}"]


def test_an_export_reads_the_store_a_batch_at_a_time(store: Store, tmp_path: Path) -> None:
    """Memory stays bounded: no more than a batch of clusters is read at once."""
    from review.sources import exporting

    add_records(
        store, "s", [Record(source="s", source_id=str(i), title=f"R {i}") for i in range(2500)]
    )
    batches = list(exporting._batches(exporting.plan_export(_membership(store)).clusters))
    assert [sum(len(ids) for _, ids in batch) for batch in batches] == [1000, 1000, 500]


def _membership(store: Store) -> Membership:
    from review.store.dedup import membership

    with store.read() as tx:
        return membership(tx)
