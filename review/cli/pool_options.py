"""The options ``casepool pool`` and ``casepool sensitivity`` share, with their parsers.

Every bad value is a usage error (exit 2) in one wording, naming the option, the value and
what a good one looks like: ``Invalid value for '--level': 95 is not between 0 and 1
(exclusive); a confidence level is a fraction such as 0.95``. The library checks the same
values again for Python callers (``meta.pooling``), in its own words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer

from meta.types import CC_MODES, MEASURES, METHODS, STUDY_CI_METHODS, TESTS

PLOT_FORMATS = (".png", ".svg", ".pdf")


def choice(choices: Sequence[str], hint: str) -> Callable[[Any], str]:
    """A parser that accepts one of ``choices`` (in any letter case) and names them all."""

    def parse(value: Any) -> str:
        text = str(value)
        for name in choices:
            if text.casefold() == name.casefold():
                return name
        raise typer.BadParameter(f"{text!r} is not one of {', '.join(choices)}; {hint}")

    return parse


def _number(text: str, hint: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number; {hint}") from None
    return number


LEVEL_HINT = "a confidence level is a fraction such as 0.95"
CC_HINT = "a continuity correction is a number >= 0 such as 0.5"


def parse_level(value: Any) -> float:
    """A confidence level strictly between 0 and 1."""
    text = str(value).strip()
    level = _number(text, LEVEL_HINT)
    if not 0 < level < 1:
        raise typer.BadParameter(f"{text} is not between 0 and 1 (exclusive); {LEVEL_HINT}")
    return level


def parse_cc(value: Any) -> float:
    """A finite continuity correction >= 0."""
    text = str(value).strip()
    cc = _number(text, CC_HINT)
    if not math.isfinite(cc):
        raise typer.BadParameter(f"{text} is not a finite number; {CC_HINT}")
    if cc < 0:
        raise typer.BadParameter(f"{text} is negative; {CC_HINT}")
    return cc


def parse_forest(value: Any) -> Path:
    """A plot file name ending .png, .svg or .pdf."""
    path = Path(value)
    if path.suffix.lower() not in PLOT_FORMATS:
        kind = f"the unknown plot format {path.suffix!r}" if path.suffix else "no plot format"
        raise typer.BadParameter(
            f"{str(path)!r} has {kind}; end the file name with .png, .svg or .pdf"
        )
    return path


def _metavar(choices: Sequence[str]) -> str:
    return "<" + "|".join(choices) + ">"


def input_option(required: bool = True) -> Any:
    return typer.Option(
        ... if required else None,
        "--input",
        "-i",
        help="CSV, TSV or XLSX table with one row per study.",
        show_default=False,
    )


def sheet_option() -> Any:
    return typer.Option(
        None,
        "--sheet",
        help="The workbook's sheet with the counts: its name, or its number from 1 "
        "(default: the first).",
        show_default=False,
        metavar="<name|N>",
    )


def check_sheet(input_file: Path, sheet: str | None) -> None:
    """``--sheet`` applies to workbooks only: with a text table it is a usage error."""
    from meta.tables import is_workbook

    if sheet is not None and not is_workbook(input_file):
        raise typer.BadParameter(
            f"{sheet!r} given, but {input_file} is a text table, which has no sheets; "
            "--sheet is for Excel workbooks (.xlsx, .xlsm)",
            param_hint="'--sheet'",
        )


def events_option(required: bool = True) -> Any:
    return typer.Option(
        ... if required else None,
        "--events",
        help="Column with the number of events (responders).",
        show_default=False,
    )


def total_option(required: bool = True) -> Any:
    return typer.Option(
        ... if required else None,
        "--total",
        help="Column with the number of patients.",
        show_default=False,
    )


def study_option() -> Any:
    return typer.Option(
        None, "--study", help="Column with study labels (default: 'Row N').", show_default=False
    )


def subgroup_option(help_text: str) -> Any:
    return typer.Option(None, "--subgroup", help=help_text, show_default=False)


def method_option(help_text: str) -> Any:
    return typer.Option(
        "GLMM",
        "--method",
        help=help_text,
        parser=choice(METHODS, "a method is a tau² estimator (metafor's names) or GLMM"),
        metavar=_metavar(METHODS),
    )


def measure_option(help_text: str) -> Any:
    return typer.Option(
        "PLO",
        "--measure",
        help=help_text,
        parser=choice(MEASURES, "a measure is the scale of a proportion, as metafor names it"),
        metavar=_metavar(MEASURES),
    )


def test_option(help_text: str) -> Any:
    return typer.Option(
        "z",
        "--test",
        help=help_text,
        parser=choice(TESTS, "z is the Wald test, knha Hartung-Knapp-Sidik-Jonkman"),
        metavar=_metavar(TESTS),
    )


def study_ci_option(help_text: str) -> Any:
    return typer.Option(
        "CP",
        "--study-ci",
        help=help_text,
        parser=choice(
            STUDY_CI_METHODS, "CP is Clopper-Pearson, WS Wilson, AC Agresti-Coull, SA Wald"
        ),
        metavar=_metavar(STUDY_CI_METHODS),
    )


def cc_option() -> Any:
    return typer.Option(
        0.5, "--cc", help="Continuity correction added to both cells.", parser=parse_cc
    )


def cc_mode_option() -> Any:
    return typer.Option(
        "only0",
        "--cc-mode",
        help="Which studies get the correction (metafor's escalc).",
        parser=choice(CC_MODES, "the mode says which studies get the continuity correction"),
        metavar=_metavar(CC_MODES),
    )


def level_option() -> Any:
    return typer.Option(0.95, "--level", help="Confidence level.", parser=parse_level)


def forest_option(help_text: str) -> Any:
    return typer.Option(
        None,
        "--forest",
        help=help_text,
        show_default=False,
        parser=parse_forest,
        metavar="<path>",
    )
