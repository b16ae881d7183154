"""The forms as a REDCap data dictionary, and the codes its records exports hold.

A centre keeps its series in REDCap: ``data_dictionary`` gives the 18-column CSV that
REDCap's Data Dictionary upload accepts (one instrument ``study``, one ``case`` that the
centre sets as repeating under Project Setup, Repeating instruments);
``extraction.redcap_records`` reads the project's records exports back with the same codes.
How each casepool type is written:

- ``text``: text; ``integer`` / ``number``: text validated as ``integer`` / ``number``
  with the form's min and max, the unit in the field note.
- ``date``: text without validation, since a report may give only 2019 or 2019-03,
  which ``date_ymd`` refuses; the field note says ``YYYY, YYYY-MM or YYYY-MM-DD``.
- ``choice``: radio (up to 6 choices) or dropdown, coded 1, 2, ... in the form's order.
- ``multichoice``: checkbox coded 1, 2, ...; an export has one ``field___code`` column each.
- ``yes-no-unknown``: radio ``1, Yes | 0, No | 9, Unknown`` (REDCap's ``yesno`` has no
  unknown, and 1/0 keep its codes).
- ``when``: branching logic (``extraction.redcap_branching``).

"Not reported" is REDCap's Missing Data Codes (Project Setup, Additional customizations):
add ``NR, Not reported`` (casepool's own ``NR``) or use ``NI, No information`` from REDCap's
suggested list; a cell holding either (or a ticked ``field___nr`` / ``field___ni`` box) is
read as not reported, distinct from an empty cell.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from extraction.errors import RedcapError
from extraction.forms import Form, FormField, Forms
from extraction.redcap_branching import branching_logic

HEADER: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
"""REDCap's data dictionary columns, in REDCap's order and spelling."""

RECORD_ID = "record_id"
RECORD_ID_LABEL = "Record ID"
STUDY_FORM = "study"
CASE_FORM = "case"
NOT_REPORTED: Mapping[str, str] = MappingProxyType({"NR": "Not reported", "NI": "No information"})
"""The missing data codes read as "not reported" unless others are given."""
YES_NO_UNKNOWN_CODES = {"yes": ("1", "Yes"), "no": ("0", "No"), "unknown": ("9", "Unknown")}
RADIO_AT_MOST = 6
DATE_NOTE = "YYYY, YYYY-MM or YYYY-MM-DD"


# ---------------------------------------------------------------- the data dictionary


def choice_codes(form_field: FormField) -> dict[str, tuple[str, str]]:
    """Each value of a choice-like field: its REDCap code and label (empty for free fields)."""
    if form_field.type == "yes-no-unknown":
        return dict(YES_NO_UNKNOWN_CODES)
    return {value: (str(n), value) for n, value in enumerate(form_field.choices, start=1)}


def _codes(form_field: FormField) -> dict[str, str]:
    return {value: code for value, (code, _) in choice_codes(form_field).items()}


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def _row(
    form_name: str, form_field: FormField, form: Form, missing_codes: Mapping[str, str]
) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    kind, validation = {
        "text": ("text", ""),
        "integer": ("text", "integer"),
        "number": ("text", "number"),
        "date": ("text", ""),
        "multichoice": ("checkbox", ""),
        "yes-no-unknown": ("radio", ""),
        "choice": ("radio" if len(form_field.choices) <= RADIO_AT_MOST else "dropdown", ""),
    }[form_field.type]
    choices = choice_codes(form_field)
    for code_label in choices.values():
        if "|" in code_label[1]:
            raise RedcapError(
                f"{form_name}.{form_field.name}: the choice {code_label[1]!r} holds '|', "
                "which REDCap reads as the end of a choice"
            )
    notes = [f"Unit: {form_field.unit}"] if form_field.unit else []
    notes += [DATE_NOTE] if form_field.type == "date" else []
    notes += [form_field.help] if form_field.help else []
    row.update(
        {
            "Variable / Field Name": form_field.name,
            "Form Name": form_name,
            "Field Type": kind,
            "Field Label": form_field.label,
            "Choices, Calculations, OR Slider Labels": " | ".join(
                f"{code}, {label}" for code, label in choices.values()
            ),
            "Field Note": "; ".join(notes),
            "Text Validation Type OR Show Slider Number": validation,
            "Text Validation Min": _number(form_field.min),
            "Text Validation Max": _number(form_field.max),
            "Branching Logic (Show field only if...)": branching_logic(
                form_name, form_field, form, _codes, tuple(missing_codes)
            ),
            "Required Field?": "y" if form_field.required else "",
        }
    )
    return row


def data_dictionary(
    forms: Forms, missing_codes: Mapping[str, str] = NOT_REPORTED
) -> list[dict[str, str]]:
    """The forms as REDCap data dictionary rows: ``record_id`` first, then the study form's
    fields, then the case form's; each row maps every column of ``HEADER`` to its text.
    Branching logic reads a cell holding one of ``missing_codes`` as missing."""
    for form_name, form in ((STUDY_FORM, forms.study), (CASE_FORM, forms.case)):
        if form.field(RECORD_ID) is not None:
            raise RedcapError(
                f"{form_name}.{RECORD_ID}: REDCap's record identifier has this name; "
                "rename the field"
            )
    clash = sorted(set(forms.study.names) & set(forms.case.names))
    if clash:
        raise RedcapError(
            f"{CASE_FORM}.{clash[0]}: the study form has a field of this name too, and a "
            "REDCap project needs one name per field"
        )
    first = dict.fromkeys(HEADER, "")
    first.update(
        {
            "Variable / Field Name": RECORD_ID,
            "Form Name": STUDY_FORM,
            "Field Type": "text",
            "Field Label": RECORD_ID_LABEL,
        }
    )
    rows = [first]
    for form_name, form in ((STUDY_FORM, forms.study), (CASE_FORM, forms.case)):
        rows += [_row(form_name, f, form, missing_codes) for f in form.fields]
    return rows


def data_dictionary_csv(forms: Forms, missing_codes: Mapping[str, str] = NOT_REPORTED) -> str:
    """The data dictionary as CSV text, REDCap's header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data_dictionary(forms, missing_codes))
    return out.getvalue()


def write_data_dictionary(
    forms: Forms, path: Path, missing_codes: Mapping[str, str] = NOT_REPORTED
) -> None:
    """Write the data dictionary to ``path`` (UTF-8), replacing it only once it is complete."""
    text = data_dictionary_csv(forms, missing_codes)
    folder = path.parent
    if not folder.is_dir():
        raise RedcapError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_text(text, encoding="utf-8", newline="")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise RedcapError(f"{path}: cannot write the file: {error.strerror or error}") from None
