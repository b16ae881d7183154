"""The protocol's model: every section of the TOML file as a frozen, strict pydantic model.

Unknown keys are errors, quoted numbers and booleans are errors, and rules and conditions
must parse; ``review.protocol.loading`` turns the problems into messages with their place.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
    model_validator,
)

from extraction.errors import RuleError
from extraction.forms import Forms, StrictModel
from extraction.rules import parse_rule
from meta.types import CCMode, Measure, Method, StudyCIMethod, Test
from review.errors import ProtocolError
from review.prisma.flow import SourceKind
from review.pubmed.dates import DateLimitError, DateLimits, DateTypeName, limit_day

Stage = Literal["title_abstract", "full_text"]
_CODE = re.compile(r"^[a-z][a-z0-9_-]*$")


class Question(StrictModel):
    """The review question as PICO."""

    population: str
    intervention: str
    comparator: str | None = None
    outcome: str


class ReviewInfo(StrictModel):
    """Title, question and registration of the review."""

    title: str
    question: Question
    registration: str | None = None
    authors: tuple[str, ...] = ()


class PubMedSearch(StrictModel):
    """The PubMed query with its date limits; the email NCBI asks every client for."""

    query: str = Field(min_length=1)
    email: str | None = None
    mindate: str | None = None
    maxdate: str | None = None
    datetype: DateTypeName | None = None

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("mindate", "maxdate")
    @classmethod
    def _date_shape(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                limit_day(value, end=False)
            except DateLimitError as exc:
                raise ValueError(f"{value!r} {exc.problem}") from None
        return value

    @model_validator(mode="after")
    def _dates_paired(self) -> PubMedSearch:
        self.limits()
        return self

    def limits(self) -> DateLimits:
        """The date limits of the search (none when no dates are given)."""
        try:
            return DateLimits(self.mindate, self.maxdate, self.datetype)
        except DateLimitError as exc:
            raise ValueError(str(exc)) from None


class OtherSource(StrictModel):
    """A source searched besides PubMed (another database, a registry, a local series)."""

    name: str
    kind: SourceKind = "database"
    description: str | None = None


class SearchPlan(StrictModel):
    """What is searched."""

    pubmed: PubMedSearch | None = None
    other_sources: tuple[OtherSource, ...] = ()


class Eligibility(StrictModel):
    """Inclusion and exclusion criteria as the review states them."""

    include: tuple[str, ...] = Field(min_length=1)
    exclude: tuple[str, ...] = ()


class ExclusionReason(StrictModel):
    """A reason to exclude a record, with the stages where it may be used."""

    code: str
    label: str
    stages: tuple[Stage, ...] = ("title_abstract", "full_text")

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError(f"{value!r} is not a code: use lower-case letters, digits, - and _")
        return value


class Highlight(StrictModel):
    """Terms the screener shows in colour: words that suggest inclusion and exclusion
    (whole words, any case; ``*`` at the end matches any ending; phrases allowed)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("include", "exclude")
    @classmethod
    def _terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for term in value:
            if not term.strip().rstrip("*").strip():
                raise ValueError(f"{term!r} is not a term: give a word or phrase")
        return value


class Screening(StrictModel):
    """How records are screened: the stages, how many reviewers decide each record,
    whether they screen blind, who may unblind and resolve conflicts (``leads``; anyone
    when empty), and which records go on to full text: those included (or marked maybe)
    by either reviewer at title/abstract (``either-includes``) or only those whose
    title/abstract decision is agreed or resolved (``after-resolution``)."""

    stages: tuple[Stage, ...] = ("title_abstract", "full_text")
    reviewers_per_record: StrictInt = Field(default=2, ge=1, le=3)
    blind: StrictBool = True
    leads: tuple[str, ...] = ()
    advance: Literal["after-resolution", "either-includes"] = "after-resolution"
    highlight: Highlight = Highlight()

    @field_validator("leads")
    @classmethod
    def _lead_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from review.errors import ScreeningError
        from review.screening.events import check_name

        try:
            return tuple(check_name(name, "lead") for name in value)
        except ScreeningError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("stages")
    @classmethod
    def _stages_ordered(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) == 0 or len(set(value)) != len(value):
            raise ValueError("give each screening stage once")
        if list(value) != sorted(value, key=["title_abstract", "full_text"].index):
            raise ValueError("title_abstract comes before full_text")
        return value


class Outcome(StrictModel):
    """A binary outcome: its published definition and the rule deriving it from case fields."""

    name: str
    label: str
    definition: str
    rule: str
    assessed: str | None = None
    source: str | None = None

    @field_validator("rule", "assessed")
    @classmethod
    def _rule_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rule(value)
            except RuleError as exc:
                raise ValueError(str(exc)) from None
        return value


