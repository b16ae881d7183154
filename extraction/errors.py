"""Errors the extraction package raises."""

from __future__ import annotations


class ExtractionError(Exception):
    """Base of every error a user can cause in the extraction package."""


class FormError(ExtractionError):
    """An extraction form definition is invalid."""
