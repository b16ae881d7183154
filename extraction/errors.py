"""Errors the extraction package raises."""

from __future__ import annotations


class ExtractionError(Exception):
    """Base of every error a user can cause in the extraction package."""


class FormError(ExtractionError):
    """An extraction form definition is invalid."""


class RuleError(ExtractionError):
    """An outcome rule or ``when`` condition cannot be parsed or evaluated."""


class AppraisalError(ExtractionError):
    """An appraisal tool, an appraisal or a consensus is invalid."""


class AppraisalPlotError(AppraisalError):
    """An appraisal plot cannot be drawn or written."""


class RedcapError(ExtractionError):
    """The forms cannot be written as a REDCap data dictionary (the message names the field)."""


class RedcapImportError(ExtractionError):
    """A REDCap records export does not fit the forms; ``problems`` lists each, with its place."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    @classmethod
    def of(cls, file: str, problems: tuple[str, ...]) -> RedcapImportError:
        """One problem as its own message, several as a count then one per line."""
        if len(problems) == 1:
            return cls(problems[0], problems)
        return cls(f"{file}: {len(problems)} problems:\n" + "\n".join(problems), problems)