class AnalysisSpec(StrictModel):
    """One way of pooling: measure, tau² method (or GLMM), interval test, study CIs."""

    measure: Measure = "PLO"
    method: Method = "GLMM"
    test: Test = "z"
    study_ci: StudyCIMethod = "CP"
    cc: StrictFloat = Field(default=0.5, ge=0)
    cc_mode: CCMode = "only0"
    level: StrictFloat = Field(default=0.95, gt=0, lt=1)


class SensitivityAnalysis(StrictModel):
    """A sensitivity analysis: another method, or leaving studies out."""

    label: str
    kind: Literal["method", "leave-one-out", "without-single-case-reports", "without"]
    spec: AnalysisSpec | None = None
    studies: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _kind_needs(self) -> SensitivityAnalysis:
        if self.kind == "method" and self.spec is None:
            raise ValueError("a 'method' sensitivity analysis needs a spec table")
        if self.kind == "without" and not self.studies:
            raise ValueError("a 'without' sensitivity analysis needs studies to leave out")
        return self


class AnalysisPlan(StrictModel):
    """The pre-specified analysis: primary model, subgroups and sensitivity analyses."""

    outcomes: tuple[str, ...] = Field(min_length=1)
    primary: AnalysisSpec = AnalysisSpec()
    subgroups: tuple[str, ...] = ()
    sensitivity: tuple[SensitivityAnalysis, ...] = ()


class Extraction(StrictModel):
    """The extraction forms, and how many people extract each study: 1 (one extractor;
    the latest entry stands) or 2 (dual extraction: values stand once both agree or the
    difference is resolved)."""

    forms: Forms
    extractors: Literal[1, 2] = 1


class AppraisalPlan(StrictModel):
    """Which appraisal tool each study design gets (``[appraisal.designs]``, design -> tool
    name; by default JBI's checklist for case reports or case series, see
    ``extraction.appraisal_tools.DEFAULT_TOOL_FOR_DESIGN``), and tools of the review's own
    (``[[appraisal.tools]]``: name, citation, items)."""

    designs: dict[str, str] = Field(default_factory=dict)
    tools: tuple[dict[str, Any], ...] = ()

    @field_validator("tools")
    @classmethod
    def _tools_valid(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        from extraction.appraisal_tools import custom_tool
        from extraction.errors import AppraisalError

        for raw in value:
            try:
                custom_tool(raw)
            except AppraisalError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _designs_name_tools(self) -> AppraisalPlan:
        from extraction.appraisal_tools import BUILT_IN_TOOLS

        known = set(BUILT_IN_TOOLS) | {str(t.get("name")) for t in self.tools}
        for design, name in self.designs.items():
            if name not in known:
                raise ValueError(
                    f"designs.{design}: {name!r} is not a tool; use one of "
                    f"{', '.join(sorted(known))}"
                )
        return self


class Protocol(StrictModel):
    """A whole review protocol."""

    review: ReviewInfo
    search: SearchPlan
    eligibility: Eligibility
    exclusion_reasons: tuple[ExclusionReason, ...] = Field(min_length=1)
    screening: Screening = Screening()
    extraction: Extraction
    appraisal: AppraisalPlan = AppraisalPlan()
    outcomes: tuple[Outcome, ...] = Field(min_length=1)
    analysis: AnalysisPlan

    def outcome(self, name: str) -> Outcome:
        """The outcome called ``name``."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        known = ", ".join(o.name for o in self.outcomes)
        raise ProtocolError(f"no outcome {name!r} in the protocol (known: {known})")

    def reasons_for(self, stage: Stage) -> tuple[ExclusionReason, ...]:
        """The exclusion reasons usable at ``stage``."""
        return tuple(r for r in self.exclusion_reasons if stage in r.stages)


def cross_reference_problems(protocol: Protocol) -> list[tuple[str, str]]:
    """Problems across sections (unknown fields in rules, unknown outcomes), as (path, message)."""
    problems: list[tuple[str, str]] = []
    codes = [r.code for r in protocol.exclusion_reasons]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            problems.append((f"exclusion_reasons[{i}].code", f"{code!r} is used twice"))
    case_fields = set(protocol.extraction.forms.case.names)
    study_fields = set(protocol.extraction.forms.study.names)
    names = [o.name for o in protocol.outcomes]
    for i, outcome in enumerate(protocol.outcomes):
        if outcome.name in names[:i]:
            problems.append((f"outcomes[{i}].name", f"{outcome.name!r} is used twice"))
        for key in ("rule", "assessed"):
            text = getattr(outcome, key)
            unknown = sorted(parse_rule(text).fields - case_fields) if text else []
            if unknown:
                problems.append(
                    (f"outcomes[{i}].{key}", f"unknown case field(s): {', '.join(unknown)}")
                )
    for i, name in enumerate(protocol.analysis.outcomes):
        if name not in names:
            message = f"{name!r} is not an outcome (known: {', '.join(names)})"
            problems.append((f"analysis.outcomes[{i}]", message))
    for i, name in enumerate(protocol.analysis.subgroups):
        if name not in study_fields:
            problems.append((f"analysis.subgroups[{i}]", f"{name!r} is not a study-form field"))
    return problems
