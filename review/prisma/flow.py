"""The PRISMA 2020 flow of a review: every box's count, in the template's two columns (pure).

The left column is "identification of new studies via databases and registers", the right
"via other methods" (websites, organisations, citation searching, a centre's own series).
A review still in progress has records and reports waiting for a decision; the flow names
them (``*_awaiting``) so that each box still follows from the one above it:

    identified - duplicates - excluded_automatic - excluded_other = records_screened
    records_screened - records_excluded - records_awaiting        = dbr_sought
    dbr_sought - dbr_not_retrieved - dbr_awaiting_retrieval       = dbr_assessed
    dbr_assessed - sum(dbr_excluded) - dbr_awaiting               = dbr_included

and on the right, where the template has no screening boxes,

    other identified - other_removed - other_screened_out
                     - other_awaiting_screening                    = other_sought
    other_sought - other_not_retrieved - other_awaiting_retrieval  = other_assessed
    other_assessed - sum(other_excluded) - other_awaiting          = other_included

``new_reports = dbr_included + other_included``; ``new_studies`` counts the studies those
reports belong to (several reports of the same patients are one study).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

SourceKind = Literal[
    "database",
    "register",
    "website",
    "organisation",
    "citation-search",
    "hand-search",
    "local",
    "other",
]
"""Where a source's records were found; the first two are counted in the left column."""

LEFT_KINDS: frozenset[str] = frozenset({"database", "register"})


@dataclass(frozen=True, slots=True)
class SourceCount:
    """Records identified from one source: its name (``pubmed``, ``embase``,
    ``local-series``), its kind and how many records it gave."""

    name: str
    kind: SourceKind
    n: int

    @property
    def left(self) -> bool:
        """True for databases and registers (the template's left column)."""
        return self.kind in LEFT_KINDS


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """Reports excluded for one reason: the protocol's code and label, and how many."""

    code: str
    label: str
    n: int


@dataclass(frozen=True, slots=True)
class PrismaFlow:
    """Every count of the PRISMA 2020 flow diagram (see the module docstring)."""

    sources: tuple[SourceCount, ...]
    # databases and registers
    duplicates: int
    excluded_automatic: int
    excluded_other: int
    records_screened: int
    records_excluded: int
    records_awaiting: int
    dbr_sought: int
    dbr_not_retrieved: int
    dbr_awaiting_retrieval: int
    dbr_assessed: int
    dbr_excluded: tuple[ReasonCount, ...]
    dbr_awaiting: int
    dbr_included: int
    # other methods
    other_removed: int
    other_screened_out: int
    other_awaiting_screening: int
    other_sought: int
    other_not_retrieved: int
    other_awaiting_retrieval: int
    other_assessed: int
    other_excluded: tuple[ReasonCount, ...]
    other_awaiting: int
    other_included: int
    # included
    new_studies: int
    new_reports: int

    @property
    def databases(self) -> tuple[SourceCount, ...]:
        return tuple(s for s in self.sources if s.kind == "database")

    @property
    def registers(self) -> tuple[SourceCount, ...]:
        return tuple(s for s in self.sources if s.kind == "register")

    @property
    def other_sources(self) -> tuple[SourceCount, ...]:
        return tuple(s for s in self.sources if not s.left)

    @property
    def database_results(self) -> int:
        return sum(s.n for s in self.databases)

    @property
    def register_results(self) -> int:
        return sum(s.n for s in self.registers)

    @property
    def identified(self) -> int:
        """Records identified from databases and registers."""
        return self.database_results + self.register_results

    @property
    def other_identified(self) -> int:
        """Records identified by other methods."""
        return sum(s.n for s in self.other_sources)

    @property
    def has_other_methods(self) -> bool:
        """True when the review names or found any source outside databases and registers."""
        return bool(self.other_sources)

    @property
    def in_progress(self) -> bool:
        """True while any record or report waits for a decision."""
        return any(
            (
                self.records_awaiting,
                self.dbr_awaiting_retrieval,
                self.dbr_awaiting,
                self.other_awaiting_screening,
                self.other_awaiting_retrieval,
                self.other_awaiting,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: every box, reasons as lists of {code, label, n}."""
        data: dict[str, Any] = {
            "sources": [{"name": s.name, "kind": s.kind, "n": s.n} for s in self.sources],
            "identified": self.identified,
            "other_identified": self.other_identified,
        }
        for name in self.__slots__:
            if name == "sources":
                continue
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = [{"code": r.code, "label": r.label, "n": r.n} for r in value]
            data[name] = value
        data["in_progress"] = self.in_progress
        return data
