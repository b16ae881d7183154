"""PubMed XML (EFetch results, baseline and update files) into Records.

Pure: bytes or a binary stream in, ``Record`` and ``DeleteCitation`` out; no network, no
database. Streaming with lxml ``iterparse`` on the record elements, clearing each record and
its preceding siblings once converted, so memory stays constant on a 30,000-record baseline
file. No DTD is ever loaded and no entity is ever resolved: a document that declares entities
(an XML bomb, an external entity as in XXE) or uses one only a DTD could define is refused
with ``UnsafeXMLError``. Other E-utilities replies (ESearch, EPost errors, ...) are refused by
the name of their root element, quoting any ``ERROR`` they carry.

Field choices (NLM's element descriptions, https://www.nlm.nih.gov/bsd/licensee/elements_descriptions.html):

- title and abstract are plain text: inline markup (``<i>``, ``<b>``, ``<sup>``, ``<sub>``,
  ``<u>``) and MathML are flattened to their text, as PubMed's own MEDLINE text format and
  Biopython's ``Entrez.read`` do (``10<sup>6</sup>`` reads ``106``), white space inside
  MathML that only lays out the markup is dropped, and runs of white space become one
  space; a structured abstract keeps one ``LABEL: text`` paragraph per ``AbstractText``
  (the meaningless label ``UNLABELLED`` is dropped), paragraphs joined by newlines;
  ``CopyrightInformation`` and ``OtherAbstract`` are not part of the abstract;
- ``mesh`` holds one entry per ``MeshHeading`` as in the MEDLINE ``MH`` field without the
  major-topic stars: ``Descriptor`` or ``Descriptor/qualifier/qualifier``;
- ``year`` is ``PubDate/Year``, else the first four-digit year of ``MedlineDate``, else the
  year of ``ArticleDate``;
- ``doi`` comes from ``ELocationID EIdType="doi"`` first, else from the record's own
  ``ArticleIdList`` (never from its reference list); authors marked ``ValidYN="N"`` (spelling
  variants NLM keeps for searching) are left out;
- ``language`` joins several ``Language`` codes with ``"; "``;
- ``record_type`` is ``"Journal Article"`` for a ``PubmedArticle``, ``"Book"`` or
  ``"Book Chapter"`` for a ``PubmedBookArticle`` (the book title is then the ``journal``);
- ``extra`` keeps ``("vernacular_title", ...)`` when the record has one;
- ``raw`` is the record's XML as it stood in the input (re-serialised by lxml only when it
  cannot be cut out unambiguously).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from review.errors import ParseError, TruncatedXMLError, UnsafeXMLError
from review.records import (
    Author,
    DeleteCitation,
    Record,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
)

if TYPE_CHECKING:
    from lxml.etree import _Element

__all__ = ["iter_pubmed", "iter_pubmed_file", "open_pubmed_file", "parse_pubmed", "pubmed_stream"]

_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
# Never load a DTD, touch the network or expand an entity (XXE, XML bombs). The parser
# benchmark's bare baseline uses these same options.
SAFE_ITERPARSE_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_ROOT_TAGS = ("PubmedArticleSet", "PubmedBookArticleSet")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_LXML_POSITION = re.compile(r"(?:, line \d+, column \d+)+$")
_DEFAULT_NAME = "PubMed XML"
_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_MATHML_ANY = _MATHML + "*"
_AUTHOR_PARTS = ("Author", "LastName", "ForeName", "Initials", "CollectiveName", "Affiliation")
_MATHML_SPACES = frozenset(_MATHML + name for name in ("mtext", "ms", "mspace"))

_GZIP_MAGIC = b"\x1f\x8b"
_ROOT_START = re.compile(rb"<Pubmed(?:Book)?ArticleSet[\s>]")
_START_TAGS = {tag: re.compile(rb"<" + tag.encode() + rb"[\s>]") for tag in _RECORD_TAGS}
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>", re.DOTALL)


class _Reader:
    """A read-through wrapper that counts bytes and lines and keeps each record's source text.

    ``raw`` slices a record's bytes out of what was read, which is several times faster
    than serialising the element again; when the slice cannot be found unambiguously
    (comments or CDATA near the record, or a document that is not UTF-8) it falls back to
    ``etree.tostring`` for the rest of the document.
    """

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.size = 0
        self.lines = 1
        self.eof = False
        self.head = b""
        self._buffer = bytearray()
        self._pos = 0
        self._capture = True

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        if chunk:
            if not self.size:
                self.head = chunk[:4096]
                declared = _ENCODING.search(self.head)
                utf8 = declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")
                root = _ROOT_START.search(self.head)
                self._capture = utf8 and root is not None
                self._pos = root.start() if root else 0
            self.size += len(chunk)
            self.lines += chunk.count(b"\n")
            if self._capture:
                self._buffer += chunk
        else:
            self.eof = True
        return chunk

    def raw(self, elem: _Element) -> str:
        """The record's XML text as it was read (or re-serialised), without its tail."""
        span = self._span(elem.tag) if self._capture else None
        if span is not None:
            text = self._buffer[span[0] : span[1]].decode("utf-8")
            self._advance(span[1])
            return text
        from lxml import etree

        return cast(str, etree.tostring(elem, encoding="unicode", with_tail=False))

    def skip(self, elem: _Element) -> None:
        """Move past an element whose text is not kept (so the buffer stays small)."""
        span = self._span(elem.tag) if self._capture else None
        if span is not None:
            self._advance(span[1])

    def _span(self, tag: str) -> tuple[int, int] | None:
        buffer = self._buffer
        found = _START_TAGS[tag].search(buffer, self._pos)
        if found:
            close = b"</" + tag.encode() + b">"
            end = buffer.find(close, found.start())
            # a comment or CDATA section could hold a look-alike tag: serialise instead
            # ("!" is rare and found by memchr; "<!" alone would stop at every "<")
            if end >= 0 and (
                buffer.find(b"!", self._pos, end) < 0 or buffer.find(b"<!", self._pos, end) < 0
            ):
                return found.start(), end + len(close)
        self._capture = False
        self._buffer = bytearray()
        return None

    def _advance(self, end: int) -> None:
        self._pos = end
        if end > 1 << 18:
            del self._buffer[:end]
            self._pos = 0


