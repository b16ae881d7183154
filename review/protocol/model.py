"""The review protocol: one TOML file that drives the whole review, validated on load.

``parse_protocol`` is pure (text in, frozen ``Protocol`` out); every problem is reported
with its place: file and line for TOML syntax, the dotted key path (and, where it can be
found, the line) for schema errors.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from extraction.errors import RuleError
from extraction.forms import Forms, StrictModel
from extraction.rules import parse_rule
from meta.types import CCMode, Measure, Method, StudyCIMethod, Test
from review.errors import ProtocolError

Stage = Literal["title_abstract", "full_text"]
DateType = Literal["pdat", "edat", "mdat"]
_CODE = re.compile(r"^[a-z][a-z0-9_-]*$")
_DATE = re.compile(r"^\d{4}(/\d{2}(/\d{2})?)?$")


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
    datetype: DateType | None = None

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("mindate", "maxdate")
    @classmethod
    def _date_shape(cls, value: str | None) -> str | None:
        if value is not None and not _DATE.match(value):
            raise ValueError(f"{value!r} is not a PubMed date (YYYY, YYYY/MM or YYYY/MM/DD)")
        return value

    @model_validator(mode="after")
    def _dates_paired(self) -> PubMedSearch:
        if (self.mindate is None) != (self.maxdate is None):
            raise ValueError("give both mindate and maxdate, or neither (E-utilities needs both)")
        if self.mindate and self.maxdate and self.mindate > self.maxdate:
            raise ValueError(f"mindate {self.mindate} is after maxdate {self.maxdate}")
        return self


class OtherSource(StrictModel):
    """A source searched besides PubMed (another database, a registry, a local series)."""

    name: str
    kind: Literal[
        "database", "register", "website", "citation-search", "hand-search", "local", "other"
    ] = "database"
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


class Screening(StrictModel):
    """How records are screened."""

    stages: tuple[Stage, ...] = ("title_abstract", "full_text")
    reviewers_per_record: StrictInt = Field(default=2, ge=1, le=3)
    blind: StrictBool = True

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
    """The extraction forms."""

    forms: Forms


class Protocol(StrictModel):
    """A whole review protocol."""

    review: ReviewInfo
    search: SearchPlan
    eligibility: Eligibility
    exclusion_reasons: tuple[ExclusionReason, ...] = Field(min_length=1)
    screening: Screening = Screening()
    extraction: Extraction
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


def sha256_text(text: str) -> str:
    """The sha256 of ``text`` as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_protocol_text(path: Path) -> str:
    """The protocol file's text (without a UTF-8 byte-order mark); ProtocolError if it is
    missing or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProtocolError(f"{path}: no such protocol file") from None
    except IsADirectoryError:
        raise ProtocolError(f"{path}: is a folder, not a protocol file") from None
    except OSError as exc:
        raise ProtocolError(f"{path}: cannot read the protocol file: {exc.strerror}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark Windows editors write
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProtocolError(
            f"{path}: line {line}, column {column}: not UTF-8 text; save the file as UTF-8"
        ) from None


def load_protocol(path: Path) -> Protocol:
    """Read and validate a protocol file."""
    return parse_protocol(read_protocol_text(path), name=str(path))


def parse_protocol(text: str, *, name: str = "protocol.toml") -> Protocol:
    """Validate protocol TOML text; ProtocolError lists every problem with its place."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{name}: {_toml_message(exc)}") from None
    if not data:
        raise ProtocolError(
            f"{name}: the file has no TOML keys; a protocol needs [review], [search], "
            "[eligibility], [[exclusion_reasons]], [extraction], [[outcomes]] and [analysis]"
        )
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        found = [(_error_path(e), _message(e)) for e in exc.errors()]
    else:
        found = cross_reference_problems(protocol)
        if not found:
            return protocol
    lines = key_lines(text)
    problems = tuple(_place(path, message, lines, name) for path, message in found)
    if len(problems) == 1:
        raise ProtocolError(problems[0], problems)
    raise ProtocolError(f"{name}: {len(problems)} problems:\n" + "\n".join(problems), problems)


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if match:
        return f"line {match[2]}, column {match[3]}: TOML syntax error: {match[1]}"
    return f"TOML syntax error: {message}"


