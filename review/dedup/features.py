"""Normalisation for deduplication: the comparable form of a record's title, authors, journal,
volume, pages and kind (article, erratum, comment, reply, retraction, conference abstract).

Pure functions, no I/O. The rules follow the error sources that Rathbone et al. (2015) and the
bib-dedupe authors (Wagner et al.) describe: case, accents, punctuation, HTML, translated-title
brackets and "[Article in Spanish]" suffixes, ISO journal abbreviations, abbreviated page ranges.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from review.pages import full_last_page
from review.records import Record, doi_list

Kind = Literal["article", "erratum", "comment", "reply", "retraction", "conference"]

_TAG = re.compile(r"<[^>]{1,200}>")
_LANGUAGE_NOTE = re.compile(
    r"\[(?:(?:article|text)\s+in\s+[a-z ,]+|[a-z]+(?:\s+(?:and|with)\s+[a-z]+)?"
    r"(?:\s+abstract)?|in\s+process\s+citation|see\s+comments?|editorial|letter|\d+\s+refs?)\]"
    r"\.?\s*$",
    re.IGNORECASE,
)
_EDITORIAL_NOTE = re.compile(
    r"\s*\[(?:erratum|comment|corrected|retracted|retraction|update|see)\b[^\]]*\]\.?", re.I
)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_STOPWORDS = frozenset(
    {"the", "of", "and", "for", "in", "on", "de", "la", "le", "des", "der", "und"}
)
_CONFERENCE_PART = re.compile(r"\.\s*(?:conference|congress|meeting)\b", re.IGNORECASE)
_JOURNAL_DROP = re.compile(r"\([^)]*\)|\[[^]]*\]")
_RETRACTED_PREFIX = re.compile(r"^\s*(?:retracted(?:\s+article)?|withdrawn)\s*[:.]\s*", re.I)

_ERRATUM = re.compile(
    r"^\s*(?:erratum|errata|corrigendum|corrigenda|correction|corrections|"
    r"publisher'?s?\s+(?:note|erratum|correction)|author\s+correction)\b",
    re.IGNORECASE,
)
_ERRATUM_CITATION = re.compile(r"\(\s*vol\s+\d+\s*,\s*pg\s+\w+\s*,\s*\d{4}\s*\)", re.I)
_RETRACTION = re.compile(
    r"^\s*(?:retraction|notice\s+of\s+retraction|retraction\s+note|expression\s+of\s+concern|"
    r"withdrawal\s+notice|notice\s+of\s+withdrawal)\b",
    re.IGNORECASE,
)
_COMMENT = re.compile(
    r"^\s*(?:comments?\s+(?:on|to)|commentary\s+(?:on|to)|re\s*:|letter\s+(?:to\s+the\s+editor\s+)?"
    r"(?:regarding|concerning|re|about|on)\b|editorial\s+comment)",
    re.IGNORECASE,
)
_REPLY = re.compile(
    r"^\s*(?:reply|response|in\s+reply|authors?'?\s+(?:reply|response)|rebuttal)\b"
    r"|[:.\-–—]\s*(?:reply|authors?'?\s+reply|response\s+to\s+comment)\s*\.?\s*$",
    re.IGNORECASE,
)
_CONFERENCE_TYPES = frozenset(
    {
        "inproceedings",
        "conference",
        "proceedings",
        "conf",
        "cpaper",
        "abst",
        "meeting abstract",
        "congress",
        "conference abstract",
        "conference paper",
        "conference proceeding",
    }
)
_CONFERENCE_VENUE = re.compile(
    r"\b(?:conference|congress|meeting|symposium|proceedings|workshop|annual\s+scientific)\b",
    re.IGNORECASE,
)
_NOTICE_TYPES: dict[str, Kind] = {
    "published erratum": "erratum",
    "erratum": "erratum",
    "correction": "erratum",
    "retraction of publication": "retraction",
    "retraction notice": "retraction",
    "expression of concern": "retraction",
    "comment": "comment",
    "commentary": "comment",
}


def fold(text: str | None) -> str:
    """Lower case ASCII words separated by single spaces: HTML tags and entities, accents and
    punctuation removed (so "Hémolytic–Uremic <i>Syndrome</i>" -> "hemolytic uremic syndrome")."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():
        return " ".join(_NON_WORD.sub(" ", text.lower()).split())
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("ł", "l")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def normalise_title(title: str | None) -> str:
    """The folded title without language notes ("[Article in Spanish]", "[Polish]"), without
    MEDLINE's brackets around translated titles and without a "Retracted:" label."""
    if not title:
        return ""
    text = _EDITORIAL_NOTE.sub(" ", html.unescape(_TAG.sub(" ", title))).strip()
    for _ in range(4):
        stripped = _LANGUAGE_NOTE.sub("", text).strip()
        if stripped == text:
            break
        text = stripped
    text = _RETRACTED_PREFIX.sub("", text)
    text = text.strip().rstrip(".").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return fold(text)