def open_pubmed_file(path: Path | str) -> BinaryIO:
    """Open a ``.xml`` or gzip-compressed ``.xml.gz`` file for reading (by its magic bytes)."""
    path = Path(path)
    try:
        with path.open("rb") as probe:
            magic = probe.read(2)
        if magic == _GZIP_MAGIC:
            return cast(BinaryIO, gzip.open(path, "rb"))
        return path.open("rb")
    except OSError as exc:
        raise ParseError(f"{path}: cannot open: {exc.strerror or exc}") from None


def pubmed_stream(stored: BinaryIO) -> BinaryIO:
    """The XML of an open ``.xml`` or ``.xml.gz`` file (by its magic bytes), read from
    ``stored``, whose position then says how much of the file as stored has been read."""
    head = stored.peek(2)[:2] if hasattr(stored, "peek") else b""
    if head == _GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=stored, mode="rb"))
    return stored


def iter_pubmed_file(path: Path | str) -> Iterator[Record | DeleteCitation]:
    """Stream the records of a PubMed XML file (``.xml`` or ``.xml.gz``); errors name the file."""
    path = Path(path)
    with open_pubmed_file(path) as handle:
        yield from iter_pubmed(handle, name=path.name)


def parse_pubmed(data: bytes, name: str = _DEFAULT_NAME) -> list[Record | DeleteCitation]:
    """All records of an in-memory PubMed XML document (an EFetch response body)."""
    import io

    return list(iter_pubmed(io.BytesIO(data), name=name))


