"""Loading a protocol: TOML text in, a validated ``Protocol`` out (pure but for reading the
file), with every problem reported at its place: file and line for TOML syntax, the dotted
key path (and, where it can be found, the line) for schema errors, in the words of TOML.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from review.errors import ProtocolError, ProtocolProblem
from review.protocol.model import Protocol, cross_reference_problems


def sha256_text(text: str) -> str:
    """The sha256 of ``text`` as UTF-8, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_protocol_text(path: Path) -> str:
    """The protocol file's text (without a UTF-8 byte-order mark); ProtocolError if it is
    missing or not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _whole_file(path, "no such protocol file") from None
    except IsADirectoryError:
        raise _whole_file(path, "is a folder, not a protocol file") from None
    except OSError as exc:
        raise _whole_file(path, f"cannot read the protocol file: {exc.strerror}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark Windows editors write
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = ProtocolProblem(str(path), "not UTF-8 text; save the file as UTF-8")
        raise ProtocolError.of((replace(problem, line=line, column=column),)) from None


def _whole_file(path: Path | str, message: str) -> ProtocolError:
    return ProtocolError.of((ProtocolProblem(str(path), message),))


def load_protocol(path: Path) -> Protocol:
    """Read and validate a protocol file."""
    return parse_protocol(read_protocol_text(path), name=str(path))


def parse_protocol(text: str, *, name: str = "protocol.toml") -> Protocol:
    """Validate protocol TOML text; ProtocolError lists every problem with its place."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError.of((_toml_problem(exc, name),)) from None
    if not data:
        raise _whole_file(
            name,
            "the file has no TOML keys; a protocol needs [review], [search], "
            "[eligibility], [[exclusion_reasons]], [extraction], [[outcomes]] and [analysis]",
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
    raise ProtocolError.of(tuple(_place(path, message, lines, name) for path, message in found))


def _toml_problem(exc: tomllib.TOMLDecodeError, name: str) -> ProtocolProblem:
    message = str(exc)
    match = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", message)
    if match:
        text = f"TOML syntax error: {match[1]}"
        return ProtocolProblem(name, text, line=int(match[2]), column=int(match[3]))
    return ProtocolProblem(name, f"TOML syntax error: {message}")


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


def _place(path: str, message: str, lines: dict[str, int], name: str) -> ProtocolProblem:
    return ProtocolProblem(name, message, path or "(top level)", _nearest_line(path, lines))


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
