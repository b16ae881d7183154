"""Errors and warnings the meta package raises."""

from __future__ import annotations


class MetaError(Exception):
    """Base of every error a user can cause in the meta package."""


class InputDataError(MetaError):
    """Per-study counts are invalid (events > total, negative, non-integer, no studies)."""


class ConvergenceError(MetaError):
    """An iterative estimator (REML, ML, EB, PM, GLMM) did not converge, even after retrying."""


class ForestPlotError(MetaError):
    """A forest plot cannot be written (unknown file type, missing folder, unwritable path)."""


class MetaWarning(UserWarning):
    """A result that stands but needs a caveat (one study, PFT back-transformation, ...)."""
