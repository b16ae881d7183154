"""Extraction's events (pure): a study to extract, and one value entered or resolved.

A value lives in a *cell*: (study, form, row, field), where the row is ``""`` for the
study form, the patient id for the case form and the outcome's name for an aggregate row.
Events are appended, never changed: a correction is a new event by the same extractor, an
adjudication a ``resolve`` event, and a value taken back a ``cleared`` one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FormName = Literal["study", "case", "aggregate"]
FORMS: tuple[FormName, ...] = ("study", "case", "aggregate")
EventKind = Literal["enter", "resolve"]
Status = Literal["value", "not_reported", "cleared"]
Via = Literal["cli", "terminal", "spreadsheet", "redcap", "api", "web", "bundled"]
Cell = tuple[int, FormName, str, str]
"""(study id, form, row, field)."""


@dataclass(frozen=True, slots=True)
class Study:
    """A study to extract: a stable id, a label people know it by (``Narváez 2019``), and
    the screening cluster of its report when it came from screening."""

    id: int
    label: str
    cluster_id: int | None
    added_at: str
    added_by: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "cluster": self.cluster_id,
            "added_at": self.added_at,
            "added_by": self.added_by,
        }


@dataclass(frozen=True, slots=True)
class ExtractionEvent:
    """One value entered (``enter``) by an extractor or adjudicated (``resolve``)."""

    id: int
    study_id: int
    form: FormName
    row: str
    field: str
    kind: EventKind
    status: Status
    value: str | None
    person: str
    at: str
    via: Via = "api"
    source: str | None = None

    @property
    def cell(self) -> Cell:
        return (self.study_id, self.form, self.row, self.field)

    def shown(self) -> str:
        """The value as a person reads it: the text, ``NR`` or ``(cleared)``."""
        if self.status == "not_reported":
            return "NR"
        if self.status == "cleared":
            return "(cleared)"
        return self.value or ""

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "study": self.study_id,
            "form": self.form,
            "row": self.row,
            "field": self.field,
            "kind": self.kind,
            "status": self.status,
            "value": self.value,
            "person": self.person,
            "at": self.at,
            "via": self.via,
            "source": self.source,
        }


@dataclass(frozen=True)
class RowInput:
    """One row to enter: its study (id or label), form, cells and place."""

    study: str
    form: FormName
    cells: Mapping[str, object]
    place: str
    columns: Mapping[str, str] = field(default_factory=dict)
    """Field name -> the column it came from (a letter or header), for messages."""


@dataclass(frozen=True, slots=True)
class AppraisalEvent:
    """One appraisal answer: a study's item of a tool answered by an appraiser (``enter``)
    or settled by consensus (``resolve``)."""

    id: int
    study_id: int
    tool: str
    item: str
    kind: EventKind
    answer: str
    person: str
    at: str
    via: Via = "api"
    note: str | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "study": self.study_id,
            "tool": self.tool,
            "item": self.item,
            "kind": self.kind,
            "answer": self.answer,
            "person": self.person,
            "at": self.at,
            "via": self.via,
            "note": self.note,
            "source": self.source,
        }


@dataclass(frozen=True)
class AppraisalRow:
    """One study's answers to enter: study (id or label), tool (None: by design), item ->
    answer, an optional note, and its place."""

    study: str
    tool: str | None
    answers: Mapping[str, str]
    place: str
    note: str | None = None
