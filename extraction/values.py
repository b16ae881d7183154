"""Values of a form's fields, checked as an extractor types them (pure).

Every cell is text as a person wrote it. A field is *not yet entered* (empty), *not
reported* (``NR`` or ``not reported``: the report does not say), or a value of its type:

- ``text``: any text on one line (trimmed);
- ``integer`` and ``number``: a number (a decimal point, not a comma), optionally followed
  by the field's own unit (``12 months`` where the unit is months; another unit is refused
  rather than converted), within ``min``/``max``;
- ``date``: ``2019``, ``2019-03`` or ``2019-03-14`` (case reports often give only a year);
- ``choice``: one of the choices (any case); ``multichoice``: choices separated by ``;``;
- ``yes-no-unknown``: ``yes``, ``no`` or ``unknown`` (``y``/``n`` too).

``check_row`` checks a whole row: each value, ``required`` fields (not reported counts as
an answer), and ``when`` conditions (a value given where its condition is false is an
error; where the condition is unknown the value is kept). Problems name the field and the
value; the callers add the place (file, sheet, row, column).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from extraction.forms import Form, FormField
from extraction.rules import parse_rule

Status = Literal["value", "not_reported"]
NOT_REPORTED = ("nr", "not reported", "not_reported")
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_YES_NO = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "unknown": "unknown"}
TEXT_LIMIT = 2000


class ValueProblem(ValueError):
    """A value that its field does not accept (the message names the field and value)."""


@dataclass(frozen=True, slots=True)
class Value:
    """One field's value as stored: canonical ``text`` (None when not reported) and its
    ``status``. ``typed`` is what rules compute with."""

    field: str
    status: Status
    text: str | None

    @property
    def typed(self) -> Any:
        return None if self.status == "not_reported" else self.text


def typed(field: FormField, value: Value | None) -> Any:
    """The value a rule sees: numbers as numbers, a multichoice as a tuple, missing (not
    entered or not reported) as None."""
    if value is None or value.text is None:
        return None
    if field.type == "integer":
        return int(value.text)
    if field.type == "number":
        return float(value.text)
    if field.type == "multichoice":
        return tuple(value.text.split("; "))
    return value.text


def parse_value(field: FormField, raw: object) -> Value | None:
    """One cell's value for ``field`` (None when empty: not entered); ValueProblem when
    the field does not accept it."""
    if raw is None:
        return None
    text = (
        _number_text(raw)
        if isinstance(raw, int | float) and not isinstance(raw, bool)
        else str(raw)
    )
    text = text.strip()
    if not text:
        return None
    if text.lower() in NOT_REPORTED:
        return Value(field.name, "not_reported", None)
    return Value(field.name, "value", _canonical(field, text))


def _number_text(raw: int | float) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return repr(raw)


def _canonical(field: FormField, text: str) -> str:
    name = field.name
    kind = field.type
    if kind == "text":
        if len(text) > TEXT_LIMIT or any(ord(c) < 32 and c not in "\t" for c in text):
            raise ValueProblem(f"{name}: text of at most {TEXT_LIMIT} characters on one line")
        return text
    if kind in ("integer", "number"):
        return _numeric(field, text)
    if kind == "date":
        return _date(name, text)
    if kind == "yes-no-unknown":
        found = _YES_NO.get(text.lower())
        if found is None:
            raise ValueProblem(f"{name}: {text!r} is not yes, no or unknown")
        return found
    by_lower = {c.lower(): c for c in field.choices}
    if kind == "choice":
        found = by_lower.get(text.lower())
        if found is None:
            raise ValueProblem(f"{name}: {text!r} is not one of {_choices(field)}")
        return found
    picked = [p.strip() for p in re.split(r"[;|]", text) if p.strip()]
    unknown = [p for p in picked if p.lower() not in by_lower]
    if unknown:
        raise ValueProblem(
            f"{name}: {unknown[0]!r} is not one of {_choices(field)} (separate several with ';')"
        )
    chosen = {by_lower[p.lower()] for p in picked}
    return "; ".join(c for c in field.choices if c in chosen)


def _choices(field: FormField) -> str:
    return ", ".join(repr(c) for c in field.choices)


def _numeric(field: FormField, text: str) -> str:
    name = field.name
    match = _NUMBER.match(text)
    if match is None:
        hint = " (use a decimal point)" if re.match(r"^\d+,\d+", text) else ""
        raise ValueProblem(f"{name}: {text!r} is not a number{hint}")
    number, unit = match.group(1), match.group(2).strip()
    if unit.startswith(","):
        raise ValueProblem(f"{name}: {text!r} is not a number (use a decimal point)")
    if unit and (field.unit is None or unit.lower() != field.unit.lower()):
        wanted = f"in {field.unit}" if field.unit else "a number without a unit"
        raise ValueProblem(f"{name}: {text!r} has the unit {unit!r}; give it {wanted}")
    value = float(number)
    if field.type == "integer":
        if not value.is_integer():
            raise ValueProblem(f"{name}: {text!r} is not a whole number")
        canonical = str(int(value))
    else:
        canonical = f"{value:g}" if abs(value) < 1e15 else repr(value)
    unit_words = f" {field.unit}" if field.unit else ""
    if field.min is not None and value < field.min:
        raise ValueProblem(f"{name}: {text} is below the minimum, {field.min:g}{unit_words}")
    if field.max is not None and value > field.max:
        raise ValueProblem(f"{name}: {text} is above the maximum, {field.max:g}{unit_words}")
    return canonical


def _date(name: str, text: str) -> str:
    match = _DATE.match(text)
    if match is None:
        raise ValueProblem(f"{name}: {text!r} is not a date; write 2019, 2019-03 or 2019-03-14")
    year, month, day = match.groups()
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueProblem(f"{name}: {text!r} is not a date in the calendar") from None
    return text


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A problem of one field in one row (``field`` None: the row as a whole)."""

    field: str | None
    message: str


def check_row(form: Form, raw: Mapping[str, object]) -> tuple[dict[str, Value], list[RowProblem]]:
    """Every field of a row checked: its values (fields left empty are absent) and every
    problem found, not only the first."""
    values: dict[str, Value] = {}
    problems: list[RowProblem] = []
    fields = {f.name: f for f in form.fields}
    for name in raw:
        if name not in fields:
            problems.append(RowProblem(name, f"{name}: the form {form.label!r} has no such field"))
    for field in form.fields:
        try:
            value = parse_value(field, raw.get(field.name))
        except ValueProblem as exc:
            problems.append(RowProblem(field.name, str(exc)))
            continue
        if value is not None:
            values[field.name] = value
    bad = {p.field for p in problems}
    seen = {name: typed(fields[name], v) for name, v in values.items()}
    for field in form.fields:
        if field.name in bad:
            continue
        applies = True if field.when is None else parse_rule(field.when).evaluate(seen)
        given = field.name in values
        if applies is False and given:
            problems.append(
                RowProblem(
                    field.name,
                    f"{field.name}: a value is given, but the field applies only when {field.when}",
                )
            )
        elif field.required and not given and applies is not False:
            problems.append(
                RowProblem(
                    field.name, f"{field.name}: required (write NR if the report does not say)"
                )
            )
    return values, problems
