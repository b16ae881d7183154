"""The PubMed XML parser: fields, text flattening, errors, safety, streaming, and Biopython.

Fixtures in tests/data/pubmed/ (see its README.md for provenance); documents written inline
here are synthetic and say so.
"""

from __future__ import annotations

import gzip
import io
import re
import tracemalloc
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.errors import ParseError, TruncatedXMLError, UnsafeXMLError
from review.pubmed.pubmed_xml import iter_pubmed, iter_pubmed_file, open_pubmed_file, parse_pubmed
from review.records import Author, DeleteCitation, Record

DATA = Path(__file__).resolve().parents[2] / "data" / "pubmed"
ARTICLE_FIXTURES = ["pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml", "pubmed6.xml"]
ARTICLE_FIXTURES += ["pubmed7.xml", "pubmed20n0014_excerpt.xml"]
MATHML = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'


def records(filename: str) -> list[Record]:
    items = list(iter_pubmed_file(DATA / filename))
    assert all(isinstance(item, Record) for item in items)
    return [item for item in items if isinstance(item, Record)]


def by_pmid(filename: str) -> dict[str, Record]:
    return {r.pmid or "": r for r in records(filename)}


# Synthetic documents -------------------------------------------------------------------


def article(pmid: str = "1", inner: str = "", citation: str = "", data: str = "") -> str:
    """A synthetic PubmedArticle: ``inner`` goes inside Article, ``data`` is PubmedData."""
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="1">{pmid}</PMID>'
        f"<Article>{inner}</Article>{citation}</MedlineCitation>{data}</PubmedArticle>"
    )


def document(*parts: str, prolog: str = "") -> bytes:
    body = "\n".join(parts)
    return (
        f'<?xml version="1.0"?>\n{prolog}<PubmedArticleSet>\n{body}\n</PubmedArticleSet>\n'.encode()
    )


def one(*parts: str) -> Record:
    [item] = parse_pubmed(document(article(inner="".join(parts))))
    assert isinstance(item, Record)
    return item


# Fields of real records ----------------------------------------------------------------


def test_journal_article_fields_from_efetch_fixture() -> None:
    record = records("pubmed4.xml")[0]
    assert (record.source, record.source_id, record.pmid) == ("pubmed", "27797938", "27797938")
    assert record.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
        "pancreatic cancer."
    )
    assert (record.journal, record.journal_iso, record.issn) == ("Gut", "Gut", "1468-3288")
    assert (record.year, record.volume, record.issue, record.pages) == (
        2017,
        "66",
        "6",
        "1116-1122",
    )
    assert (record.doi, record.pmcid) == ("10.1136/gutjnl-2016-312510", "PMC5442267")
    assert (record.language, record.record_type) == ("eng", "Journal Article")
    assert len(record.authors) == 22
    assert record.authors[0] == Author(
        last_name="Bao",
        fore_name="Ying",
        initials="Y",
        affiliations=(
            "Channing Division of Network Medicine, Department of Medicine, Brigham and Women's "
            "Hospital, and Harvard Medical School, Boston, Massachusetts, USA.",
        ),
    )
    assert len(record.authors[2].affiliations) == 2
    assert record.publication_types[:2] == ("Journal Article", "Observational Study")
    assert "Adenocarcinoma/epidemiology/genetics" in record.mesh
    assert "Adult" in record.mesh
    assert record.keywords == ("PANCREATIC CANCER",)
    assert record.extra == ()


