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


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The title similarities the verdicts turn on (Indel ratio of normalised titles):
    below ``candidate`` two titles are different papers unless identifiers agree; from
    ``confident``, with corroboration, a merge; from ``near``, a merge on less corroboration.
    The benchmark varies them to choose them without the labels of the set it reports."""

    candidate: float = 0.85
    confident: float = 0.95
    near: float = 0.98


THRESHOLDS = Thresholds()
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
    if a.dois and b.dois and not a.dois & b.dois:
        return "different DOI"
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return "different PMID"
    if a.pmcid and b.pmcid and a.pmcid != b.pmcid:
        return "different PMCID"
    if a.kind != b.kind and not _same_abstract(a, b):
        return f"{a.kind} vs {b.kind}"
    if a.year is not None and b.year is not None and abs(a.year - b.year) > 1:
        return "years differ by more than one"
    if (a.recurring or b.recurring or a.repeated or b.repeated) and not _shared_identifier(a, b):
        return _recurring_conflict(a, b, issues=a.recurring or b.recurring)
    return None


def _shared_identifier(a: Features, b: Features) -> bool:
    return bool(
        a.dois & b.dois or (a.pmid and a.pmid == b.pmid) or (a.pmcid and a.pmcid == b.pmcid)
    )


def _recurring_conflict(a: Features, b: Features, *, issues: bool) -> str | None:
    """Items a journal prints under the same title in every issue (editorials, notices,
    errata columns): a different year, volume, issue or first page is another item. Issues
    count for the titles known to recur, not for one the bibliography merely repeats."""
    fields = [
        ("years", str(a.year or ""), str(b.year or "")),
        ("volumes", a.volume, b.volume),
    ]
    if issues:
        fields += [("issues", a.issue, b.issue), ("supplements", a.supplement, b.supplement)]
    for name, x, y in fields:
        if x and y and x != y:
            return f"a recurring title in different {name}"
    if a.first_page and b.first_page and not _pages_equal(a.first_page, b.first_page):
        return "a recurring title on different pages"
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
    """First pages compared. They also agree when a range has the same last page (a mistyped
    first page), when one record gives only the other's last page ("359" / "356-359"), or
    when a field of several ranges shares one start with the other. Pages of two systems,
    an electronic article number or a supplement page against print pages ("e12724" /
    "1-6", "S33" / "1262"), cannot be compared: unknown, not a conflict."""
    first = _field(a.first_page, b.first_page)
    if first != "conflict":
        return first
    if a.starts & b.starts:
        return "same"
    ranged_a, ranged_b = a.last_page != a.first_page, b.last_page != b.first_page
    if ranged_a and ranged_b and _pages_equal(a.last_page, b.last_page):
        return "same"
    if (not ranged_a and ranged_b and _pages_equal(a.first_page, b.last_page)) or (
        not ranged_b and ranged_a and _pages_equal(b.first_page, a.last_page)
    ):
        return "same"
    if a.first_page.isdigit() != b.first_page.isdigit():
        return "unknown"
    return first


def _journal(a: Features, b: Features) -> Literal["same", "conflict", "unknown"]:
    if not a.journal or not b.journal:
        return "unknown"
    return "same" if journals_compatible(a.journal, b.journal) else "conflict"


def compare(a: Features, b: Features, limits: Thresholds = THRESHOLDS) -> PairVerdict:
    """Compare two records: 'same' (merge), 'maybe' (ask a person) or 'distinct'.

    A merge needs a near-identical title and corroboration: the same volume and first page,
    or the same authors, year and journal; a page conflict is tolerated only when everything
    else agrees (databases garble supplement and electronic page numbers).
    """
    reason = veto(a, b)
    if reason:
        return PairVerdict("distinct", 0.0, reason)
    for name, shared in (
        ("DOI", bool(a.dois & b.dois)),
        ("PMID", bool(a.pmid and a.pmid == b.pmid)),
        ("PMCID", bool(a.pmcid and a.pmcid == b.pmcid)),
    ):
        if shared:
            ts = title_similarity(a, b)
            if ts >= 0.6 or not a.title or not b.title:
                return PairVerdict("same", 1.0, f"same {name}")
            return PairVerdict("maybe", ts, f"same {name} but different titles")
    ts = title_similarity(a, b, limits.candidate)
    shortened = ts < limits.candidate and _shortened(a, b)
    contained = ts < limits.candidate and not shortened and _contained(a, b)
    if ts < limits.candidate and not (shortened or contained):
        return PairVerdict("distinct", ts, "different titles")
    if shortened or contained:  # the cutoff gave 0: a person should see how alike they are
        ts = title_similarity(a, b)
    place = _Place.of(a, b)
    if a.recurring or b.recurring or a.repeated or b.repeated:
        return _recurring(a, b, ts, place, limits)
    if _other_supplement(a, b):
        return PairVerdict("distinct", ts, "meeting abstracts in different supplements")
    if place.volume == "same" and place.pages == "same":
        return _same_place(a, b, ts, place.authors, place.journal, place.same_year, limits)
    if a.numbers - b.numbers and b.numbers - a.numbers:
        return PairVerdict("maybe", ts, "titles differ in a number")
    conflicts = place.conflicts()
    if len(conflicts) >= 2:
        return PairVerdict("distinct", ts, "different " + ", ".join(conflicts))
    if place.authors == "conflict" or place.volume == "conflict":
        if ts >= limits.confident:
            return PairVerdict("maybe", ts, f"similar titles, different {conflicts[0]}")
        return PairVerdict("distinct", ts, f"different {conflicts[0]}")
    if place.pages == "conflict":
        if ts >= limits.confident:  # another page is another item unless a person says so
            return PairVerdict("maybe", ts, "same title, different pages")
        return PairVerdict("distinct", ts, "different pages")
    if shortened:
        return _shortened_verdict(ts, place)
    if ts < limits.confident:
        return PairVerdict(
            "maybe", ts, "one title contains the other" if contained else "similar titles"
        )
    return _same_title(a, b, ts, place, limits)


@dataclass(frozen=True, slots=True)
class _Place:
    """How two records' authors and place in the literature compare."""

    authors: Literal["all", "same", "compatible", "conflict", "unknown"]
    volume: Literal["same", "conflict", "unknown"]
    issue: Literal["same", "conflict", "unknown"]
    pages: Literal["same", "conflict", "unknown"]
    journal: Literal["same", "conflict", "unknown"]
    same_year: bool
    year_conflict: bool

    @classmethod
    def of(cls, a: Features, b: Features) -> _Place:
        journal = _journal(a, b)
        proceedings = not (a.named_journal and b.named_journal)
        if a.kind == b.kind == "conference" and proceedings and journal == "conflict":
            journal = "unknown"  # a proceedings' name varies from one database to the next
        return cls(
            authors=_authors(a, b),
            volume=_field(a.volume, b.volume),
            issue=_issue(a, b),
            pages=_pages(a, b),
            journal=journal,
            same_year=a.year is not None and a.year == b.year,
            year_conflict=a.year is not None and b.year is not None and a.year != b.year,
        )

    def conflicts(self) -> list[str]:
        # Issue numbers are left out: exports fill the field with anything (one benchmark's
        # "number" holds accession counters), so only recurring titles compare them.
        named = (
            ("authors", self.authors),
            ("volume", self.volume),
            ("pages", self.pages),
            ("journal", self.journal),
        )
        found = [name for name, value in named if value == "conflict"]
        return [*found, "year"] if self.year_conflict else found


