"""Appraisal's use cases: answers entered per study and item (each an event), single or
dual appraisal (the protocol's ``[extraction] extractors``: with 2, two appraisers and a
consensus), the tool per study design, the summary table and its plots.

A study's tool is the one its standing ``design`` value calls for (``[appraisal.designs]``
or JBI's checklist for that design), unless one is named. With one appraiser the latest
answer per item stands; with two, an item stands once both answered alike or a consensus
answer was recorded (``resolve``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extraction.appraisal import Appraisal, AppraisalSummary, Tool, appraise, summary_tables
from extraction.appraisal_tools import custom_tool, tool_for_design
from extraction.errors import AppraisalError
from review.errors import ExtractError, ExtractImportError
from review.extract.events import AppraisalEvent, AppraisalRow, Study, Via
from review.extract.outcomes import standing_values
from review.extract.workflow import find_study
from review.protocol.model import Protocol
from review.screening.events import check_name
from review.store import Store
from review.store import extraction as sql


def tools(protocol: Protocol) -> dict[str, Tool]:
    """Every tool a review can use: the built-in ones and the protocol's own."""
    from extraction.appraisal_tools import BUILT_IN_TOOLS

    found = dict(BUILT_IN_TOOLS)
    for raw in protocol.appraisal.tools:
        tool = custom_tool(raw)
        found[tool.name] = tool
    return found


def tool_of(protocol: Protocol, name: str) -> Tool:
    known = tools(protocol)
    if name not in known:
        raise ExtractError(f"no appraisal tool {name!r}; use one of {', '.join(known)}")
    return known[name]


def tool_for_study(store: Store, protocol: Protocol, study: Study) -> Tool:
    """The tool the study's design calls for (its standing ``design`` value)."""
    values = next(v for v in standing_values(store, protocol) if v.study.id == study.id)
    design = values.fields.get("design")
    if design is None:
        raise ExtractError(
            f"{study.label!r} has no design yet, so its appraisal tool is not known; enter "
            "its design, or name the tool (the tool column, or --tool)"
        )
    custom = [custom_tool(raw) for raw in protocol.appraisal.tools]
    try:
        return tool_for_design(str(design), protocol.appraisal.designs, custom)
    except AppraisalError as exc:
        raise ExtractError(str(exc)) from None


@dataclass(frozen=True)
class Answered:
    written: int
    unchanged: int
    studies: int

    def as_dict(self) -> dict[str, int]:
        return {"written": self.written, "unchanged": self.unchanged, "studies": self.studies}


def _latest(
    events: Sequence[AppraisalEvent],
) -> tuple[
    dict[tuple[int, str, str], dict[str, AppraisalEvent]],
    dict[tuple[int, str, str], AppraisalEvent],
]:
    entries: dict[tuple[int, str, str], dict[str, AppraisalEvent]] = defaultdict(dict)
    resolved: dict[tuple[int, str, str], AppraisalEvent] = {}
    for event in sorted(events, key=lambda e: e.id):
        key = (event.study_id, event.tool, event.item)
        if event.kind == "resolve":
            resolved[key] = event
        else:
            entries[key][event.person] = event
    return dict(entries), resolved


def enter(
    store: Store,
    protocol: Protocol,
    rows: Sequence[AppraisalRow],
    *,
    person: str,
    at: str,
    via: Via,
) -> Answered:
    """Check every answer of every row, then write the changed ones in one transaction
    (nothing when any has a problem: ExtractImportError lists them with their places).
    Items left empty are not answered yet."""
    person = check_name(person, "appraiser")
    problems: list[str] = []
    planned: list[AppraisalEvent] = []
    with store.transaction() as tx:
        known = sql.studies(tx)
        entries, _ = _latest(list(sql.appraisal_events_of(tx)))
    for row in rows:
        study = _match(known, row.study)
        if study is None:
            problems.append(f"{row.place}: unknown study {row.study!r}")
            continue
        try:
            tool = (
                tool_of(protocol, row.tool) if row.tool else tool_for_study(store, protocol, study)
            )
        except ExtractError as exc:
            problems.append(f"{row.place}: {exc}")
            continue
        for item_id, raw in row.answers.items():
            answer = raw.strip().lower()
            if not answer or answer == "-":  # empty: not answered yet; '-': not this tool's
                continue
            if item_id not in tool.item_ids:
                problems.append(
                    f"{row.place}, column {item_id}: {tool.name} has no item {item_id!r} (its "
                    f"items are {', '.join(tool.item_ids)})"
                )
                continue
            allowed = tool.item(item_id).answers
            if answer not in allowed:
                problems.append(
                    f"{row.place}, column {item_id}: {raw!r} is not an answer to {item_id} of "
                    f"{tool.name}; use {', '.join(allowed)}"
                )
                continue
            before = entries.get((study.id, tool.name, item_id), {}).get(person)
            if before is not None and before.answer == answer:
                continue
            planned.append(
                AppraisalEvent(
                    0,
                    study.id,
                    tool.name,
                    item_id,
                    "enter",
                    answer,
                    person,
                    at,
                    via,
                    row.note,
                    row.place,
                )
            )
    if problems:
        raise ExtractImportError(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported",
            tuple(problems),
        )
    total = sum(sum(1 for a in row.answers.values() if a.strip() not in ("", "-")) for row in rows)
    with store.transaction() as tx:
        sql.add_appraisal_events(tx, planned)
    return Answered(len(planned), total - len(planned), len(rows))