_NUMBER_WORD = re.compile(r"\d+|\b(?:i{1,3}|iv|vi{0,3}|ix|x)\b")


def title_numbers(title: str) -> frozenset[str]:
    """The numbers in a normalised title, Arabic (also inside words: "D2", "CO2") or Roman
    ("FOCUS 1" vs "FOCUS 2", "Part II"): titles that differ in a number are usually two papers."""
    return frozenset(_NUMBER_WORD.findall(title))


def journal_tokens(journal: str | None) -> tuple[str, ...]:
    """Journal name as significant words ("The Journal of Clinical Pathology (London)" ->
    ('journal', 'clinical', 'pathology')); '&' counts as 'and', which is dropped."""
    if not journal:
        return ()
    text = _JOURNAL_DROP.sub(" ", html.unescape(journal))
    text = _CONFERENCE_PART.split(text)[0].split(":")[0].replace("&", " and ")
    words = [w for w in fold(text).split() if w not in _STOPWORDS]
    while words and words[-1] in _SUPPLEMENT_WORDS:  # "Journal of X Supplements"
        words.pop()
    if " ".join(words) in PLACEHOLDERS:
        return ()
    return tuple(words)


_SUPPLEMENT_WORDS = frozenset({"supplement", "supplements", "suppl", "supp", "supplementum"})


def journals_compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """True when one journal name can be an abbreviation of the other: the same number of
    significant words and each word of one a prefix of the word in the other ("J Clin Pathol"
    ~ "Journal of Clinical Pathology"), or the same words run together ("Bio medica")."""
    if not a or not b:
        return False
    if a == b or "".join(a) == "".join(b):
        return True
    if len(a) != len(b):
        return False
    return all(x.startswith(y) or y.startswith(x) for x, y in zip(a, b, strict=True))


_ROMAN = re.compile(r"^[ivxlc]+$")


PLACEHOLDERS = frozenset(
    {"", "unknown", "na", "n a", "none", "null", "nd", "n d", "not available", "no pagination"}
)
"""What exports write for a missing value (CoLRev writes UNKNOWN): it says nothing."""
_MONTH_WORD = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE
)


def normalise_volume(volume: str | None) -> str:
    """The volume's leading number ("Vol. 108", "108 (Pt 2)" -> "108"), or its folded text;
    "" for a placeholder (UNKNOWN) or a date that proceedings give as their volume
    ("2018-September")."""
    text = fold(volume)
    if text in PLACEHOLDERS or _MONTH_WORD.search(text):
        return ""
    match = re.search(r"\d+", text)
    if match:
        return str(int(match.group()))
    return text


_SUPPLEMENT = re.compile(r"\b(?:suppl(?:ement)?s?|supp|sup|s)\s*(\d*)", re.IGNORECASE)


def normalise_issue(issue: str | None) -> tuple[str, str]:
    """The issue as (number, supplement): "3" -> ("3", ""); "4 Suppl 1", "4 SUPPL. 1",
    "4 Supplement 1", "4S1" -> ("4", "s1"); "Suppl 2", "S2" -> ("", "s2"); a bare "Suppl"
    -> ("", "s"); a placeholder -> ("", "")."""
    text = fold(issue)
    if text in PLACEHOLDERS:
        return "", ""
    supplement = ""
    found = _SUPPLEMENT.search(text)
    if found:
        supplement = "s" + (str(int(found.group(1))) if found.group(1) else "")
        text = (text[: found.start()] + " " + text[found.end() :]).strip()
    number = re.match(r"\d+", text)
    main = str(int(number.group())) if number else ("" if not text else text.split()[0])
    return main, supplement


