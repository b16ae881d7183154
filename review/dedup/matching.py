"""Whether two records are the same paper: blocking keys, vetoes and the pair verdict (pure).

The method follows Rathbone et al. (2015) and the bib-dedupe rules (Wagner et al.): exact
identifiers first (DOI, PMID, PMCID), then blocked fuzzy matching on the normalised title,
authors, year (within one), journal (abbreviation variants), volume and pages. False
positives are the worst error (an included study would vanish), so a merge needs
corroboration, and vetoes (different DOI/PMID/PMCID, an erratum, comment, reply,
retraction notice or conference abstract against its article, years more than one apart)
hold against every member of a growing cluster (``review.dedup.clusters``). Pairs that are
similar but not corroborated wait for a person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz.distance import Indel

from review.dedup.features import Features, journals_compatible

Verdict = Literal["same", "maybe", "distinct"]

CONFIDENT_TITLE = 0.95
"""Title similarity (Indel ratio of normalised titles) that, with corroboration, merges."""
CANDIDATE_TITLE = 0.85
"""Title similarity below which two records are different papers unless identifiers agree."""
MAX_BLOCK = 400
"""Blocks larger than this (a common title prefix, say) are not expanded into pairs."""
_SHORT_TITLE = 30


@dataclass(frozen=True, slots=True)
class PairVerdict:
    """What the comparison of two records concluded, with a short reason a person can read."""

    verdict: Verdict
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class Match:
    """Two records the matcher linked, or that wait for a person (ids in ascending order)."""

    a: int
    b: int
    score: float
    reason: str


def veto(a: Features, b: Features) -> str | None:
    """Why two records can never be the same paper, or None: conflicting identifiers, different
    kinds (erratum/comment/reply/retraction notice/conference abstract vs article), or years
    more than one apart. A conference abstract printed in a journal (same volume and first
    page) is the same item whatever a database calls it."""
    if a.doi and b.doi and a.doi != b.doi:
        return "different DOI"
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return "different PMID"
    if a.pmcid and b.pmcid and a.pmcid != b.pmcid:
        return "different PMCID"
    if a.kind != b.kind and not _same_abstract(a, b):
        return f"{a.kind} vs {b.kind}"
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return "years differ by more than one"
    return None


def _same_abstract(a: Features, b: Features) -> bool:
    """A conference abstract and a journal item that can be the same abstract: printed at the
    same volume and first page, or the journal item looks like an abstract (one page, a
    supplement) while the conference record gives no place to contradict it."""
    if {a.kind, b.kind} != {"conference", "article"}:
        return False
    if (
        a.volume
        and a.first_page
        and a.volume == b.volume
        and _pages_equal(a.first_page, b.first_page)
    ):
        return True
    conference, article = (a, b) if a.kind == "conference" else (b, a)
    return article.abstract_like and not conference.first_page


def _pages_equal(x: str, y: str) -> bool:
    if x == y:
        return True
    dx, dy = "".join(c for c in x if c.isdigit()), "".join(c for c in y if c.isdigit())
    return bool(dx) and dx == dy


def title_similarity(a: Features, b: Features, cutoff: float = 0.0) -> float:
    """Indel similarity (0-1) of the normalised titles; 1.0 when they are equal run together;
    0.0 when below ``cutoff``."""
    if not a.title or not b.title:
        return 0.0
    if a.compact == b.compact:
        return 1.0
    return float(Indel.normalized_similarity(a.title, b.title, score_cutoff=cutoff))


def _contained(a: Features, b: Features) -> bool:
    short, long_ = (
        (a.compact, b.compact) if len(a.compact) <= len(b.compact) else (b.compact, a.compact)
    )
    return len(short) >= 20 and short in long_


def _authors(
    a: Features, b: Features
) -> Literal["all", "same", "compatible", "conflict", "unknown"]:
    """'all' when both list several authors, the first agree and nearly all names are shared;
    'same' when the first authors agree and most names are shared; 'compatible' when either
    holds; names are compared as words, so a surname split or run together still matches."""
    if not a.authors or not b.authors:
        return "unknown"
    first_a, first_b = a.authors[0], b.authors[0]
    first_same = (
        first_a == first_b
        or first_a in b.names
        or first_b in a.names
        or (
            min(len(first_a), len(first_b)) >= 5
            and Indel.normalized_similarity(first_a, first_b) >= 0.85
        )
    )
    shared = len(a.names & b.names) / max(1, min(len(a.names), len(b.names)))
    single = min(len(a.authors), len(b.authors)) == 1
    if first_same and shared >= 0.8 and not single:
        return "all"
    if first_same and (shared >= 0.5 or single):
        return "same"
    if first_same or shared >= 0.5:
        return "compatible"
    return "conflict"


def _field(x: str, y: str) -> Literal["same", "conflict", "unknown"]:
    if not x or not y:
        return "unknown"
    return "same" if _pages_equal(x, y) else "conflict"


def _pages(a: Features, b: Features) -> Literal["same", "conflict", "unknown"]:
    """First pages compared; a range with the same last page also agrees (a mistyped first page)."""
    first = _field(a.first_page, b.first_page)
    if (
        first == "conflict"
        and a.last_page != a.first_page
        and b.last_page != b.first_page
        and _pages_equal(a.last_page, b.last_page)
    ):
        return "same"
    return first


def _journal(a: Features, b: Features) -> Literal["same", "conflict", "unknown"]:
    if not a.journal or not b.journal:
        return "unknown"
    return "same" if journals_compatible(a.journal, b.journal) else "conflict"


def compare(a: Features, b: Features) -> PairVerdict:
    """Compare two records: 'same' (merge), 'maybe' (ask a person) or 'distinct'.

    A merge needs a near-identical title and corroboration: the same volume and first page,
    or the same authors, year and journal; a page conflict is tolerated only when everything
    else agrees (databases garble supplement and electronic page numbers).
    """
    reason = veto(a, b)
    if reason:
        return PairVerdict("distinct", 0.0, reason)
    for name, x, y in (
        ("DOI", a.doi, b.doi),
        ("PMID", a.pmid, b.pmid),
        ("PMCID", a.pmcid, b.pmcid),
    ):
        if x and x == y:
            ts = title_similarity(a, b)
            if ts >= 0.6 or not a.title or not b.title:
                return PairVerdict("same", 1.0, f"same {name}")
            return PairVerdict("maybe", ts, f"same {name} but different titles")
    ts = title_similarity(a, b, CANDIDATE_TITLE)
    contained = ts < CANDIDATE_TITLE and _contained(a, b)
    if ts < CANDIDATE_TITLE and not contained:
        return PairVerdict("distinct", ts, "different titles")
    if contained:  # the cutoff gave 0: a person should see how alike the titles really are
        ts = title_similarity(a, b)
    authors = _authors(a, b)
    volume = _field(a.volume, b.volume)
    pages = _pages(a, b)
    journal = _journal(a, b)
    same_year = a.year is not None and a.year == b.year
    if volume == "same" and pages == "same":
        return _same_place(a, b, ts, authors, journal, same_year)
    if a.numbers - b.numbers and b.numbers - a.numbers:
        return PairVerdict("maybe", ts, "titles differ in a number")
    conflicts = [
        name
        for name, value in (
            ("authors", authors),
            ("volume", volume),
            ("pages", pages),
            ("journal", journal),
        )
        if value == "conflict"
    ]
    if a.year is not None and b.year is not None and a.year != b.year:
        conflicts.append("year")
    if len(conflicts) >= 2:
        return PairVerdict("distinct", ts, "different " + ", ".join(conflicts))
    if authors == "conflict" or volume == "conflict":
        if ts >= CONFIDENT_TITLE:
            return PairVerdict("maybe", ts, f"similar titles, different {conflicts[0]}")
        return PairVerdict("distinct", ts, f"different {conflicts[0]}")
    if ts < CONFIDENT_TITLE:
        if pages == "conflict":
            return PairVerdict("distinct", ts, "different pages")
        return PairVerdict(
            "maybe", ts, "one title contains the other" if contained else "similar titles"
        )
    long_title = min(len(a.title), len(b.title)) >= _SHORT_TITLE
    if (
        long_title
        and authors in ("all", "same")
        and journal == "same"
        and "same" in (volume, pages)
        and pages != "conflict"
    ):
        return PairVerdict("same", ts, "title, authors, journal and volume or pages agree")
    if (
        ts >= 0.98
        and min(len(a.title), len(b.title)) >= 40
        and authors in ("all", "same")
        and journal == "same"
        and volume == "same"
        and same_year
    ):
        return PairVerdict("same", ts, "everything but the pages agrees")
    if (
        a.kind == b.kind == "conference"
        and long_title
        and same_year
        and authors in ("all", "same")
        and pages == "unknown"
    ):
        return PairVerdict("same", ts, "conference paper: title, authors and year agree")
    if (
        ts >= 0.98
        and long_title
        and authors == "all"
        and journal == "same"
        and same_year
        and pages != "conflict"
        and _as_abstract(a) == _as_abstract(b)
    ):
        return PairVerdict("same", ts, "title, all authors, journal and year agree")
    return PairVerdict("maybe", ts, "same title, too little else to confirm")


def _as_abstract(f: Features) -> bool:
    return f.abstract_like or f.kind == "conference"


def _same_place(
    a: Features, b: Features, ts: float, authors: str, journal: str, same_year: bool
) -> PairVerdict:
    """Same volume and first page: a near-identical title suffices (a number or author that
    differs is then a typo or a group name); a merely similar one needs the same authors."""
    years_fit = same_year or a.year is None or b.year is None or journal != "conflict"
    if ts >= CONFIDENT_TITLE and years_fit and (authors != "conflict" or ts >= 0.98):
        return PairVerdict("same", ts, "title, volume and pages agree")
    if authors in ("all", "same", "compatible") and (same_year or journal == "same"):
        return PairVerdict("same", max(ts, 0.9), "similar title, same authors, volume and pages")
    return PairVerdict("maybe", ts, "same volume and pages, titles or authors differ")


def blocking_keys(f: Features) -> Iterable[tuple[object, ...]]:
    """Keys under which a record is compared with others: identifiers, the whole title and its
    start and end run together, year with first page, volume with first page, first author
    with year. The whole title keeps identical titles together when their start and end are
    shared by more than ``MAX_BLOCK`` records (at scale, '...: a systematic review and
    meta-analysis')."""
    if f.doi:
        yield ("doi", f.doi)
    if f.pmid:
        yield ("pmid", f.pmid)
    if f.pmcid:
        yield ("pmcid", f.pmcid)
    if len(f.compact) >= 10:
        yield ("title", f.compact)
        yield ("head", f.compact[:24])
        yield ("tail", f.compact[-24:])
    if f.first_page and f.year is not None:
        yield ("yp", f.year, f.first_page)
    if f.first_page and f.volume:
        yield ("vp", f.volume, f.first_page)
    if f.authors and f.year is not None and f.title:
        yield ("ay", f.authors[0], f.year, f.title.split()[0])


def candidate_pairs(feats: Sequence[Features]) -> set[tuple[int, int]]:
    """Positions (i < j) of records that share at least one blocking key."""
    blocks: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for i, f in enumerate(feats):
        for key in blocking_keys(f):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pairs.add((members[x], members[y]))
    return pairs