def _match(known: Sequence[Study], key: str) -> Study | None:
    text = key.strip()
    for study in known:
        if (text.isdigit() and study.id == int(text)) or study.label.casefold() == text.casefold():
            return study
    return None


@dataclass(frozen=True)
class ItemState:
    """One study's item of a tool: each appraiser's answer, the consensus answer, and the
    answer that stands (None while it does not)."""

    study: Study
    tool: str
    item: str
    answers: Mapping[str, str]
    resolved: str | None
    standing: str | None
    notes: Mapping[str, str] = field(default_factory=dict)
    """Each appraiser's note on the answer in force (those who gave one)."""

    @property
    def differs(self) -> bool:
        return self.resolved is None and len(set(self.answers.values())) > 1

    def as_dict(self) -> dict[str, object]:
        return {
            "study": self.study.label,
            "tool": self.tool,
            "item": self.item,
            "answers": dict(sorted(self.answers.items())),
            "resolved": self.resolved,
            "answer": self.standing,
        }


def item_states(store: Store, protocol: Protocol) -> list[ItemState]:
    required = protocol.extraction.extractors
    with store.read() as tx:
        known = {s.id: s for s in sql.studies(tx)}
        entries, resolved = _latest(list(sql.appraisal_events_of(tx)))
    out = []
    for key in sorted(set(entries) | set(resolved)):
        study_id, tool, item = key
        answers = {p: e.answer for p, e in entries.get(key, {}).items()}
        settled = resolved[key].answer if key in resolved else None
        if settled is not None:
            standing: str | None = settled
        elif required <= 1:
            latest = max(entries[key].values(), key=lambda e: e.id)
            standing = latest.answer
        elif len(answers) >= required and len(set(answers.values())) == 1:
            standing = next(iter(answers.values()))
        else:
            standing = None
        notes = {p: e.note for p, e in entries.get(key, {}).items() if e.note}
        out.append(ItemState(known[study_id], tool, item, answers, settled, standing, notes))
    return out


def differences(store: Store, protocol: Protocol) -> list[ItemState]:
    """Items two appraisers answered differently and no consensus settled yet."""
    return [s for s in item_states(store, protocol) if s.differs]


def resolve(
    store: Store,
    protocol: Protocol,
    *,
    study: str,
    tool: str,
    item: str,
    answer: str,
    by: str,
    at: str,
    why: str | None = None,
    via: Via = "api",
) -> AppraisalEvent:
    """Record the consensus answer of one item."""
    by = check_name(by, "person resolving")
    found = find_study(store, study)
    spec = tool_of(protocol, tool)
    try:
        allowed = spec.item(item).answers
    except AppraisalError as exc:
        raise ExtractError(str(exc)) from None
    value = answer.strip().lower()
    if value not in allowed:
        raise ExtractError(
            f"{answer!r} is not an answer to {item} of {tool}; use {', '.join(allowed)}"
        )
    event = AppraisalEvent(0, found.id, spec.name, item, "resolve", value, by, at, via, why)
    with store.transaction() as tx:
        sql.add_appraisal_events(tx, [event])
    return event


def final_appraisals(store: Store, protocol: Protocol) -> tuple[list[Appraisal], list[str]]:
    """Each study's appraisal whose every item stands, and the studies still incomplete
    (some item unanswered, in dispute or awaiting the second appraiser)."""
    by_study: dict[tuple[int, str], dict[str, str | None]] = defaultdict(dict)
    studies: dict[int, Study] = {}
    for state in item_states(store, protocol):
        by_study[(state.study.id, state.tool)][state.item] = state.standing
        studies[state.study.id] = state.study
    done, incomplete = [], []
    for (study_id, tool_name), answers in sorted(by_study.items()):
        tool = tool_of(protocol, tool_name)
        label = studies[study_id].label
        if all(answers.get(i) is not None for i in tool.item_ids):
            done.append(appraise(tool, label, "final", {k: v for k, v in answers.items() if v}))
        else:
            incomplete.append(label)
    return done, incomplete


def summary(store: Store, protocol: Protocol) -> tuple[tuple[AppraisalSummary, ...], list[str]]:
    """One summary table per tool over the finished appraisals, and the unfinished."""
    done, incomplete = final_appraisals(store, protocol)
    return (summary_tables(done) if done else ()), incomplete


def study_sizes(store: Store, protocol: Protocol) -> dict[str, float]:
    """Each study's number of patients (its ``n_patients``), to weight the summary bars."""
    sizes = {}
    for values in standing_values(store, protocol):
        n = values.fields.get("n_patients")
        if n is not None:
            sizes[values.study.label] = float(n)
    return sizes


def write_appraisal_template(path: Path, studies: Sequence[tuple[str, Tool | None]]) -> int:
    """A CSV to fill in: one row per (study label, tool its design calls for, or None), a
    column per item of any tool named, '-' where a study's tool has no such item; written
    whole or not at all. Returns the rows written."""
    import csv

    from review.replacing import replacing
    from review.sources.tabular import neutralise

    items = list(dict.fromkeys(i.id for _, t in studies if t for i in t.items))
    with replacing(path) as temporary, temporary.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["study", "tool", *items, "note"])
        for label, tool in studies:
            own = set(tool.item_ids) if tool else set()
            cells = ["" if i in own else "-" for i in items]
            writer.writerow([neutralise(label), tool.name if tool else "", *cells, ""])
    return len(studies)