# Items that recur under the same title in issue after issue of a journal (editorials,
# notices, columns); the same title is no evidence that two records are one item.
_RECURRING = re.compile(
    r"^(?:(?:guest\s+)?editorials?|editors?(?:\s+s)?\s+(?:comments?|notes?|choice|"
    r"introduction|preface|message|page|corner|desk|letter)|(?:a\s+)?letters?\s+from\s+the\s+"
    r"(?:editors?|president|chair)|from\s+the\s+(?:editors?|president|chair)(?:\s+s)?"
    r"(?:\s+desk)?|in\s+this\s+issue|this\s+issue|presidents?(?:\s+s)?\s+(?:message|column|"
    r"letter|report)|(?:society|association|member|college)\s+news|news(?:\s+and\s+views)?"
    r"|announcements?|meeting\s+(?:announcements?|reports?|calendar)|calendar(?:\s+of\s+"
    r"events)?|upcoming\s+(?:meetings|events)|book\s+reviews?|reviewers?(?:\s+acknowledg\w+)?"
    r"|acknowledg\w+(?:\s+to\s+reviewers)?|thanks?\s+to\s+(?:our\s+)?reviewers"
    r"|(?:table\s+of\s+)?contents|index(?:\s+to\s+volume\s+\d+)?|masthead|cover"
    r"|front\s+matter|back\s+matter|introduction|preface|foreword|obituary|in\s+memoriam"
    r"|errat(?:um|a)|corrigend(?:um|a)|correction|highlights|abstracts|poster\s+(?:session|"
    r"presentations?|abstracts)|oral\s+(?:presentations?|abstracts))(?:\s+\d+)?$",
)
"""Folded titles ("editor s comments": fold turns the apostrophe into a space)."""


def recurring_title(title: str) -> bool:
    """True for a folded title that journals reuse in issue after issue ("Editor's
    comments", "Letter from the editor", "In this issue", "Guest editorial", "Erratum",
    "Society news", "Meeting announcements", ...), or one of at most two words."""
    return bool(_RECURRING.match(title)) or 0 < len(title.split()) <= 2


def main_title(title: str, raw: str | None) -> str:
    """The title without its subtitle, run together: the part before the first ':' (or
    ' - ', '?', '.') of the original title, folded; the whole title when it has none."""
    head = re.split(r"\s*[:?.]\s+|\s+[-–—]\s+", raw or "", maxsplit=1)[0]
    folded = fold(head).replace(" ", "")
    return folded if folded and folded != title.replace(" ", "") else ""


_PAGES = re.compile(r"\s*([a-z]{0,2}\d+)(?:\s*(?:-+|–|—)\s*([a-z]{0,2}\d+))?")
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)


def page_range(pages: str | None) -> tuple[str, str]:
    """First and last page with abbreviated ends expanded ("822-9" -> ("822", "829"), "47--65",
    "S417-S429", "e123"); ("", "") when the field does not start with a page ("Suppl-29", "t-8"
    are mangled supplement ranges, "01-Jun" a range a spreadsheet turned into a date: they say
    nothing reliable). Quotes and leading zeros are dropped."""
    text = (pages or "").lower().strip(" \"'([")
    if _MONTH.search(text) or fold(text) in PLACEHOLDERS:
        return "", ""
    match = _PAGES.match(text)
    if not match:
        return "", ""
    first = match.group(1).lstrip("0") or "0"
    last = (match.group(2) or "").lstrip("0") or first
    return first, full_last_page(first, last)


_RANGE_START = re.compile(r"(?:^|[+,;&]|\band\b)\s*\"?\s*([a-z]{0,2}\d+)", re.IGNORECASE)


def range_starts(pages: str | None) -> frozenset[str]:
    """The first page of every range in a field of several ("233-238+230-235+246-251",
    "230-5, 246-51, 233-8" -> {"233", "230", "246"}); empty for a field of one range."""
    text = pages or ""
    if not any(sep in text for sep in "+,;&"):
        return frozenset()
    return frozenset(m.group(1).lower().lstrip("0") for m in _RANGE_START.finditer(text))


@lru_cache(maxsize=65536)
def surname_key(name: str | None) -> str:
    """A surname folded and run together ("Dragon-Durey" -> "dragondurey", "Józsi" -> "jozsi")."""
    return fold(name).replace(" ", "")


def author_keys(record: Record) -> tuple[str, ...]:
    """The authors' surnames (or collective names) in order, folded."""
    keys = []
    for author in record.authors:
        key = surname_key(author.last_name or author.collective_name)
        if key and key not in PLACEHOLDERS:
            keys.append(key)
    return tuple(keys)


def name_tokens(record: Record) -> frozenset[str]:
    """Every word of three letters or more in the authors' names, and each surname run together:
    tolerant of names split the wrong way ("Le, Quintrec M." / "Le Quintrec, M.")."""
    tokens: set[str] = set()
    for author in record.authors:
        tokens.update(_author_words(author.last_name or author.collective_name, author.fore_name))
    tokens.difference_update(PLACEHOLDERS)
    return frozenset(tokens)