def iter_pubmed(source: BinaryIO, name: str = _DEFAULT_NAME) -> Iterator[Record | DeleteCitation]:
    """Stream ``PubmedArticle``, ``PubmedBookArticle`` and ``DeleteCitation`` elements as records.

    Raises ``ParseError`` naming ``name``, line and column for malformed XML,
    ``TruncatedXMLError`` when the document stops in the middle, and ``UnsafeXMLError`` for
    a document that declares entities. Records before the error have already been yielded.
    """
    from lxml import etree

    reader = _Reader(source)
    etree.clear_error_log()  # lxml's log is per thread; keep only this document's errors
    events = etree.iterparse(
        reader,
        events=("end",),
        tag=_RECORD_TAGS,
        **SAFE_ITERPARSE_OPTIONS,
    )
    last_pmid: str | None = None
    checked = False
    try:
        for _, elem in events:
            if not checked:
                _check_document(elem.getroottree(), name)
                checked = True
            entity = next(elem.iter(etree.Entity), None)
            if entity is not None:
                raise UnsafeXMLError(
                    f"{name}, line {entity.sourceline}: refused: the record uses the entity "
                    f"{entity.text}, which only a DTD defines and which is never expanded here; "
                    "PubMed never sends these, check where the data came from"
                )
            item = _convert(elem, name, reader)
            last_pmid = item.pmids[-1] if isinstance(item, DeleteCitation) else item.pmid
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
            yield item
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, reader, name, last_pmid) from None
    except (OSError, EOFError) as exc:
        raise ParseError(
            f"{name}: cannot read the data after {reader.size} bytes: {exc}; "
            "the file or download is damaged, fetch it again"
        ) from None
    if not checked:
        root = events.root
        if root is not None:
            _check_document(root.getroottree(), name)


def _check_document(tree: Any, name: str) -> None:
    """Refuse entity declarations and documents that are not PubMed article sets."""
    internal = tree.docinfo.internalDTD
    if internal is not None and any(True for _ in internal.iterentities()):
        raise UnsafeXMLError(
            f"{name}: refused: the document declares XML entities (a possible XML bomb or "
            "external entity attack); PubMed never sends these, check where the data came from"
        )
    root = tree.getroot()
    if root.tag in _ROOT_TAGS:
        return
    message = f"{name}: not PubMed article XML: the root element is <{root.tag}>, expected "
    message += "<PubmedArticleSet> (an EFetch result with db=pubmed and retmode=xml)"
    errors = [" ".join(e.text.split()) for e in root.iter("ERROR") if e.text and e.text.strip()]
    if errors:
        message += "; it says: " + "; ".join(errors)
    raise ParseError(message)


def _syntax_error(exc: Any, reader: _Reader, name: str, last_pmid: str | None) -> ParseError:
    """One line naming the place of an XML syntax error, and the last record read before it."""
    after = f"after PMID {last_pmid}" if last_pmid else "before the first complete record"
    if reader.size == 0:
        return TruncatedXMLError(f"{name}: the document is empty; fetch it again")
    message, code = _LXML_POSITION.sub("", str(exc.msg or exc)), exc.code
    line, column = exc.position if exc.position else (0, 0)
    if not line:  # lxml's generic "no element found": the log holds the real error
        logged = [entry for entry in exc.error_log if entry.line > 0]
        if logged:
            message, code = logged[-1].message, logged[-1].type
            line, column = logged[-1].line, logged[-1].column
        else:
            line, column = reader.lines, 0
    if "amplification" in message or "entity reference loop" in message:
        return UnsafeXMLError(
            f"{name}: refused: the document's entities expand without bound (an XML bomb); "
            "PubMed never sends these, check where the data came from"
        )
    root = _FIRST_TAG.search(_PROLOG.sub(b"", reader.head))
    if root and root.group(1).decode("utf-8", "replace") not in _ROOT_TAGS:
        return ParseError(
            f"{name}: not PubMed article XML: the root element is <{root.group(1).decode()}>, "
            "expected <PubmedArticleSet> (and the XML is broken as well)"
        )
    if root is None and not _looks_like_xml(reader.head):
        return ParseError(
            f"{name}: not XML (it does not start with '<'); expected PubMed XML, an EFetch "
            "result with db=pubmed and retmode=xml (RIS, nbib or CSV files go in with "
            "casepool import --format auto)"
        )
    place = f"{name}, line {line}, column {column}"
    if reader.eof and (code == 77 or line >= reader.lines):
        where = f"in the middle of a record ({after})" if last_pmid else "before its first record"
        return TruncatedXMLError(
            f"{place}: XML ends {where}; the file or download is incomplete, fetch it again"
        )
    return ParseError(
        f"{place}: malformed XML: {message} ({after}); the file is damaged there: "
        "fetch it again, or mend that place"
    )


