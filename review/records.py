"""The bibliographic record every source produces: PubMed XML, RIS, nbib, CSV and XLSX.

Pure: frozen dataclasses and normalisers, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Author:
    """One author: a person (last/fore names, initials) or a collective (group) name."""

    last_name: str | None = None
    fore_name: str | None = None
    initials: str | None = None
    collective_name: str | None = None
    affiliations: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """'Last, Fore' (or 'Last, Initials'), or the collective name."""
        if self.collective_name:
            return self.collective_name
        given = self.fore_name or self.initials
        if self.last_name and given:
            return f"{self.last_name}, {given}"
        return self.last_name or given or ""


@dataclass(frozen=True, slots=True)
class Record:
    """One record as one source gave it; deduplication links records, never merges them.

    ``source`` names the database or file origin ('pubmed', 'embase', ...); ``source_id`` is
    the record's id in that source (the PMID for PubMed, the RIS ``ID`` tag, a CSV ``id``).
    ``extra`` keeps fields a format carries that have no column here, as (key, value) pairs,
    so that records round-trip through import and export unchanged.

    Identifiers are normalised once, here, whatever the source: ``pmid`` as digits without
    leading zeros, ``doi`` in canonical form, ``pmcid`` as 'PMC' and digits; a value that is
    not such an identifier becomes None.
    """

    source: str
    source_id: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: tuple[Author, ...] = ()
    journal: str | None = None
    journal_iso: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    issn: str | None = None
    language: str | None = None
    record_type: str | None = None
    url: str | None = None
    publication_types: tuple[str, ...] = ()
    mesh: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    raw: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pmid", normalise_pmid(self.pmid))
        object.__setattr__(self, "doi", normalise_doi(self.doi))
        object.__setattr__(self, "pmcid", normalise_pmcid(self.pmcid))


@dataclass(frozen=True, slots=True)
class DeleteCitation:
    """PMIDs that an update file withdraws (PubMed ``DeleteCitation``)."""

    pmids: tuple[str, ...]


_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_TRAILING = ".,;:'\"" + "»›"
DOI_SEPARATOR = "; "
"""Between the DOIs of a record that carries several (some databases export two)."""


_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def _percent_decoded(text: str) -> str:
    """``%28`` as ``(``: DOIs copied from URLs arrive percent-encoded (RFC 3986)."""
    raw = _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def _trim_doi(doi: str) -> str:
    """A DOI without the punctuation that ends the sentence or list it stood in: trailing
    '.', ',', ';', quotes, and a ')' or ']' that closes nothing inside the DOI."""
    while doi:
        last = doi[-1]
        if (
            last in _DOI_TRAILING
            or (last == ")" and doi.count("(") < doi.count(")"))
            or (last == "]" and doi.count("[") < doi.count("]"))
        ):
            doi = doi[:-1]
        else:
            return doi
    return doi


def doi_list(value: str | None) -> tuple[str, ...]:
    """Every DOI in a field, canonical and in order: lower case, percent-encoding decoded,
    without resolver prefixes (``doi:``, ``https://doi.org/``, ``http://dx.doi.org/``) or
    trailing punctuation. A value holding no DOI (``NA``, a landing page) gives none."""
    if not value:
        return ()
    text = _percent_decoded(value) if "%" in value else value
    found: list[str] = []
    for match in _DOI.finditer(text):
        doi = _trim_doi(match.group()).lower()
        # a suffix that was all punctuation ('10.1000/.') leaves no DOI
        if doi.partition("/")[2] and doi not in found:
            found.append(doi)
    return tuple(found)


def normalise_doi(value: str | None) -> str | None:
    """The field's DOIs in canonical form (see ``doi_list``), several joined by
    ``DOI_SEPARATOR``; None when it holds none."""
    dois = doi_list(value)
    return DOI_SEPARATOR.join(dois) if dois else None


def normalise_pmid(value: str | None) -> str | None:
    """A PMID as digits without leading zeros, or None."""
    if value is None:
        return None
    digits = value.strip()
    if digits.lower().startswith("pmid:"):
        digits = digits[5:].strip()
    return str(int(digits)) if digits.isdigit() and int(digits) > 0 else None


def normalise_pmcid(value: str | None) -> str | None:
    """A PMCID as 'PMC' plus digits, or None."""
    if not value:
        return None
    text = value.strip().upper()
    if text.startswith("PMC"):
        text = text[3:]
    return f"PMC{int(text)}" if text.isdigit() and int(text) > 0 else None
