"""Critical appraisal of case reports and case series: tools, appraisals, judgements, consensus.

Three built-in tools, each citing its source, chosen per study design by a documented
default (:data:`DEFAULT_TOOL_FOR_DESIGN`), and custom tools declared in the protocol
(:func:`custom_tool`). An appraisal is one appraiser's answers for one study; two appraisals
of a study are settled by :func:`consensus` and :meth:`Consensus.resolve`; the summary
table (:func:`summary_table`) is what the traffic-light and summary plots
(``extraction.appraisal_plots``) draw. Everything here is pure: values in, frozen
dataclasses out; problems raise :class:`AppraisalError` with a one-line message.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from extraction.appraisal_tools import (
    ANSWERS,
    BUILT_IN_TOOLS,
    DEFAULT_TOOL_FOR_DESIGN,
    JBI_CASE_REPORT,
    JBI_CASE_SERIES,
    MURAD_2018,
    NO,
    NOT_APPLICABLE,
    UNCLEAR,
    YES,
    Item,
    Tool,
    built_in_tool,
    custom_tool,
    join_choices,
    tool_for_design,
)
from extraction.errors import AppraisalError

__all__ = [
    "ANSWERS",
    "BUILT_IN_TOOLS",
    "DEFAULT_TOOL_FOR_DESIGN",
    "JBI_CASE_REPORT",
    "JBI_CASE_SERIES",
    "MURAD_2018",
    "Appraisal",
    "AppraisalError",
    "AppraisalSummary",
    "Consensus",
    "Disagreement",
    "Item",
    "ItemProportions",
    "StudyJudgement",
    "SummaryRow",
    "Tool",
    "appraise",
    "built_in_tool",
    "consensus",
    "consensus_all",
    "custom_tool",
    "domain_concern",
    "judge",
    "summary_table",
    "summary_tables",
    "tool_for_design",
]

Concern = Literal["low", "unclear", "high", "not applicable"]
CONCERNS: tuple[Concern, ...] = ("low", "unclear", "high", "not applicable")


# --- appraisals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Appraisal:
    """One appraiser's answers for one study, in the tool's item order. Made by
    :func:`appraise`, which checks every answer against the tool."""

    study: str
    tool: Tool
    appraiser: str
    answers: tuple[tuple[str, str], ...]
    note: str | None = None

    def __post_init__(self) -> None:
        _check(self.tool, self.study, self.appraiser, dict(self.answers))
        if tuple(i for i, _ in self.answers) != self.tool.item_ids:
            raise AppraisalError(f"study {self.study!r}: answers are not in the tool's item order")

    def answer(self, item_id: str) -> str:
        self.tool.item(item_id)
        return dict(self.answers)[item_id]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(answer for _, answer in self.answers)

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "tool": self.tool.name,
            "appraiser": self.appraiser,
            "answers": dict(self.answers),
            "note": self.note,
        }


def appraise(
    tool: Tool,
    study: str,
    appraiser: str,
    answers: Mapping[str, str],
    note: str | None = None,
) -> Appraisal:
    """Check ``answers`` (item id -> answer; every item answered) against ``tool``."""
    _check(tool, study, appraiser, answers)
    ordered = tuple((item_id, answers[item_id]) for item_id in tool.item_ids)
    return Appraisal(study, tool, appraiser, ordered, note)


def _check(tool: Tool, study: str, appraiser: str, answers: Mapping[str, str]) -> None:
    if not study.strip():
        raise AppraisalError("an appraisal needs a study label")
    where = f"study {study!r}"
    if not appraiser.strip():
        raise AppraisalError(f"{where}: an appraisal needs an appraiser")
    for item_id, answer in answers.items():
        if item_id not in tool.item_ids:
            raise AppraisalError(
                f"{where}: item {item_id!r} is not in {tool.name} "
                f"(its items are {', '.join(tool.item_ids)})"
            )
        allowed = tool.item(item_id).answers
        if answer not in allowed:
            raise AppraisalError(
                f"{where}, item {item_id}: {answer!r} is not an answer; use {join_choices(allowed)}"
            )
    missing = [i for i in tool.item_ids if i not in answers]
    if missing:
        raise AppraisalError(f"{where}: {tool.name} items not answered: {', '.join(missing)}")


# --- judgements ---------------------------------------------------------------------------


def domain_concern(answers: Iterable[str]) -> Concern:
    """The concern for a domain from its items' answers, worst answer first: any 'no' is
    high, else any 'unclear' is unclear, else low; a domain whose items are all 'not
    applicable' is not applicable. This is our stated rule, not the tools': neither paper,
    as far as we checked, defines a per-domain or overall judgement."""
    applicable = [a for a in answers if a != NOT_APPLICABLE]
    if not applicable:
        return "not applicable"
    if NO in applicable:
        return "high"
    if UNCLEAR in applicable:
        return "unclear"
    return "low"


@dataclass(frozen=True)
class StudyJudgement:
    """A study's concern per domain, and its count of 'yes' among applicable items (the
    'k/n' score JBI reviews report)."""

    study: str
    tool: str
    domains: tuple[tuple[str, Concern], ...]
    yes: int
    applicable: int

    @property
    def score(self) -> str:
        return f"{self.yes}/{self.applicable}"

    def concern(self, domain: str) -> Concern:
        return dict(self.domains)[domain]

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "tool": self.tool,
            "domains": dict(self.domains),
            "yes": self.yes,
            "applicable": self.applicable,
        }


def judge(appraisal: Appraisal) -> StudyJudgement:
    """The per-domain concerns (:func:`domain_concern`) and yes-count of one appraisal."""
    tool = appraisal.tool
    given = dict(appraisal.answers)
    domains = tuple(
        (domain, domain_concern(given[item.id] for item in tool.domain_items(domain)))
        for domain in tool.domains
    )
    values = appraisal.values
    applicable = sum(1 for a in values if a != NOT_APPLICABLE)
    return StudyJudgement(appraisal.study, tool.name, domains, values.count(YES), applicable)


# --- consensus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """An item two appraisers answered differently."""

    item: str
    first: str
    second: str


@dataclass(frozen=True)
class Consensus:
    """Two appraisals of one study side by side: the items they agree on and the
    disagreements to resolve (:meth:`resolve`)."""

    study: str
    tool: Tool
    appraisers: tuple[str, str]
    agreed: tuple[tuple[str, str], ...]
    disagreements: tuple[Disagreement, ...]

    @property
    def settled(self) -> bool:
        return not self.disagreements

    @property
    def agreement(self) -> float:
        """The proportion of items both appraisers answered alike."""
        return len(self.agreed) / len(self.tool.items)

    def resolve(
        self,
        resolutions: Mapping[str, str] | None = None,
        *,
        appraiser: str = "consensus",
        note: str | None = None,
    ) -> Appraisal:
        """The consensus appraisal: the agreed answers plus ``resolutions`` (item id ->
        answer), which must settle every disagreement and only those."""
        resolutions = dict(resolutions or {})
        where = f"study {self.study!r}"
        agreed = dict(self.agreed)
        for item_id in resolutions:
            if item_id in agreed:
                raise AppraisalError(
                    f"{where}, item {item_id}: both appraisers answered {agreed[item_id]}; "
                    "only disagreements are resolved"
                )
        missing = [d.item for d in self.disagreements if d.item not in resolutions]
        if missing:
            raise AppraisalError(f"{where}: disagreements not resolved: {', '.join(missing)}")
        return appraise(self.tool, self.study, appraiser, {**agreed, **resolutions}, note)

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "tool": self.tool.name,
            "appraisers": list(self.appraisers),
            "agreed": dict(self.agreed),
            "disagreements": [
                {"item": d.item, "first": d.first, "second": d.second} for d in self.disagreements
            ],
            "agreement": self.agreement,
        }


def consensus(first: Appraisal, second: Appraisal) -> Consensus:
    """Compare two appraisers' answers for one study with one tool."""
    if first.study != second.study:
        raise AppraisalError(
            f"consensus needs two appraisals of one study, not {first.study!r} and {second.study!r}"
        )
    where = f"study {first.study!r}"
    if first.tool != second.tool:
        raise AppraisalError(
            f"{where}: the appraisals use different tools ({first.tool.name} and "
            f"{second.tool.name})"
        )
    if first.appraiser == second.appraiser:
        raise AppraisalError(
            f"{where}: both appraisals are by {first.appraiser!r}; dual appraisal needs two "
            "appraisers"
        )
    agreed = []
    disagreements = []
    for (item_id, a), (_, b) in zip(first.answers, second.answers, strict=True):
        if a == b:
            agreed.append((item_id, a))
        else:
            disagreements.append(Disagreement(item_id, a, b))
    return Consensus(
        first.study,
        first.tool,
        (first.appraiser, second.appraiser),
        tuple(agreed),
        tuple(disagreements),
    )


