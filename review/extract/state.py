"""What the extraction events mean today (pure): each cell's entries, its status and the
value analysis uses.

Each extractor's latest entry in a cell is theirs (a ``cleared`` entry takes it back); a
``resolve`` event is the adjudicated value and stands until a later resolution. With one
extractor per study (``[extraction] extractors = 1``) the latest entry is the value. With
two, a cell is ``agreed`` when both entered the same, ``conflict`` when they differ,
``pending`` while only one has entered it, and ``resolved`` once adjudicated; analysis
uses agreed and resolved values only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from review.extract.events import Cell, ExtractionEvent

CellStatus = Literal["entered", "pending", "agreed", "conflict", "resolved"]


@dataclass(frozen=True)
class CellState:
    """One cell: each extractor's entry in force, the resolution in force, and so its
    status and the value that stands (None: none stands, or the value is not reported)."""

    cell: Cell
    entries: Mapping[str, ExtractionEvent]
    resolution: ExtractionEvent | None
    required: int

    @property
    def status(self) -> CellStatus:
        if self.resolution is not None:
            return "resolved"
        if self.required <= 1:
            return "entered"
        if len(self.entries) < self.required:
            return "pending"
        shown = {(e.status, e.value) for e in self.entries.values()}
        return "agreed" if len(shown) == 1 else "conflict"

    @property
    def standing(self) -> ExtractionEvent | None:
        """The event whose value analysis uses (None while pending or in conflict)."""
        status = self.status
        if status == "resolved":
            return self.resolution
        if status in ("entered", "agreed"):
            return max(self.entries.values(), key=lambda e: e.id)
        return None

    def as_dict(self) -> dict[str, object]:
        study, form, row, field = self.cell
        standing = self.standing
        return {
            "study": study,
            "form": form,
            "row": row,
            "field": field,
            "status": self.status,
            "value": standing.shown() if standing else None,
            "entries": {p: e.shown() for p, e in sorted(self.entries.items())},
            "resolved_by": self.resolution.person if self.resolution else None,
        }


def replay(events: Iterable[ExtractionEvent], *, required: int) -> dict[Cell, CellState]:
    """Every cell that has events, with its state."""
    entries: dict[Cell, dict[str, ExtractionEvent]] = defaultdict(dict)
    resolutions: dict[Cell, ExtractionEvent] = {}
    for event in sorted(events, key=lambda e: e.id):
        if event.kind == "resolve":
            resolutions[event.cell] = event
            continue
        mine = entries[event.cell]
        if event.status == "cleared":
            mine.pop(event.person, None)
        else:
            mine[event.person] = event
    cells = set(entries) | set(resolutions)
    return {
        cell: CellState(cell, dict(entries.get(cell, {})), resolutions.get(cell), required)
        for cell in sorted(cells)
    }