def _looks_like_xml(head: bytes) -> bool:
    """True when the first non-blank character (in UTF-8 or UTF-16) is '<'."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            text = head[len(bom) :].decode(encoding, "ignore")
            return text.lstrip().startswith("<")
    return head.lstrip().startswith(b"<") or head[:2] in (b"<\x00", b"\x00<")


def _convert(elem: _Element, name: str, reader: _Reader) -> Record | DeleteCitation:
    tag = elem.tag
    if tag == "PubmedArticle":
        return _article(elem, name, reader.raw(elem))
    if tag == "PubmedBookArticle":
        return _book(elem, name, reader.raw(elem))
    reader.skip(elem)
    pmids = tuple(p for p in (normalise_pmid(e.text) for e in elem.iterchildren("PMID")) if p)
    return DeleteCitation(pmids=pmids)


def _text(elem: _Element | None) -> str | None:
    """The element's text with inline markup and MathML flattened and white space collapsed."""
    if elem is None:
        return None
    if len(elem) == 0:
        text = elem.text
        if text is None:
            return None
    elif next(elem.iter(_MATHML_ANY), None) is None:
        text = "".join(elem.itertext())
    else:
        parts: list[str] = []
        _flatten(elem, parts, in_math=False)
        text = "".join(parts)
    return " ".join(text.split()) or None


def _flatten(elem: _Element, parts: list[str], in_math: bool) -> None:
    """Collect text in document order; inside MathML, layout white space is not text."""
    tag = str(elem.tag)
    math = in_math or tag.startswith(_MATHML)
    text = elem.text
    if math and tag in _MATHML_SPACES:
        parts.append(text if text and tag != _MATHML + "mspace" else " ")
    elif text and not (math and text.isspace()):
        parts.append(text)
    for child in elem:
        _flatten(child, parts, math)
        if child.tail and not (math and child.tail.isspace()):
            parts.append(child.tail)


def _texts(elems: Any) -> tuple[str, ...]:
    return tuple(t for t in (_text(e) for e in elems) if t)


def _plain(elem: _Element) -> str | None:
    """The stripped text of an element that holds no markup (names, codes, numbers)."""
    text = elem.text
    if text is None:
        return None
    return text.strip() or None


def _plains(elems: Any) -> tuple[str, ...]:
    """The stripped texts of elements that hold no markup, empty ones left out."""
    return tuple(t for t in (_plain(e) for e in elems) if t)


def _pmid(elem: _Element | None, record: _Element, name: str) -> str:
    pmid = normalise_pmid(elem.text) if elem is not None else None
    if pmid is None:
        found = elem.text if elem is not None else None
        raise ParseError(
            f"{name}, line {record.sourceline}: {record.tag} without a valid PMID "
            f"(found {found!r}); the record cannot be identified"
        )
    return pmid