def _issue(a: Features, b: Features) -> Literal["same", "conflict", "unknown"]:
    """Issue numbers, then supplement numbers ("Suppl 1" = "S1"), where both records give one."""
    verdict: Literal["same", "conflict", "unknown"] = "unknown"
    for x, y in ((a.issue, b.issue), (a.supplement, b.supplement)):
        if x and y and x != "s" and y != "s":
            if x != y:
                return "conflict"
            verdict = "same"
    return verdict


def _other_supplement(a: Features, b: Features) -> bool:
    """Two meeting abstracts printed in differently numbered supplements of a journal: two
    meetings ("Suppl 1" and "S1" are one supplement)."""
    numbered = a.supplement not in ("", "s") and b.supplement not in ("", "s")
    abstracts = a.kind == "conference" or b.kind == "conference"
    return numbered and abstracts and a.supplement != b.supplement


def _shortened(a: Features, b: Features) -> bool:
    """One title is the other without its subtitle, or cut short at a length limit."""
    short, long_ = (a, b) if len(a.compact) <= len(b.compact) else (b, a)
    if len(short.compact) >= 20 and long_.compact.startswith(short.compact):
        return True
    return bool(long_.main) and long_.main == short.compact and len(short.compact) >= 12


def _shortened_verdict(ts: float, place: _Place) -> PairVerdict:
    if (
        place.authors in ("all", "same")
        and place.same_year
        and place.pages == "same"
        and place.journal != "conflict"
    ):
        return PairVerdict(
            "same", ts, "title without its subtitle or cut short; authors, year and pages agree"
        )
    return PairVerdict("maybe", ts, "one title is the other shortened")