def test_structured_abstract_keeps_labels_as_paragraphs() -> None:
    paragraphs = (records("pubmed4.xml")[0].abstract or "").split("\n")
    assert [p.split(":")[0] for p in paragraphs] == [
        "OBJECTIVE",
        "DESIGN",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert paragraphs[0].startswith("OBJECTIVE: Telomere shortening occurs as an early event")
    assert "linkage disequilibrium r2<0.25" in paragraphs[2]


def test_unlabelled_abstract_part_loses_its_meaningless_label() -> None:
    record = by_pmid("pubmed20n0014_excerpt.xml")["419900"]
    first, second = (record.abstract or "").split("\n")
    assert first.startswith("Single cases of genuine colon rectum polypi")
    assert second.startswith("INDICATION: Relapses after polyectomy")
    assert record.extra == (
        ("vernacular_title", "Die kryochirurgische Behandlung der Rektum-Kolon-Polypen."),
    )
    assert record.language == "ger"


def test_baseline_records_take_year_from_medline_date_and_join_languages() -> None:
    records_ = by_pmid("pubmed20n0014_excerpt.xml")
    assert records_["419320"].year == 1979
    assert records_["419320"].abstract is None
    assert records_["421170"].language == "eng; fre"
    assert records_["421170"].pages == "63-5"
    assert records_["407702"].doi == "10.1177/030098587701400408"
    assert records_["407702"].publication_types[0] == "Case Reports"
    assert records_["407702"].mesh[-1] == "Stomach Ulcer/pathology/veterinary"


def test_inline_markup_in_title_is_flattened() -> None:
    record = records("pubmed6.xml")[0]
    assert record.title == (
        'A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and Maximal '
        "Lactate Steady State in Trained Runners. Back to the Old Days?"
    )
    assert "(LEmin), first described" in (record.abstract or "")
    assert "15.0 ± 1.1 km·h-1;" in (record.abstract or "")


def test_mathml_is_flattened_without_its_layout_white_space() -> None:
    assert "maximal oxygen uptake ( V.O2max ) 67.6" in (records("pubmed6.xml")[0].abstract or "")
    abstract = records("pubmed7.xml")[0].abstract or ""
    assert "(1) inhaled He3/Xe129 MRI ventilation" in abstract  # <mml:mtext> </mml:mtext> kept


def test_collective_author_is_kept() -> None:
    authors = records("pubmed7.xml")[0].authors
    assert authors[-1] == Author(collective_name="Canadian Respiratory Research Network")
    assert authors[-1].display == "Canadian Respiratory Research Network"
    assert authors[0].display == "Guo, Fumin"


def test_doi_only_in_reference_list_is_not_the_records_doi() -> None:
    first, second = records("pubmed1.xml")
    assert first.pmid == "12091962" and first.doi is None
    assert second.doi == "10.1016/0005-2795(76)90109-4"


# Synthetic records: markup, dates, DOIs, authors --------------------------------------


def test_title_markup_and_mathml_flatten_to_readable_text() -> None:
    record = one(
        "<ArticleTitle>Effect of CO<sub>2</sub> on <i>E. coli</i>\n  <b>growth</b> at "
        f"<mml:math {MATHML}>\n <mml:msup>\n  <mml:mi>x</mml:mi>\n  <mml:mn>2</mml:mn>\n"
        " </mml:msup>\n</mml:math> and 10<sup>6</sup> cells</ArticleTitle>"
    )
    assert record.title == "Effect of CO2 on E. coli growth at x2 and 106 cells"


@pytest.mark.parametrize(
    ("pub_date", "article_date", "year"),
    [
        ("<Year>2001</Year><Month>Jan</Month>", "", 2001),
        ("<MedlineDate>1998 Dec-1999 Jan</MedlineDate>", "", 1998),
        ("<MedlineDate>Winter 2001-2002</MedlineDate>", "", 2001),
        (
            "<MedlineDate>Spring</MedlineDate>",
            '<ArticleDate DateType="Electronic"><Year>2019</Year></ArticleDate>',
            2019,
        ),
        ("", "", None),
    ],
)
def test_year_from_pub_date_then_medline_date_then_article_date(
    pub_date: str, article_date: str, year: int | None
) -> None:
    journal = f"<Journal><JournalIssue><PubDate>{pub_date}</PubDate></JournalIssue></Journal>"
    assert one(journal, "<ArticleTitle>T</ArticleTitle>", article_date).year == year


ELOCATION = '<ELocationID EIdType="doi" ValidYN="{valid}">{doi}</ELocationID>'
ID_LIST = '<PubmedData><ArticleIdList><ArticleId IdType="doi">{doi}</ArticleId></ArticleIdList>'
REFERENCE = (
    "<ReferenceList><Reference><Citation>x</Citation><ArticleIdList>"
    '<ArticleId IdType="doi">10.9999/reference</ArticleId></ArticleIdList></Reference>'
    "</ReferenceList>"
)


@pytest.mark.parametrize(
    ("inner", "data", "doi"),
    [
        (
            ELOCATION.format(valid="Y", doi="10.1000/EL"),
            ID_LIST.format(doi="10.1000/id"),
            "10.1000/el",
        ),
        ("", ID_LIST.format(doi="https://doi.org/10.1000/ID") + "</PubmedData>", "10.1000/id"),
        (
            ELOCATION.format(valid="N", doi="10.1000/bad"),
            ID_LIST.format(doi="10.1000/id"),
            "10.1000/id",
        ),
        ('<ELocationID EIdType="pii">S0140-6736</ELocationID>', "<PubmedData>" + REFERENCE, None),
    ],
    ids=["elocation-first", "article-id-list", "invalid-elocation-skipped", "never-references"],
)
def test_doi_from_elocation_id_before_article_id_list(
    inner: str, data: str, doi: str | None
) -> None:
    if data and not data.endswith("</PubmedData>"):
        data += "</PubmedData>"
    [record] = parse_pubmed(document(article(inner=inner, data=data)))
    assert isinstance(record, Record)
    assert record.doi == doi


def test_invalid_author_spellings_are_left_out_and_affiliations_kept() -> None:
    authors = one(
        "<AuthorList>"
        '<Author ValidYN="Y"><LastName>Smith</LastName><ForeName>Ann B</ForeName>'
        "<Initials>AB</Initials><AffiliationInfo><Affiliation>Dept A, <i>Uni</i> X.</Affiliation>"
        "</AffiliationInfo><AffiliationInfo><Affiliation>Dept B.</Affiliation></AffiliationInfo>"
        '</Author><Author ValidYN="N"><LastName>Smyth</LastName></Author>'
        "<Author><CollectiveName>The <i>TEST</i> Group</CollectiveName></Author></AuthorList>"
    ).authors
    assert authors == (
        Author("Smith", "Ann B", "AB", None, ("Dept A, Uni X.", "Dept B.")),
        Author(collective_name="The TEST Group"),
    )


def test_mesh_keywords_and_pages_from_start_and_end_page() -> None:
    citation = (
        '<MeshHeadingList><MeshHeading><DescriptorName UI="D1">Scleroderma, Systemic'
        '</DescriptorName><QualifierName UI="Q1">drug therapy</QualifierName><QualifierName '
        'UI="Q2">complications</QualifierName></MeshHeading><MeshHeading><DescriptorName UI="D2">'
        "Humans</DescriptorName></MeshHeading></MeshHeadingList>"
        '<KeywordList Owner="NOTNLM"><Keyword>calcinosis</Keyword><Keyword>rituximab</Keyword>'
        '</KeywordList><KeywordList Owner="NLM"><Keyword><i>case</i> report</Keyword></KeywordList>'
    )
    pages = "<Pagination><StartPage>e12</StartPage><EndPage>e19</EndPage></Pagination>"
    [record] = parse_pubmed(document(article(inner=pages, citation=citation)))
    assert isinstance(record, Record)
    assert record.mesh == ("Scleroderma, Systemic/drug therapy/complications", "Humans")
    assert record.keywords == ("calcinosis", "rituximab", "case report")
    assert record.pages == "e12-e19"


def test_delete_citation_withdraws_pmids_after_the_articles() -> None:
    delete = (
        '<DeleteCitation><PMID Version="1">30000001</PMID><PMID Version="1">0030000002</PMID>'
        "</DeleteCitation>"
    )
    items = parse_pubmed(document(article("11"), article("12"), delete))
    assert [type(i).__name__ for i in items] == ["Record", "Record", "DeleteCitation"]
    assert items[2] == DeleteCitation(pmids=("30000001", "30000002"))


BOOK = """<PubmedBookArticle><BookDocument><PMID Version="1">20301295</PMID>
<ArticleIdList><ArticleId IdType="bookaccession">NBK1116</ArticleId></ArticleIdList>
<Book><Publisher><PublisherName>University of Washington, Seattle</PublisherName></Publisher>
<BookTitle book="gene">GeneReviews<sup>®</sup></BookTitle><PubDate><Year>1993</Year></PubDate>
<AuthorList Type="editors"><Author><LastName>Adam</LastName><ForeName>Margaret P</ForeName>
</Author></AuthorList></Book>{chapter}<Language>eng</Language>
<AuthorList Type="authors"><Author><LastName>Pagon</LastName><Initials>RA</Initials></Author>
</AuthorList><PublicationType UI="D016454">Review</PublicationType>
<Abstract><AbstractText Label="CLINICAL CHARACTERISTICS">Text.</AbstractText></Abstract>
</BookDocument><PubmedBookData><ArticleIdList><ArticleId IdType="pubmed">20301295</ArticleId>
<ArticleId IdType="doi">10.1000/book</ArticleId></ArticleIdList></PubmedBookData>
</PubmedBookArticle>"""


def test_book_chapter_becomes_a_record_with_the_book_as_journal() -> None:
    chapter = '<ArticleTitle book="gene" part="x">Fanconi Anemia</ArticleTitle>'
    [record] = parse_pubmed(document(BOOK.format(chapter=chapter)))
    assert isinstance(record, Record)
    assert (record.pmid, record.title, record.journal) == (
        "20301295",
        "Fanconi Anemia",
        "GeneReviews®",
    )
    assert (record.record_type, record.year, record.doi, record.language) == (
        "Book Chapter",
        1993,
        "10.1000/book",
        "eng",
    )
    assert record.authors == (Author(last_name="Pagon", initials="RA"),)
    assert record.abstract == "CLINICAL CHARACTERISTICS: Text."
    assert record.publication_types == ("Review",)
    assert (record.raw or "").startswith("<PubmedBookArticle><BookDocument>")


def test_whole_book_takes_the_book_title() -> None:
    [record] = parse_pubmed(document(BOOK.format(chapter="")))
    assert isinstance(record, Record)
    assert (record.title, record.journal, record.record_type) == ("GeneReviews®", None, "Book")


# Raw XML -------------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ARTICLE_FIXTURES)
def test_raw_xml_parses_back_to_the_same_record(filename: str) -> None:
    for record in records(filename):
        raw = record.raw or ""
        assert raw.startswith("<PubmedArticle>") and raw.endswith("</PubmedArticle>")
        [again] = parse_pubmed(document(raw))
        assert again == record


def test_raw_xml_is_the_source_text_of_the_record() -> None:
    raw = records("pubmed6.xml")[0].raw or ""
    assert "disused &quot;Minimum Lactate Equivalent&quot; (LE<sub>min</sub>)" in raw
    assert raw.startswith("<PubmedArticle>\n    <MedlineCitation Status=")


def test_raw_xml_is_never_taken_from_a_comment_that_looks_like_a_record() -> None:
    decoy = "<!-- <PubmedArticle> withdrawn </PubmedArticle> -->"
    items = parse_pubmed(document(article("1"), decoy, article("2"), article("3")))
    raws = [item.raw or "" for item in items if isinstance(item, Record)]
    assert [r[r.index("<PMID") :][:30] for r in raws] == [
        f'<PMID Version="1">{pmid}</PMID>' + "<Art" for pmid in "123"
    ]
    assert not any("withdrawn" in r for r in raws)


def test_raw_xml_of_a_latin1_document_is_serialised_from_the_tree() -> None:
    data = document(article("7", "<ArticleTitle>Caf\u00e9 &amp; cr\u00e8me</ArticleTitle>"))
    data = data.decode().replace('version="1.0"', 'version="1.0" encoding="ISO-8859-1"')
    [record] = parse_pubmed(data.encode("latin-1"))
    assert isinstance(record, Record)
    assert record.title == "Caf\u00e9 & cr\u00e8me"
    assert "<ArticleTitle>Caf\u00e9 &amp; cr\u00e8me</ArticleTitle>" in (record.raw or "")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
            st.sampled_from([None, "i", "b", "sup", "sub", "u"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_flattened_title_is_the_text_with_white_space_collapsed(
    parts: list[tuple[str, str | None]],
) -> None:
    xml = "".join(
        escape(text) if tag is None else f"<{tag}>{escape(text)}</{tag}>" for text, tag in parts
    )
    record = one(f"<ArticleTitle>{xml}</ArticleTitle>")
    expected = " ".join("".join(text for text, _ in parts).split()) or None
    assert record.title == expected
    assert record.raw is not None and f"<ArticleTitle>{xml}</ArticleTitle>" in record.raw


# Files ---------------------------------------------------------------------------------


def test_gzip_and_plain_files_give_the_same_records(tmp_path: Path) -> None:
    packed = tmp_path / "efetch.xml.gz"
    packed.write_bytes(gzip.compress((DATA / "pubmed2.xml").read_bytes()))
    assert list(iter_pubmed_file(packed)) == list(iter_pubmed_file(DATA / "pubmed2.xml"))
    with open_pubmed_file(packed) as handle:
        assert handle.read(5) == b"<?xml"


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as error:
        list(iter_pubmed_file(tmp_path / "nothing.xml"))
    assert str(error.value) == f"{tmp_path / 'nothing.xml'}: cannot open: No such file or directory"


def test_damaged_gzip_names_the_file(tmp_path: Path) -> None:
    packed = tmp_path / "cut.xml.gz"
    packed.write_bytes(gzip.compress((DATA / "pubmed4.xml").read_bytes())[:3000])
    with pytest.raises(ParseError) as error:
        list(iter_pubmed_file(packed))
    assert str(error.value).startswith("cut.xml.gz: cannot read the data after ")
    assert str(error.value).endswith(
        "Compressed file ended before the end-of-stream marker was reached; "
        "the file or download is damaged, fetch it again"
    )


# Errors --------------------------------------------------------------------------------


def test_truncated_document_names_line_column_and_last_complete_pmid() -> None:
    data = (DATA / "pubmed2.xml").read_bytes()
    cut = data[: data.index(b"<PMID", data.index(b"</PubmedArticle>")) + 30]
    lines = cut.split(b"\n")
    assert (len(lines), len(lines[-1].decode()) + 1) == (4, 6921)  # just past the last byte
    with pytest.raises(TruncatedXMLError) as error:
        parse_pubmed(cut, name="efetch.xml")
    assert str(error.value) == (
        "efetch.xml, line 4, column 6921: XML ends in the middle of a record (after PMID "
        "11748933); the file or download is incomplete, fetch it again"
    )


def test_records_before_an_error_are_delivered_first() -> None:
    data = document(article("1"), article("2")).replace(b"</PubmedArticleSet>", b"<Pub")
    seen: list[str] = []
    with pytest.raises(TruncatedXMLError, match=r"line 6, column 1: .*\(after PMID 2\)"):
        seen.extend(r.pmid or "" for r in iter_pubmed(io.BytesIO(data)) if isinstance(r, Record))
    assert seen == ["1", "2"]


def test_malformed_xml_names_the_place_and_the_problem() -> None:
    data = document(article("5"), article("6", "<ArticleTitle>x</Title>"))
    with pytest.raises(ParseError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert not isinstance(error.value, TruncatedXMLError)
    assert str(error.value) == (
        "efetch.xml, line 4, column 108: malformed XML: Opening and ending tag mismatch: "
        "ArticleTitle line 4 and Title (after PMID 5); the file is damaged there: "
        "fetch it again, or mend that place"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "efetch.xml: the document is empty; fetch it again"),
        (
            b"Service unavailable",
            "efetch.xml: not XML (it does not start with '<'); expected PubMed XML, an EFetch "
            "result with db=pubmed and retmode=xml (RIS, nbib or CSV files go in with "
            "casepool import --format auto)",
        ),
        (
            b"<html><body>502 Bad Gateway</body></html>",
            "efetch.xml: not PubMed article XML: the root element is <html>, expected "
            "<PubmedArticleSet> (an EFetch result with db=pubmed and retmode=xml)",
        ),
        (
            b"\xff\xfe<\x00",
            "efetch.xml, line 1, column 2: XML ends before its first record; "
            "the file or download is incomplete, fetch it again",
        ),
    ],
    ids=["empty", "text", "html", "utf16-cut"],
)
def test_bodies_that_are_not_pubmed_xml(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert str(error.value) == message


NOT_ARTICLES = "not PubMed article XML: the root element is <{root}>, expected <PubmedArticleSet>"


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        (
            "esearch2.xml",
            NOT_ARTICLES.format(root="eSearchResult")
            + " (an EFetch result with db=pubmed and retmode=xml)",
        ),
        (
            "esummary1.xml",
            NOT_ARTICLES.format(root="eSummaryResult")
            + " (an EFetch result with db=pubmed and retmode=xml)",
        ),
        (
            "epost2.xml",
            NOT_ARTICLES.format(root="ePostResult")
            + " (an EFetch result with db=pubmed and retmode=xml); it says: Invalid db name "
            "specified: nothing",
        ),
        (
            "einfo4.xml",
            NOT_ARTICLES.format(root="eInfoResult") + " (and the XML is broken as well)",
        ),
    ],
)
def test_other_eutilities_replies_are_refused_by_name(filename: str, message: str) -> None:
    with pytest.raises(ParseError) as error:
        list(iter_pubmed_file(DATA / filename))
    assert str(error.value) == f"{filename}: {message}"


def test_record_without_pmid_is_refused() -> None:
    data = document(article("1"), article("abc"))
    with pytest.raises(ParseError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert str(error.value) == (
        "efetch.xml, line 4: PubmedArticle without a valid PMID (found 'abc'); "
        "the record cannot be identified"
    )


# Safety --------------------------------------------------------------------------------

LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BOMB = f'<!DOCTYPE PubmedArticleSet [<!ENTITY lol0 "lol">{LAUGHS}]>\n'
UNSAFE = (
    "efetch.xml: refused: the document declares XML entities (a possible XML bomb or external "
    "entity attack); PubMed never sends these, check where the data came from"
)


def test_billion_laughs_is_refused_not_expanded() -> None:
    data = document(article(inner="<ArticleTitle>&lol9;</ArticleTitle>"), prolog=BOMB)
    with pytest.raises(UnsafeXMLError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert str(error.value) == (
        "efetch.xml: refused: the document's entities expand without bound (an XML bomb); "
        "PubMed never sends these, check where the data came from"
    )


def test_declared_but_unused_bomb_is_refused() -> None:
    with pytest.raises(UnsafeXMLError) as error:
        parse_pubmed(document(article(), prolog=BOMB), name="efetch.xml")
    assert str(error.value) == UNSAFE


@pytest.mark.parametrize(
    "entity",
    ['SYSTEM "file:///etc/passwd"', 'SYSTEM "http://127.0.0.1:9/x"', '"harmless"'],
    ids=["file", "http", "internal"],
)
def test_entity_declarations_are_refused_and_never_resolved(entity: str) -> None:
    prolog = f"<!DOCTYPE PubmedArticleSet [<!ENTITY xxe {entity}>]>\n"
    data = document(article(inner="<ArticleTitle>A &xxe; B</ArticleTitle>"), prolog=prolog)
    with pytest.raises(UnsafeXMLError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert str(error.value) == UNSAFE
    assert "root:" not in str(error.value)


def test_entity_from_an_external_dtd_is_neither_loaded_nor_expanded(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "EXPANDED">')
    prolog = f'<!DOCTYPE PubmedArticleSet SYSTEM "{dtd.as_uri()}">\n'
    data = document(article(inner="<ArticleTitle>A &secret; B</ArticleTitle>"), prolog=prolog)
    with pytest.raises(UnsafeXMLError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert str(error.value) == (
        "efetch.xml, line 4: refused: the record uses the entity &secret;, which only a DTD "
        "defines and which is never expanded here; PubMed never sends these, check where the "
        "data came from"
    )


def test_undefined_entity_is_malformed_xml_at_its_place() -> None:
    prolog = "<!DOCTYPE PubmedArticleSet [<!ELEMENT PubmedArticleSet ANY>]>\n"
    data = document(
        article("8"), article(inner="<ArticleTitle>A &secret; B</ArticleTitle>"), prolog=prolog
    )
    with pytest.raises(ParseError) as error:
        parse_pubmed(data, name="efetch.xml")
    assert str(error.value) == (
        "efetch.xml, line 5, column 109: malformed XML: Entity 'secret' not defined "
        "(after PMID 8); the file is damaged there: fetch it again, or mend that place"
    )


def test_http_doctype_of_the_baseline_is_not_fetched() -> None:
    head = (DATA / "pubmed20n0014_excerpt.xml").read_bytes()[:200]
    assert b'"http://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd"' in head
    assert len(records("pubmed20n0014_excerpt.xml")) == 4  # offline; would fail if fetched


# Streaming -----------------------------------------------------------------------------


class EndlessArticles(io.RawIOBase):
    """A synthetic stream of ``count`` small articles (or endless), counting bytes read."""

    def __init__(self, count: int | None = None) -> None:
        self.pending = b'<?xml version="1.0"?>\n<PubmedArticleSet>\n'
        self.count = count
        self.made = 0
        self.finished = False
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while len(self.pending) < len(buffer) and (self.count is None or self.made < self.count):
            self.made += 1
            self.pending += (
                article(
                    str(self.made),
                    "<ArticleTitle>A case report.</ArticleTitle>" + "<Language>eng</Language>" * 20,
                ).encode()
                + b"\n"
            )
        if self.count is not None and self.made == self.count and not self.finished:
            self.pending += b"</PubmedArticleSet>\n"
            self.finished = True
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        self.bytes_read += size
        return size


def test_records_stream_before_the_input_ends() -> None:
    stream = EndlessArticles()
    first = list(islice(iter_pubmed(io.BufferedReader(stream)), 3))
    assert [r.pmid for r in first if isinstance(r, Record)] == ["1", "2", "3"]
    assert stream.bytes_read < 200_000


class SpyParser:
    """Wraps lxml's iterparse to remember the last element it handed out."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last: Any = None

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for event, elem in self.inner:
            self.last = elem
            yield event, elem

    @property
    def root(self) -> Any:
        return self.inner.root


def test_parsed_records_are_cleared_from_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    from lxml import etree

    spies: list[SpyParser] = []
    original = etree.iterparse

    def spy(*args: Any, **kwargs: Any) -> SpyParser:
        spies.append(SpyParser(original(*args, **kwargs)))
        return spies[-1]

    monkeypatch.setattr(etree, "iterparse", spy)
    shapes = set()
    for record in islice(iter_pubmed(io.BufferedReader(EndlessArticles())), 2000):
        assert isinstance(record, Record)
        last = spies[0].last
        shapes.add((last.getprevious() is None, len(last)))
        assert len(last.getparent()) < 100  # the rest were read ahead in the current chunk
    assert shapes == {(True, 0)}  # nothing before the record just yielded, and it is empty


def test_memory_stays_flat_over_many_records() -> None:
    stream = io.BufferedReader(EndlessArticles(count=10_000))
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_pubmed(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 10_000
    assert peak < 2_000_000


def test_memory_stays_flat_over_a_long_list_of_deletions() -> None:
    delete = '<DeleteCitation><PMID Version="1">{}</PMID></DeleteCitation>'
    data = document(article("1"), *(delete.format(n) for n in range(1, 50_001)))
    assert len(data) > 3_000_000
    tracemalloc.start()
    try:
        items = iter_pubmed(io.BytesIO(data))
        count = sum(1 for item in items if isinstance(item, DeleteCitation))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < 2_000_000


# Biopython as the independent check -----------------------------------------------------


def biopython_titles_and_dois(data: bytes) -> list[tuple[str, str | None, str | None]]:
    """PMID, title and DOI of every article as ``Bio.Entrez.read`` sees them (markup removed)."""
    from Bio import Entrez

    from review.records import normalise_doi

    parsed = Entrez.read(io.BytesIO(data))
    rows = []
    for item in parsed["PubmedArticle"]:
        citation = item["MedlineCitation"]
        title = re.sub(r"<[^>]+>", "", str(citation["Article"]["ArticleTitle"]))
        dois = [
            str(e)
            for e in citation["Article"].get("ELocationID", [])
            if e.attributes.get("EIdType") == "doi" and e.attributes.get("ValidYN", "Y") == "Y"
        ]
        dois += [
            str(i)
            for i in item["PubmedData"].get("ArticleIdList", [])
            if i.attributes.get("IdType") == "doi"
        ]
        rows.append(
            (
                str(citation["PMID"]),
                " ".join(title.split()) or None,
                normalise_doi(dois[0]) if dois else None,
            )
        )
    return rows


@pytest.mark.parametrize("filename", ARTICLE_FIXTURES)
def test_biopython_agrees_on_pmid_title_and_doi(
    filename: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import Bio.Entrez.Parser

    def no_network(url: str) -> None:
        raise AssertionError(f"Biopython tried to fetch {url}")

    monkeypatch.setattr(Bio.Entrez.Parser, "urlopen", no_network)
    data = (DATA / filename).read_bytes()
    # Biopython refuses http:// DTD ids; its local copy of the same DTD is found by name.
    data = data.replace(b'"http://dtd.nlm.nih.gov/', b'"https://dtd.nlm.nih.gov/', 1)
    ours = [(r.pmid, r.title, r.doi) for r in records(filename)]
    assert ours == biopython_titles_and_dois(data)