def consensus_all(appraisals: Sequence[Appraisal]) -> tuple[Consensus, ...]:
    """One :class:`Consensus` per study, from exactly two appraisals of each (dual
    appraisal), in the order the studies first appear."""
    by_study: dict[str, list[Appraisal]] = {}
    for appraisal in appraisals:
        by_study.setdefault(appraisal.study, []).append(appraisal)
    for study, group in by_study.items():
        if len(group) != 2:
            who = ", ".join(repr(a.appraiser) for a in group)
            raise AppraisalError(
                f"study {study!r} has {len(group)} appraisal{'s' if len(group) > 1 else ''} "
                f"(by {who}); dual appraisal compares two"
            )
    return tuple(consensus(*group) for group in by_study.values())


# --- the summary table --------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    """One study's answers (in item order), domain concerns (in domain order) and yes-count."""

    study: str
    answers: tuple[str, ...]
    concerns: tuple[Concern, ...]
    yes: int
    applicable: int

    @property
    def score(self) -> str:
        return f"{self.yes}/{self.applicable}"


@dataclass(frozen=True)
class ItemProportions:
    """The share of each answer to one item across the studies, optionally weighted."""

    item: str
    shares: tuple[tuple[str, float], ...]

    def share(self, answer: str) -> float:
        return dict(self.shares).get(answer, 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "shares": dict(self.shares)}


