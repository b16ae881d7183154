"""The whole review in one call: ``run_review`` (``casepool run``)."""

from __future__ import annotations

from review.run.workflow import RunError, RunSummary, run_review

__all__ = ["RunError", "RunSummary", "run_review"]