@lru_cache(maxsize=65536)
def _author_words(last: str | None, fore: str | None) -> tuple[str, ...]:
    words = [surname_key(last)]
    words += [p for p in fold(f"{last or ''} {fore or ''}").split() if len(p) >= 3]
    return tuple(words)


def venue(record: Record) -> str | None:
    """Where the record appeared: the journal, else its abbreviation, else the book or
    proceedings title that RIS and BibTeX exports keep apart (``booktitle``, ``T2``)."""
    if record.journal or record.journal_iso:
        return record.journal or record.journal_iso
    for key, value in record.extra:
        if key.lower() in ("booktitle", "secondary_title", "t2", "conference") and value.strip():
            return value
    return None


def record_kind(record: Record, title: str) -> Kind:
    """What the record is, from its publication types, record type and title patterns: an
    erratum, comment, reply or retraction notice, or a conference abstract, is not its article."""
    raw_title = record.title or ""
    types = {t.strip().lower() for t in record.publication_types}
    types.add((record.record_type or "").strip().lower())
    for publication_type, kind in _NOTICE_TYPES.items():
        if publication_type in types:
            return kind
    if _RETRACTION.search(raw_title):
        return "retraction"
    if _ERRATUM.search(raw_title) or _ERRATUM_CITATION.search(raw_title):
        return "erratum"
    if _REPLY.search(raw_title):
        return "reply"
    if _COMMENT.search(raw_title):
        return "comment"
    if types & _CONFERENCE_TYPES or any("congress" in t or "conference" in t for t in types):
        return "conference"
    place = venue(record)
    if place and _CONFERENCE_VENUE.search(place):
        return "conference"
    return "article"


def looks_like_abstract(first: str, last: str, issue: str | None) -> bool:
    """A one-page item, a whole supplement's page span, or a supplement issue: how a meeting
    abstract printed in a journal looks when a database calls it an article. Electronic
    article numbers ("e12724", "CD008173") are not pages and say nothing here."""
    if issue and re.search(r"suppl|abstr|meeting", issue, re.IGNORECASE):
        return True
    if not first:
        return False
    if not (first.isdigit() and last.isdigit()):
        return False
    return first == last or int(last) - int(first) > 100


@dataclass(frozen=True, slots=True)
class Features:
    """The comparable form of one record (computed once, compared many times)."""

    title: str
    compact: str
    numbers: frozenset[str]
    authors: tuple[str, ...]
    names: frozenset[str]
    journal: tuple[str, ...]
    named_journal: bool
    year: int | None
    volume: str
    issue: str
    supplement: str
    first_page: str
    last_page: str
    starts: frozenset[str]
    dois: frozenset[str]
    pmid: str | None
    pmcid: str | None
    kind: Kind
    abstract_like: bool
    recurring: bool
    repeated: bool
    main: str
    completeness: int
    fingerprint: str


def features(record: Record) -> Features:
    """Normalise every field the matcher compares."""
    title = normalise_title(record.title)
    first, last = page_range(record.pages)
    journal = journal_tokens(venue(record)) or journal_tokens(record.journal_iso)
    authors = author_keys(record)
    filled = sum(
        1
        for value in (
            record.title,
            record.journal,
            record.year,
            record.volume,
            record.issue,
            record.pages,
            record.doi,
            record.pmid,
            record.issn,
        )
        if value not in (None, "")
    )
    completeness = filled + (3 if record.abstract else 0) + (1 if authors else 0)
    fingerprint = "\x1f".join(
        (
            title,
            " ".join(authors),
            " ".join(journal),
            str(record.year or ""),
            first,
            record.doi or "",
            record.pmid or "",
            record.source,
            record.source_id or "",
        )
    )
    volume = normalise_volume(record.volume)
    if record.year is not None and volume == str(record.year):
        volume = ""  # proceedings give their year as the volume: not a volume to compare
    issue, supplement = normalise_issue(record.issue)
    return Features(
        title=title,
        compact=title.replace(" ", ""),
        numbers=title_numbers(title),
        authors=authors,
        names=name_tokens(record),
        journal=journal,
        named_journal=bool(record.journal or record.journal_iso),
        year=record.year,
        volume=volume,
        issue=issue,
        supplement=supplement,
        first_page=first,
        last_page=last,
        starts=range_starts(record.pages),
        dois=frozenset(doi_list(record.doi)),
        pmid=record.pmid,
        pmcid=record.pmcid,
        kind=record_kind(record, title),
        abstract_like=looks_like_abstract(first, last, record.issue),
        recurring=recurring_title(title),
        repeated=False,
        main=main_title(title, record.title),
        completeness=completeness,
        fingerprint=fingerprint,
    )