@dataclass(frozen=True)
class AppraisalSummary:
    """The summary table of one tool: rows are studies; columns the items and domains;
    counts of each answer per item and of each concern per domain."""

    tool: Tool
    rows: tuple[SummaryRow, ...]

    @property
    def studies(self) -> tuple[str, ...]:
        return tuple(row.study for row in self.rows)

    def count(self, item_id: str, answer: str) -> int:
        """How many studies gave ``answer`` to ``item_id``."""
        column = self.tool.item_ids.index(self.tool.item(item_id).id)
        return sum(1 for row in self.rows if row.answers[column] == answer)

    def concern_count(self, domain: str, concern: Concern) -> int:
        column = self.tool.domains.index(domain)
        return sum(1 for row in self.rows if row.concerns[column] == concern)

    def proportions(
        self, weights: Mapping[str, float] | None = None
    ) -> tuple[ItemProportions, ...]:
        """Per item, the share of studies giving each answer; with ``weights`` (study ->
        size n, e.g. patients) each study counts by its n, as robvis's
        ``rob_summary(weighted = TRUE)``."""
        sizes = [_weight(weights, row.study) for row in self.rows]
        total = sum(sizes)
        result = []
        for column, item_id in enumerate(self.tool.item_ids):
            shares = []
            for answer in self.tool.answers:
                mass = sum(
                    s
                    for s, row in zip(sizes, self.rows, strict=True)
                    if row.answers[column] == answer
                )
                shares.append((answer, mass / total if total else 0.0))
            result.append(ItemProportions(item_id, tuple(shares)))
        return tuple(result)

    def as_dict(self) -> dict[str, Any]:
        tool = self.tool
        return {
            "tool": tool.name,
            "citation": tool.citation,
            "items": list(tool.item_ids),
            "domains": list(tool.domains),
            "rows": [
                {
                    "study": row.study,
                    "answers": dict(zip(tool.item_ids, row.answers, strict=True)),
                    "domains": dict(zip(tool.domains, row.concerns, strict=True)),
                    "yes": row.yes,
                    "applicable": row.applicable,
                }
                for row in self.rows
            ],
            "item_counts": {
                item_id: {a: self.count(item_id, a) for a in tool.answers}
                for item_id in tool.item_ids
            },
            "domain_counts": {
                domain: {c: self.concern_count(domain, c) for c in CONCERNS}
                for domain in tool.domains
            },
        }


def _weight(weights: Mapping[str, float] | None, study: str) -> float:
    if weights is None:
        return 1.0
    if study not in weights:
        raise AppraisalError(f"weights: no study size for {study!r}")
    value = weights[study]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise AppraisalError(f"weights: the size of {study!r} is {value!r}; use a positive number")
    return float(value)


def summary_table(appraisals: Sequence[Appraisal]) -> AppraisalSummary:
    """The summary table of final (consensus) appraisals, one per study, all with one tool,
    rows in the order given."""
    if not appraisals:
        raise AppraisalError("a summary table needs at least one appraisal")
    tool = appraisals[0].tool
    seen: set[str] = set()
    rows = []
    for appraisal in appraisals:
        if appraisal.tool != tool:
            raise AppraisalError(
                f"study {appraisal.study!r} uses {appraisal.tool.name}, not {tool.name}; "
                "make one table per tool (summary_tables)"
            )
        if appraisal.study in seen:
            raise AppraisalError(
                f"study {appraisal.study!r} is appraised twice; settle the two appraisals "
                "with consensus first"
            )
        seen.add(appraisal.study)
        judgement = judge(appraisal)
        rows.append(
            SummaryRow(
                appraisal.study,
                appraisal.values,
                tuple(concern for _, concern in judgement.domains),
                judgement.yes,
                judgement.applicable,
            )
        )
    return AppraisalSummary(tool, tuple(rows))


def summary_tables(appraisals: Sequence[Appraisal]) -> tuple[AppraisalSummary, ...]:
    """One summary table per tool (case reports and case series appraised with different
    tools), in the order each tool first appears."""
    by_tool: dict[str, list[Appraisal]] = {}
    for appraisal in appraisals:
        by_tool.setdefault(appraisal.tool.name, []).append(appraisal)
    return tuple(summary_table(group) for group in by_tool.values())
