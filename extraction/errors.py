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
