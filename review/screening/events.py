"""Screening's vocabulary and its events (pure): stages, decisions, and one event type each
for what a person does to a paper: decide, reset, note, resolve, retrieve, link reports.

Every event names the paper it was taken on: the record shown (the primary of its
cluster then), the cluster's id and members at that moment. Events are appended, never
changed; current state is replayed from them (``review.screening.state``), so when dedup
later merges or splits clusters each decision follows the papers it was made on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, cast

from review.errors import ScreeningError

Stage = Literal["ta", "ft"]
STAGES: tuple[Stage, ...] = ("ta", "ft")
STAGE_NAMES: dict[Stage, str] = {"ta": "title/abstract", "ft": "full text"}
PROTOCOL_STAGES: dict[Stage, str] = {"ta": "title_abstract", "ft": "full_text"}
"""The protocol's names of the stages (``[screening] stages``, a reason's ``stages``)."""

Decision = Literal["include", "exclude", "maybe"]
DECISIONS: tuple[Decision, ...] = ("include", "exclude", "maybe")

EventKind = Literal["decide", "reset", "note", "resolve", "unresolve"]
Via = Literal["cli", "terminal", "spreadsheet", "api", "web"]
RetrievalKind = Literal["retrieved", "not_retrieved", "reset"]
LinkKind = Literal["link", "unlink"]

_NAME = re.compile(r"^[^\s,;][^,;]*$")
NAME_LIMIT = 64


def parse_stage(text: str) -> Stage:
    """A stage from what a person types: ``ta``/``ft`` or the protocol's names."""
    value = text.strip().lower().replace("-", "_")
    for stage, long in PROTOCOL_STAGES.items():
        if value in (stage, long, long.replace("_", "")):
            return stage
    raise ScreeningError(
        f"{text!r} is not a screening stage; use ta (title/abstract) or ft (full text)"
    )


def parse_decision(text: str) -> Decision:
    """A decision from what a person types (``include``, ``exclude``, ``maybe``)."""
    value = text.strip().lower()
    if value in DECISIONS:
        return cast(Decision, value)
    raise ScreeningError(f"{text!r} is not a decision; use include, exclude or maybe")


def check_name(name: str, what: str = "reviewer") -> str:
    """A person's name as recorded: trimmed, NFC, at most 64 characters, no comma or
    semicolon (lists of names are written with commas), no control characters."""
    value = unicodedata.normalize("NFC", name.strip())
    if not value:
        raise ScreeningError(f"give the {what}'s name")
    if len(value) > NAME_LIMIT:
        raise ScreeningError(
            f"{what} name {value[:20]!r}... is {len(value)} characters long; "
            f"use at most {NAME_LIMIT}"
        )
    if not _NAME.match(value) or any(unicodedata.category(c)[0] == "C" for c in value):
        raise ScreeningError(
            f"{what} name {value!r} cannot be used: names may not hold commas, semicolons "
            "or control characters"
        )
    return value


@dataclass(frozen=True, slots=True)
class Paper:
    """Where an event was taken: the cluster's id then, the record shown (its primary)
    and every record of the cluster then."""

    cluster_id: int
    record_id: int
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ScreeningEvent:
    """A reviewer's decision, reset or note, or a lead's resolution, on one paper at one
    stage. ``person`` is the reviewer (or, for ``resolve``/``unresolve``, who resolved);
    ``recorded_by`` who entered it, when someone else did (an import by the lead)."""

    id: int
    stage: Stage
    kind: EventKind
    paper: Paper
    person: str
    at: str
    decision: Decision | None = None
    reason: str | None = None
    note: str | None = None
    via: Via = "api"
    recorded_by: str | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        return {
            "id": self.id,
            "stage": self.stage,
            "kind": self.kind,
            "cluster": self.paper.cluster_id,
            "record": self.paper.record_id,
            "members": list(self.paper.members),
            "person": self.person,
            "at": self.at,
            "decision": self.decision,
            "reason": self.reason,
            "note": self.note,
            "via": self.via,
            "recorded_by": self.recorded_by,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class RetrievalEvent:
    """A report's full text found (with the path or URL of its PDF, if given), not found
    (with why), or its retrieval state reset."""

    id: int
    kind: RetrievalKind
    paper: Paper
    at: str
    by: str | None
    location: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A report linked to a study (another report of the same patients), or unlinked."""

    id: int
    kind: LinkKind
    paper: Paper
    study: Paper | None
    at: str
    by: str | None


@dataclass(frozen=True, slots=True)
class BlindEvent:
    """A stage's decisions shown to everyone (``unblind``) or hidden again (``blind``)."""

    id: int
    stage: Stage
    kind: Literal["unblind", "blind"]
    at: str
    by: str
