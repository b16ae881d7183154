"""Appraisal tools: the built-in templates (Murad et al. 2018; JBI's checklists for case
reports and case series), each citing its source and saying where its wording was taken
from, the default tool per study design, and custom tools declared in the protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from extraction.errors import AppraisalError

__all__ = [
    "ANSWERS",
    "BUILT_IN_TOOLS",
    "DEFAULT_TOOL_FOR_DESIGN",
    "JBI_CASE_REPORT",
    "JBI_CASE_SERIES",
    "MURAD_2018",
    "NO",
    "NOT_APPLICABLE",
    "UNCLEAR",
    "YES",
    "Item",
    "Tool",
    "built_in_tool",
    "custom_tool",
    "join_choices",
    "tool_for_design",
]

YES, NO, UNCLEAR, NOT_APPLICABLE = "yes", "no", "unclear", "not applicable"
ANSWERS: tuple[str, ...] = (YES, NO, UNCLEAR, NOT_APPLICABLE)
"""Every answer a tool may allow, in the order messages and counts list them."""


@dataclass(frozen=True)
class Item:
    """One question of a tool: its id (``q1``), domain, wording and allowed answers."""

    id: str
    domain: str
    question: str
    answers: tuple[str, ...]
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "question": self.question,
            "answers": list(self.answers),
            "note": self.note,
        }


@dataclass(frozen=True)
class Tool:
    """An appraisal tool: name, title, the source it comes from, and its items in order."""

    name: str
    title: str
    citation: str
    items: tuple[Item, ...]
    wording: str = ""
    """Where the item wording was taken from (and whether it was checked)."""

    def __post_init__(self) -> None:
        ids = [item.id for item in self.items]
        if not self.items:
            raise AppraisalError(f"appraisal tool {self.name!r} has no items")
        duplicate = next((i for i in ids if ids.count(i) > 1), None)
        if duplicate is not None:
            raise AppraisalError(
                f"appraisal tool {self.name!r}: item id {duplicate!r} is used twice"
            )

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def domains(self) -> tuple[str, ...]:
        """The domains in the order their first item appears."""
        return tuple(dict.fromkeys(item.domain for item in self.items))

    @property
    def answers(self) -> tuple[str, ...]:
        """Every answer some item allows, in :data:`ANSWERS` order."""
        allowed = {a for item in self.items for a in item.answers}
        return tuple(a for a in ANSWERS if a in allowed)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise AppraisalError(
            f"item {item_id!r} is not in {self.name} (its items are {', '.join(self.item_ids)})"
        )

    def domain_items(self, domain: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.domain == domain)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "citation": self.citation,
            "domains": list(self.domains),
            "items": [item.as_dict() for item in self.items],
            "wording": self.wording,
        }


# --- the built-in tools ------------------------------------------------------------------

_YNU = (YES, NO, UNCLEAR)
_YNUN = (YES, NO, UNCLEAR, NOT_APPLICABLE)
_ADVERSE = (
    "Murad et al. 2018, Table 1: questions 4, 5 and 6 are mostly relevant to cases of "
    "adverse drug events; answer 'not applicable' elsewhere"
)

MURAD_2018 = Tool(
    name="murad-2018",
    title="Murad et al. 2018 tool for the methodological quality of case reports and series",
    citation=(
        "Murad MH, Sultan S, Haffar S, Bazerbachi F. Methodological quality and synthesis "
        "of case series and case reports. BMJ Evid Based Med 2018;23(2):60-63. "
        "doi:10.1136/bmjebm-2017-110853"
    ),
    items=(
        Item(
            "q1",
            "selection",
            "Does the patient(s) represent(s) the whole experience of the investigator "
            "(centre) or is the selection method unclear to the extent that other patients "
            "with similar presentation may not have been reported?",
            _YNU,
        ),
        Item("q2", "ascertainment", "Was the exposure adequately ascertained?", _YNU),
        Item("q3", "ascertainment", "Was the outcome adequately ascertained?", _YNU),
        Item(
            "q4",
            "causality",
            "Were other alternative causes that may explain the observation ruled out?",
            _YNUN,
            _ADVERSE,
        ),
        Item("q5", "causality", "Was there a challenge/rechallenge phenomenon?", _YNUN, _ADVERSE),
        Item("q6", "causality", "Was there a dose-response effect?", _YNUN, _ADVERSE),
        Item("q7", "causality", "Was follow-up long enough for outcomes to occur?", _YNU),
        Item(
            "q8",
            "reporting",
            "Is the case(s) described with sufficient details to allow other investigators "
            "to replicate the research or to allow practitioners make inferences related to "
            "their own practice?",
            _YNU,
        ),
    ),
    wording=(
        "Questions as printed in Table 1 of the paper (the journal's own table, checked). "
        "Answers yes/no/unclear are our choice (the paper gives signalling questions, not "
        "answer options); 'not applicable' only for questions 4-6, as its footnote says."
    ),
)

JBI_CASE_REPORT = Tool(
    name="jbi-case-report",
    title="JBI critical appraisal checklist for case reports",
    citation=(
        "Moola S, Munn Z, Tufanaru C, Aromataris E, Sears K, Sfetcu R, et al. Chapter 7: "
        "Systematic reviews of etiology and risk. In: Aromataris E, Munn Z (editors). "
        "JBI Manual for Evidence Synthesis. JBI, 2020. doi:10.46658/JBIMES-20-08"
    ),
    items=tuple(
        Item(f"q{number}", "checklist", question, _YNUN)
        for number, question in enumerate(
            (
                "Were patient's demographic characteristics clearly described?",
                "Was the patient's history clearly described and presented as a timeline?",
                "Was the current clinical condition of the patient on presentation clearly "
                "described?",
                "Were diagnostic tests or assessment methods and the results clearly described?",
                "Was the intervention(s) or treatment procedure(s) clearly described?",
                "Was the post-intervention clinical condition clearly described?",
                "Were adverse events (harms) or unanticipated events identified and described?",
                "Does the case report provide takeaway lessons?",
            ),
            start=1,
        )
    ),
    wording=(
        "Questions as reproduced in a published review that used the checklist (PMC8255116, "
        "Table 3 note), not read from the JBI form itself; answers yes/no/unclear/not "
        "applicable as on the JBI form. JBI defines no domains, so all items form one "
        "domain, 'checklist'."
    ),
)

JBI_CASE_SERIES = Tool(
    name="jbi-case-series",
    title="JBI critical appraisal checklist for case series",
    citation=(
        "Munn Z, Barker TH, Moola S, Tufanaru C, Stern C, McArthur A, Stephenson M, "
        "Aromataris E. Methodological quality of case series studies: an introduction to "
        "the JBI critical appraisal tool. JBI Evid Synth 2020;18(10):2127-2133. "
        "doi:10.11124/JBISRIR-D-19-00099"
    ),
    items=tuple(
        Item(f"q{number}", "checklist", question, _YNUN)
        for number, question in enumerate(
            (
                "Were there clear criteria for inclusion in the case series?",
                "Was the condition measured in a standard, reliable way for all participants "
                "included in the case series?",
                "Were valid methods used for identification of the condition for all "
                "participants included in the case series?",
                "Did the case series have consecutive inclusion of participants?",
                "Did the case series have complete inclusion of participants?",
                "Was there clear reporting of the demographics of the participants in the study?",
                "Was there clear reporting of the clinical information of the participants?",
                "Were the outcomes or follow-up results of cases reported?",
                "Was there clear reporting of the presenting site(s)/clinic(s) demographic "
                "information?",
                "Was the statistical analysis appropriate?",
            ),
            start=1,
        )
    ),
    wording=(
        "Questions as reproduced in a published review that used the checklist (Int J "
        "Reprod Biomed 2020;18(12):1005-1018, Table 2), not read from the JBI form itself; "
        "answers yes/no/unclear/not applicable as on the JBI form. Munn et al. say the "
        "items address confounding, selection and information bias and reporting, but "
        "the checklist assigns no domains, so all items form one domain, 'checklist'."
    ),
)

BUILT_IN_TOOLS: Mapping[str, Tool] = {
    tool.name: tool for tool in (MURAD_2018, JBI_CASE_REPORT, JBI_CASE_SERIES)
}

DEFAULT_TOOL_FOR_DESIGN: Mapping[str, str] = {
    "case report": "jbi-case-report",
    "case series": "jbi-case-series",
}
"""The default tool per study design: JBI's checklist made for that design. Murad et al.
2018 covers both designs; a protocol that prefers it passes ``choices``."""


def built_in_tool(name: str) -> Tool:
    """The built-in tool called ``name``."""
    try:
        return BUILT_IN_TOOLS[name]
    except KeyError:
        raise AppraisalError(
            f"no built-in appraisal tool {name!r}; use one of {', '.join(BUILT_IN_TOOLS)}"
        ) from None


def tool_for_design(
    design: str,
    choices: Mapping[str, str] | None = None,
    custom: Iterable[Tool] = (),
) -> Tool:
    """The tool for a study design: ``choices`` (design -> tool name, from the protocol)
    first, then :data:`DEFAULT_TOOL_FOR_DESIGN`. Tool names may name ``custom`` tools."""
    key = _design_key(design)
    chosen = {_design_key(d): name for d, name in (choices or {}).items()}
    name = chosen.get(key) or DEFAULT_TOOL_FOR_DESIGN.get(key)
    if name is None:
        known = sorted(set(DEFAULT_TOOL_FOR_DESIGN) | set(chosen))
        raise AppraisalError(
            f"no appraisal tool for study design {design!r}; known designs: "
            f"{', '.join(known)}; choose a tool for it in the protocol"
        )
    for tool in custom:
        if tool.name == name:
            return tool
    return built_in_tool(name)


def _design_key(design: str) -> str:
    """'Case-Reports', 'case_series ' -> 'case report', 'case series'."""
    key = " ".join(design.lower().replace("-", " ").replace("_", " ").split())
    return key.removesuffix("s") if key.endswith("reports") else key


# --- custom tools from the protocol -----------------------------------------------------


def custom_tool(mapping: Mapping[str, Any]) -> Tool:
    """A tool declared in the protocol::

        {"name": "my-tool", "title": "...", "citation": "...",
         "answers": ["yes", "no", "unclear"],          # default for every item
         "items": [{"id": "q1", "domain": "selection", "question": "...",
                    "answers": [...]}, ...]}            # answers per item optional

    Answers come from yes, no, unclear and not applicable, and include yes and no, so
    judgements and plots mean the same for every tool. Errors name the key
    (``items[2].question``).
    """
    if not isinstance(mapping, Mapping):
        raise AppraisalError("appraisal tool: expected a mapping with name, citation and items")
    known = {"name", "title", "citation", "answers", "items"}
    extra = sorted(str(k) for k in mapping if k not in known)
    if extra:
        raise AppraisalError(
            f"appraisal tool: unknown key {extra[0]!r}; use {', '.join(sorted(known))}"
        )
    name = _text(mapping, "name", "appraisal tool")
    where = f"appraisal tool {name!r}"
    if name in BUILT_IN_TOOLS:
        raise AppraisalError(f"{where}: name: {name!r} is a built-in tool; choose another name")
    citation = _text(mapping, "citation", where)
    title = _text(mapping, "title", where) if "title" in mapping else name
    default = _answers(mapping["answers"], f"{where}: answers") if "answers" in mapping else _YNU
    raw_items = mapping.get("items")
    if not isinstance(raw_items, Sequence) or isinstance(raw_items, str) or not raw_items:
        raise AppraisalError(f"{where}: items: expected a non-empty list of items")
    items = tuple(
        _custom_item(raw, f"{where}: items[{i}]", default) for i, raw in enumerate(raw_items)
    )
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            raise AppraisalError(
                f"{where}: items[{i}].id: {item.id!r} is already the id of items[{seen[item.id]}]"
            )
        seen[item.id] = i
    return Tool(name, title, citation, items, wording="declared in the protocol")


def _custom_item(raw: Any, where: str, default: tuple[str, ...]) -> Item:
    if not isinstance(raw, Mapping):
        raise AppraisalError(f"{where}: expected a mapping with id, domain and question")
    known = {"id", "domain", "question", "answers", "note"}
    extra = sorted(str(k) for k in raw if k not in known)
    if extra:
        raise AppraisalError(f"{where}: unknown key {extra[0]!r}; use {', '.join(sorted(known))}")
    answers = _answers(raw["answers"], f"{where}.answers") if "answers" in raw else default
    note = _text(raw, "note", where) if "note" in raw else None
    return Item(
        _text(raw, "id", where),
        _text(raw, "domain", where),
        _text(raw, "question", where),
        answers,
        note,
    )


def _text(mapping: Mapping[str, Any], key: str, where: str) -> str:
    if key not in mapping:
        raise AppraisalError(f"{where}: {key} is missing")
    value = mapping[key]
    if not isinstance(value, str) or not value.strip():
        raise AppraisalError(f"{where}: {key}: expected non-empty text, not {value!r}")
    return value.strip()


def _answers(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise AppraisalError(f"{where}: expected a list of answers, not {value!r}")
    unknown = [a for a in value if a not in ANSWERS]
    if unknown:
        raise AppraisalError(
            f"{where}: {unknown[0]!r} is not an answer; use {join_choices(ANSWERS)}"
        )
    if YES not in value or NO not in value:
        raise AppraisalError(f"{where}: the answers must include yes and no")
    if len(set(value)) != len(value):
        raise AppraisalError(f"{where}: an answer is listed twice")
    return tuple(a for a in ANSWERS if a in value)


def join_choices(words: Sequence[str]) -> str:
    """'yes, no or unclear': the allowed values, as error messages list them."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