def _recurring(
    a: Features, b: Features, ts: float, place: _Place, limits: Thresholds
) -> PairVerdict:
    """An editorial, notice or column under a title the journal reuses (no place conflicts:
    the veto saw to that): one item only where the place shows it."""
    if (
        ts >= limits.confident
        and place.same_year
        and place.pages == "same"
        and place.volume != "conflict"
        and place.authors != "conflict"
    ):
        return PairVerdict("same", ts, "a recurring title at the same volume and page")
    if place.authors in ("all", "same") and ts >= limits.confident:
        return PairVerdict("maybe", ts, "a recurring title; its place does not show one item")
    return PairVerdict("distinct", ts, "a recurring title with nothing to show one item")


def _same_title(
    a: Features, b: Features, ts: float, place: _Place, limits: Thresholds
) -> PairVerdict:
    """Near-identical titles without conflicts: merge when enough else agrees."""
    long_title = min(len(a.title), len(b.title)) >= _SHORT_TITLE
    authors_agree = place.authors in ("all", "same")
    if (
        long_title
        and authors_agree
        and place.journal == "same"
        and "same"
        in (
            place.volume,
            place.pages,
        )
    ):
        return PairVerdict("same", ts, "title, authors, journal and volume or pages agree")
    if (
        a.kind == b.kind == "conference"
        and long_title
        and authors_agree
        and place.same_year
        and place.pages in ("same", "unknown")
        and place.journal != "conflict"
    ):
        return PairVerdict("same", ts, "conference paper: title, authors and year agree")
    if (
        ts >= limits.near
        and min(len(a.title), len(b.title)) >= 40
        and authors_agree
        and place.journal == "same"
        and place.volume == "same"
        and place.same_year
    ):
        return PairVerdict("same", ts, "everything but the pages agrees")
    if (
        ts >= limits.near
        and long_title
        and place.authors == "all"
        and place.journal == "same"
        and place.same_year
        and _as_abstract(a) == _as_abstract(b)
    ):
        return PairVerdict("same", ts, "title, all authors, journal and year agree")
    return PairVerdict("maybe", ts, "same title, too little else to confirm")


def _as_abstract(f: Features) -> bool:
    return f.abstract_like or f.kind == "conference"


def _same_place(
    a: Features,
    b: Features,
    ts: float,
    authors: str,
    journal: str,
    same_year: bool,
    limits: Thresholds = THRESHOLDS,
) -> PairVerdict:
    """Same volume and first page: a near-identical title suffices (a number or author that
    differs is then a typo or a group name); a merely similar one needs the same authors."""
    years_fit = same_year or a.year is None or b.year is None or journal != "conflict"
    if ts >= limits.confident and years_fit and (authors != "conflict" or ts >= limits.near):
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
    for doi in f.dois:
        yield ("doi", doi)
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
