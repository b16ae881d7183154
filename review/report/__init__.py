"""The report: a pure model of the whole review (``model``) and its renderers as edges
(``html``, ``markdown``, ``docx``, ``figures``); ``write_report`` writes every file."""

from __future__ import annotations

from review.report.writing import write_report

__all__ = ["write_report"]