def _article(elem: _Element, name: str, raw: str) -> Record:
    citation = pubmed_data = None
    for child in elem:
        if child.tag == "MedlineCitation":
            citation = child
        elif child.tag == "PubmedData":
            pubmed_data = child
    if citation is None:
        raise ParseError(
            f"{name}, line {elem.sourceline}: PubmedArticle without MedlineCitation; "
            "the record cannot be identified"
        )
    fields: dict[str, Any] = {}
    pmid_elem = None
    keywords: list[str] = []
    for child in citation:
        tag = child.tag
        if tag == "PMID":
            pmid_elem = child
        elif tag == "Article":
            _article_fields(child, fields)
        elif tag == "MeshHeadingList":
            fields["mesh"] = _mesh(child)
        elif tag == "KeywordList":
            keywords.extend(_texts(child))
    pmid = _pmid(pmid_elem, elem, name)
    id_list = None
    if pubmed_data is not None:
        id_list = next(pubmed_data.iterchildren("ArticleIdList"), None)
    ids = _article_ids(id_list)
    if "doi" not in fields:
        fields["doi"] = normalise_doi(ids.get("doi"))
    return Record(
        source="pubmed",
        source_id=pmid,
        pmid=pmid,
        pmcid=normalise_pmcid(ids.get("pmc")),
        keywords=tuple(keywords),
        record_type="Journal Article",
        raw=raw,
        **fields,
    )


def _article_fields(article: _Element, fields: dict[str, Any]) -> None:
    """Fill ``fields`` from MedlineCitation/Article: title, abstract, authors, journal, dates."""
    languages: list[str] = []
    article_year: int | None = None
    for child in article:
        tag = child.tag
        if tag == "Journal":
            _journal_fields(child, fields)
        elif tag == "ArticleTitle":
            fields["title"] = _text(child)
        elif tag == "Abstract":
            fields["abstract"] = _abstract(child)
        elif tag == "AuthorList":
            fields["authors"] = _authors(child)
        elif tag == "Pagination":
            fields["pages"] = _pages(child)
        elif tag == "ELocationID":
            if "doi" not in fields and child.get("EIdType") == "doi":
                doi = normalise_doi(child.text) if child.get("ValidYN", "Y") == "Y" else None
                if doi:
                    fields["doi"] = doi
        elif tag == "Language":
            language = _plain(child)
            if language:
                languages.append(language)
        elif tag == "PublicationTypeList":
            fields["publication_types"] = _plains(child)
        elif tag == "ArticleDate":
            article_year = _year(child.findtext("Year"))
        elif tag == "VernacularTitle":
            vernacular = _text(child)
            if vernacular:
                fields["extra"] = (("vernacular_title", vernacular),)
    if languages:
        fields["language"] = "; ".join(languages)
    if fields.get("year") is None:
        fields["year"] = article_year


def _journal_fields(journal: _Element, fields: dict[str, Any]) -> None:
    for child in journal:
        tag = child.tag
        if tag == "Title":
            fields["journal"] = _text(child)
        elif tag == "ISOAbbreviation":
            fields["journal_iso"] = _plain(child)
        elif tag == "ISSN":
            fields["issn"] = _plain(child)
        elif tag == "JournalIssue":
            for part in child:
                tag = part.tag
                if tag == "Volume":
                    fields["volume"] = _plain(part)
                elif tag == "Issue":
                    fields["issue"] = _plain(part)
                elif tag == "PubDate":
                    fields["year"] = _pub_year(part)


def _book(elem: _Element, name: str, raw: str) -> Record:
    document = elem.find("BookDocument")
    if document is None:
        raise ParseError(
            f"{name}, line {elem.sourceline}: PubmedBookArticle without BookDocument; "
            "the record cannot be identified"
        )
    pmid = _pmid(document.find("PMID"), elem, name)
    book = document.find("Book")
    book_title = _text(book.find("BookTitle")) if book is not None else None
    chapter = _text(document.find("ArticleTitle"))
    ids = _article_ids(document.find("ArticleIdList"))
    ids = {**_article_ids(elem.find("PubmedBookData/ArticleIdList")), **ids}
    doi = None
    for location in document.iter("ELocationID"):
        if location.get("EIdType") == "doi":
            doi = normalise_doi(location.text)
            break
    authors: tuple[Author, ...] = ()
    for author_list in document.iterchildren("AuthorList"):
        if author_list.get("Type", "authors") == "authors":
            authors = _authors(author_list)
    book_authors = book.find("AuthorList") if book is not None else None
    if not authors and book_authors is not None:
        authors = _authors(book_authors)
    pub_date = book.find("PubDate") if book is not None else None
    year = _pub_year(pub_date) if pub_date is not None else None
    return Record(
        source="pubmed",
        source_id=pmid,
        pmid=pmid,
        title=chapter or book_title,
        abstract=_abstract(document.find("Abstract")),
        authors=authors,
        journal=book_title if chapter else None,
        year=year,
        volume=_text(book.find("Volume")) if book is not None else None,
        doi=doi or normalise_doi(ids.get("doi")),
        pmcid=normalise_pmcid(ids.get("pmc")),
        language="; ".join(_plains(document.iterchildren("Language"))) or None,
        record_type="Book Chapter" if chapter else "Book",
        publication_types=_plains(document.iterchildren("PublicationType")),
        keywords=_keywords(document.iterchildren("KeywordList")),
        raw=raw,
    )


