"""Appraisal in a review: the handle ``Review.appraisal`` (tools by design, answers, consensus,
the summary)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from extraction.appraisal import AppraisalSummary, Tool
    from review.extract.appraisal import Answered, AppraisalRow, ItemState
    from review.extract.events import AppraisalEvent
    from review.extract.events import Via as ExtractVia

if TYPE_CHECKING:
    from review.api import Review


class Appraising:
    """The appraisal use cases of one review (``review.appraisal``): each study appraised
    with the tool its design calls for (or one named), every answer an event, two
    appraisers settled by consensus where the protocol asks for two."""

    def __init__(self, review: Review) -> None:
        self.review = review
        self.store = review.store
        self.protocol = review.protocol

    def tools(self) -> dict[str, Tool]:
        """The built-in tools (Murad 2018, JBI case report, JBI case series) and the
        protocol's own."""
        from review.extract.appraisal import tools

        return tools(self.protocol)

    def tool_for(self, study: str) -> Tool:
        """The tool a study's design calls for."""
        from review.extract.appraisal import tool_for_study
        from review.extract.workflow import find_study

        return tool_for_study(self.store, self.protocol, find_study(self.store, study))

    def enter(
        self, rows: Sequence[AppraisalRow], *, appraiser: str, via: ExtractVia = "api"
    ) -> Answered:
        """Check every answer and write the changed ones in one transaction."""
        from review.extract.appraisal import enter

        return enter(
            self.store, self.protocol, rows, person=appraiser, at=self.review.clock(), via=via
        )

    def import_file(self, path: Path | str, *, appraiser: str) -> Answered:
        """Import an appraisal CSV (``study``, ``tool`` and one column per item id)."""
        from review.extract.appraisal_files import read_appraisal_rows

        return self.enter(read_appraisal_rows(Path(path)), appraiser=appraiser, via="spreadsheet")

    def template(self, path: Path | str) -> int:
        """Write a CSV to fill in: a row per study with the tool its design calls for (empty
        when its design is not known yet), a column per item. Returns the rows."""
        from review.errors import ExtractError
        from review.extract.appraisal import write_appraisal_template
        from review.extract.workflow import studies

        rows: list[tuple[str, Tool | None]] = []
        for study in studies(self.store):
            try:
                rows.append((study.label, self.tool_for(study.label)))
            except ExtractError:
                rows.append((study.label, None))
        return write_appraisal_template(Path(path), rows)

    def items(self) -> list[ItemState]:
        from review.extract.appraisal import item_states

        return item_states(self.store, self.protocol)

    def differences(self) -> list[ItemState]:
        """The items two appraisers answered differently, not yet settled."""
        from review.extract.appraisal import differences

        return differences(self.store, self.protocol)

    def resolve(
        self, study: str, *, tool: str, item: str, answer: str, by: str, why: str | None = None
    ) -> AppraisalEvent:
        """Record the consensus answer of one item."""
        from review.extract.appraisal import resolve

        return resolve(
            self.store,
            self.protocol,
            study=study,
            tool=tool,
            item=item,
            answer=answer,
            by=by,
            at=self.review.clock(),
            why=why,
            via="cli",
        )

    def summary(self) -> tuple[tuple[AppraisalSummary, ...], list[str]]:
        """A summary table per tool of the finished appraisals, and the unfinished studies."""
        from review.extract.appraisal import summary

        return summary(self.store, self.protocol)

    def study_sizes(self) -> dict[str, float]:
        from review.extract.appraisal import study_sizes

        return study_sizes(self.store, self.protocol)