def dotted_path(loc: tuple[int | str, ...]) -> str:
    """('a', 'b', 3, 'c') -> 'a.b[3].c'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _error_path(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    return dotted_path(loc)


def _place(path: str, message: str, lines: dict[str, int], name: str) -> str:
    line = _nearest_line(path, lines)
    where = f"{name}, line {line}" if line else name
    return f"{where}: {path or '(top level)'}: {message}"


# pydantic's type errors in the words of TOML (a "dictionary" is a table, a "tuple" an array)
_TOML_TYPES = {
    "model_type": "a table (a [section] or { key = value, ... })",
    "dict_type": "a table (a [section] or { key = value, ... })",
    "tuple_type": "an array ([...])",
    "list_type": "an array ([...])",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string in quotes",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
}


def _message(error: Any) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{given!r} is not one of {expected}"
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling)"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind in ("too_short",) and isinstance(given, list | tuple) and len(given) == 0:
        return "must not be empty"
    if kind in _TOML_TYPES:
        return f"should be {_TOML_TYPES[kind]} (got {given!r})"
    return f"{error['msg'][0].lower()}{error['msg'][1:]} (got {given!r})"


def _nearest_line(path: str, lines: dict[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            return lines.get(path)
        path = path[:cut]
    return None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def key_lines(text: str) -> dict[str, int]:
    """Map dotted key paths (with [i] for arrays of tables) to the line that defines them.

    A best-effort scan of the TOML text for error messages; keys inside inline tables or
    multi-line values map to their enclosing key.
    """
    result: dict[str, int] = {}
    array_counts: dict[str, int] = {}
    table = ""
    in_multiline: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if not line or line.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header and "=" not in line.split("]")[0]:
            key = _unquote_path(header[2])
            base = _resolve_arrays(key, array_counts)
            if header[1] == "[[":
                index = array_counts.get(key, -1) + 1
                array_counts[key] = index
                table = f"{base}[{index}]"
                result.setdefault(base, number)
            else:
                table = base
            result.setdefault(table, number)
            continue
        key_match = _KEY.match(line)
        if key_match:
            key = _unquote_path(key_match[1])
            full = f"{table}.{key}" if table else key
            result.setdefault(full, number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
    return result


def _unquote_path(key: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in key.split("."))


def _resolve_arrays(key: str, array_counts: dict[str, int]) -> str:
    """Resolve 'a.b.c' under the current elements of arrays of tables, e.g. 'a[0].b.c'."""
    parts = key.split(".")
    out = ""
    plain = ""
    for part in parts:
        plain = f"{plain}.{part}" if plain else part
        out = f"{out}.{part}" if out else part
        if plain in array_counts and plain != key:
            out += f"[{array_counts[plain]}]"
    return out


def protocol_summary(protocol: Protocol) -> dict[str, Any]:
    """A plain summary of a protocol, for ``casepool protocol check``."""
    pubmed = protocol.search.pubmed
    forms = protocol.extraction.forms
    return {
        "title": protocol.review.title,
        "registration": protocol.review.registration,
        "question": protocol.review.question.model_dump(),
        "pubmed_query": " ".join(pubmed.query.split()) if pubmed else None,
        "other_sources": [s.name for s in protocol.search.other_sources],
        "screening": protocol.screening.model_dump(),
        "exclusion_reasons": [r.code for r in protocol.exclusion_reasons],
        "forms": {"study": len(forms.study.fields), "case": len(forms.case.fields)},
        "outcomes": [o.name for o in protocol.outcomes],
        "analysis": protocol.analysis.model_dump(),
    }