def _article_ids(id_list: _Element | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    if id_list is not None:
        for article_id in id_list.iterchildren("ArticleId"):
            kind = article_id.get("IdType")
            if kind and article_id.text and kind not in ids:
                ids[kind] = article_id.text.strip()
    return ids


def _abstract(abstract: _Element | None) -> str | None:
    """Abstract paragraphs as text; structured labels kept as ``LABEL: text``."""
    if abstract is None:
        return None
    paragraphs = []
    for part in abstract.iterchildren("AbstractText"):
        text = _text(part)
        label = part.get("Label")
        if label and label.upper() != "UNLABELLED":
            paragraphs.append(f"{label}: {text}" if text else f"{label}:")
        elif text:
            paragraphs.append(text)
    return "\n".join(paragraphs) or None


def _authors(author_list: _Element) -> tuple[Author, ...]:
    """The list's authors in order, without those NLM marks as invalid (``ValidYN="N"``)."""
    authors: list[Author] = []
    names: list[str | None] = []
    affiliations: list[str] = []
    valid = False
    for elem in author_list.iter(*_AUTHOR_PARTS):
        slot = _AUTHOR_PARTS.index(elem.tag)
        if slot == 0:
            if valid:
                authors.append(_author(names, affiliations))
            valid = elem.get("ValidYN", "Y") == "Y"
            names = [None, None, None, None]
            affiliations = []
        elif valid:
            text = _text(elem)
            if slot < 5:
                names[slot - 1] = text
            elif text:
                affiliations.append(text)
    if valid:
        authors.append(_author(names, affiliations))
    return tuple(authors)


def _author(names: list[str | None], affiliations: list[str]) -> Author:
    return Author(names[0], names[1], names[2], names[3], tuple(affiliations))


def _pub_year(pub_date: _Element) -> int | None:
    year = None
    for part in pub_date:
        if part.tag == "Year" or (part.tag == "MedlineDate" and year is None):
            year = _year(part.text)
    return year


def _year(text: str | None) -> int | None:
    if not text:
        return None
    if len(text) == 4 and text.isdigit():
        return int(text)
    match = _YEAR.search(text)
    return int(match.group()) if match else None


def _pages(pagination: _Element) -> str | None:
    parts = {child.tag: _plain(child) for child in pagination}
    if parts.get("MedlinePgn"):
        return parts["MedlinePgn"]
    start, end = parts.get("StartPage"), parts.get("EndPage")
    return f"{start}-{end}" if start and end else start


def _mesh(heading_list: _Element) -> tuple[str, ...]:
    """One ``Descriptor/qualifier/...`` entry per MeshHeading, as MEDLINE's MH field."""
    headings: list[str] = []
    for elem in heading_list.iter("DescriptorName", "QualifierName"):
        text = (elem.text or "").strip()
        if elem.tag == "DescriptorName":
            headings.append(text)
        elif headings and text:
            headings[-1] += "/" + text
    return tuple(h for h in headings if h)


def _keywords(keyword_lists: Any) -> tuple[str, ...]:
    return tuple(k for kl in keyword_lists for k in _texts(kl.iterchildren("Keyword")))
