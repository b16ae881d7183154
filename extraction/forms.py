"""Extraction form definitions, declared in the protocol like a REDCap data dictionary.

A study form (one row per report) and a case form (one row per patient, repeating,
linked to its study). Each field has a type, optional unit and range, choices, a
``required`` flag, help text and a simple ``when`` condition (see ``extraction.rules``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from extraction.errors import RuleError
from extraction.rules import parse_rule

FieldType = Literal["text", "integer", "number", "date", "choice", "multichoice", "yes-no-unknown"]
FIELD_TYPES: tuple[str, ...] = (
    "text",
    "integer",
    "number",
    "date",
    "choice",
    "multichoice",
    "yes-no-unknown",
)
YES_NO_UNKNOWN = ("yes", "no", "unknown")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class StrictModel(BaseModel):
    """A protocol section: unknown keys are errors, values cannot change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FormField(StrictModel):
    """One field of a form."""

    name: str
    label: str
    type: FieldType
    unit: str | None = None
    min: StrictFloat | None = None
    max: StrictFloat | None = None
    choices: tuple[str, ...] = ()
    required: StrictBool = False
    help: str | None = None
    when: str | None = None

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"{value!r} is not a field name: use lower-case letters, digits and _, "
                "starting with a letter"
            )
        return value

    @field_validator("when")
    @classmethod
    def _when_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_rule(value)
            except RuleError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _type_specific(self) -> FormField:
        numeric = self.type in ("integer", "number")
        if (self.min is not None or self.max is not None) and not numeric:
            raise ValueError(f"min/max apply to integer and number fields, not {self.type}")
        if self.unit is not None and not numeric:
            raise ValueError(f"a unit applies to integer and number fields, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        if self.type in ("choice", "multichoice"):
            if len(self.choices) < 2:
                raise ValueError(f"a {self.type} field needs at least two choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices must be unique")
        elif self.choices:
            raise ValueError(f"choices apply to choice and multichoice fields, not {self.type}")
        return self

    @property
    def allowed_values(self) -> tuple[str, ...]:
        """The values a choice-like field accepts (empty for free fields)."""
        if self.type == "yes-no-unknown":
            return YES_NO_UNKNOWN
        return self.choices


class Form(StrictModel):
    """A form: a label, and its fields in order."""

    label: str
    fields: tuple[FormField, ...] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _names_unique_and_conditions_known(
        cls, fields: tuple[FormField, ...]
    ) -> tuple[FormField, ...]:
        """Each problem is reported at its field (``fields[3].name``, ``fields[7].when``)."""
        names = [f.name for f in fields]
        problems: list[tuple[tuple[int, str], str, str | None]] = []
        for position, form_field in enumerate(fields):
            first = names.index(form_field.name)
            if first != position:
                message = f"{form_field.name!r} is already the name of fields[{first}]"
                problems.append(((position, "name"), message, form_field.name))
            if form_field.when is not None:
                unknown = sorted(parse_rule(form_field.when).fields - set(names))
                if unknown:
                    message = f"refers to unknown field(s): {', '.join(unknown)}"
                    problems.append(((position, "when"), message, form_field.when))
        if problems:
            raise ValidationError.from_exception_data(
                "Form",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", "{error}", {"error": message}),
                        loc=loc,
                        input=given,
                    )
                    for loc, message, given in problems
                ],
            )
        return fields

    def field(self, name: str) -> FormField | None:
        """The field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


class Forms(StrictModel):
    """The study form and the repeating case form."""

    study: Form
    case: Form
