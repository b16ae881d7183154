"""The flow's counts as the PRISMA2020 R package's template CSV, to load into its app.

The package and its Shiny app (Haddaway NR, Page MJ, Pritchard CC, McGuinness LA.
PRISMA2020: an R package and Shiny app for producing PRISMA 2020-compliant flow diagrams.
Campbell Systematic Reviews 2022;18:e1230) read a CSV with one row per box: column
``data`` names the box, ``n`` holds its count. ``TEMPLATE`` below is that file's every
row and column except ``n``, as read from the package's ``inst/extdata/PRISMA.csv``
(repository prisma-flowdiagram/PRISMA2020, commit 696d35e6; MIT licence, copyright 2020
Neal R Haddaway). That version adds ``database_specific_results`` and
``register_specific_results`` to the older template; readers of the older one ignore
them. ``R/PRISMA_data.R`` finds each row by its ``data`` name; boxes with several
entries (records per database, reports excluded per reason) are text in the package's
own format ``Name, n; Name, n``, which ``PRISMA_parse_reasons_``
(``R/internal/PRISMA_format.R``) splits at ``;`` and then at the first comma, so a name
may hold neither (they become `` - ``).

The template's right column knows websites, organisations and citation searching; a
local case series counts with organisations (a centre's own records), hand searching
with citation searching, and any other source with organisations; when a row holds such
a source its ``boxtext`` (the label the app draws) names what it holds. The template has
no boxes for records still waiting, so a review in progress writes only what was decided.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

from review.prisma.files import check_target
from review.prisma.flow import PrismaFlow, ReasonCount, SourceCount
from review.prisma.layout import KIND_LABELS
from review.replacing import replacing

COLUMNS: tuple[str, ...] = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")
"""The template's columns, in its order."""

_REASONS_HELP = (
    "[separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]"
)
TEMPLATE: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review",
     "Studies included in previous version of review", "previous_studies.html"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA", "previous_reports.html"),
    ("NA", "node6", "newstud",
     "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers",
     "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA",
     "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud",
     "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching",
     "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations",
     "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching",
     "Citation searching", "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records",
     "Duplicate records", "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons",
     "Records removed for other reasons", "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)",
     "Records screened", "Records screened (databases and registers)", "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)",
     "Records excluded", "Records excluded (databases and registers)", "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6",
     "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval",
     "Reports sought for retrieval (databases and registers)", "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7",
     "Reports not retrieved (databases and registers)", "Reports not retrieved",
     "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)",
     "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)",
     "Reports not retrieved", "Reports not retrieved (other)", "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8",
     "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility",
     "Reports assessed for eligibility (databases and registers)", "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9",
     f"Reports excluded (databases and registers): {_REASONS_HELP}", "Reports excluded",
     "Reports excluded (databases and registers)", "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)",
     "other_assessed.html"),
    ("other_excluded", "node21", "box15", f"Reports excluded (other): {_REASONS_HELP}",
     "Reports excluded", "Reports excluded (other)", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in review", "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies",
     "Reports of new included studies", "NA", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Total studies included in review", "Total studies included in review",
     "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies",
     "Reports of total included studies", "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening",
     "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box",
     "included.html"),
)  # fmt: skip
"""The template's rows without ``n``, in its order (see the module docstring)."""

OTHER_ROWS: dict[str, tuple[str, ...]] = {
    "website_results": ("website",),
    "organisation_results": ("organisation", "local", "other"),
    "citations_results": ("citation-search", "hand-search"),
}
"""Which kinds of other method each right-column row counts (its own kind first)."""


def clean_name(name: str) -> str:
    """A source or reason name the app reads back whole: no ``,`` or ``;`` (which split its
    ``Name, n; Name, n`` lists), no line breaks."""
    return re.sub(r"\s*[,;\n\r]+\s*", " - ", name).strip(" -") or "unnamed"


def listing(entries: Sequence[SourceCount] | Sequence[ReasonCount]) -> str:
    """``Name, n; Name, n`` in the package's format (``0`` when there is none)."""
    parts = []
    for entry in entries:
        name = entry.label if isinstance(entry, ReasonCount) else entry.name
        parts.append(f"{clean_name(name)}, {entry.n}")
    return "; ".join(parts) or "0"


def _other_row(flow: PrismaFlow, data: str, boxtext: str) -> tuple[str, str]:
    kinds = OTHER_ROWS[data]
    sources = [s for s in flow.other_sources if s.kind in kinds]
    n = str(sum(s.n for s in sources))
    held = [k for k in kinds if any(s.kind == k for s in sources)]
    if held and held != [kinds[0]]:
        labels = [KIND_LABELS[k] for k in held]
        boxtext = " and ".join([labels[0]] + [label.lower() for label in labels[1:]])
    return boxtext, n


def rows(flow: PrismaFlow) -> list[dict[str, str]]:
    """The template's rows with each box's ``n`` from the flow."""
    counts: dict[str, str | int] = {
        "previous_studies": 0,
        "previous_reports": 0,
        "database_results": flow.database_results,
        "database_specific_results": listing(flow.databases),
        "register_results": flow.register_results,
        "register_specific_results": listing(flow.registers),
        "duplicates": flow.duplicates,
        "excluded_automatic": flow.excluded_automatic,
        "excluded_other": flow.excluded_other,
        "records_screened": flow.records_screened,
        "records_excluded": flow.records_excluded,
        "dbr_sought_reports": flow.dbr_sought,
        "dbr_notretrieved_reports": flow.dbr_not_retrieved,
        "other_sought_reports": flow.other_sought,
        "other_notretrieved_reports": flow.other_not_retrieved,
        "dbr_assessed": flow.dbr_assessed,
        "dbr_excluded": listing(flow.dbr_excluded),
        "other_assessed": flow.other_assessed,
        "other_excluded": listing(flow.other_excluded),
        "new_studies": flow.new_studies,
        "new_reports": flow.new_reports,
        "total_studies": flow.new_studies,
        "total_reports": flow.new_reports,
    }
    table = []
    for data, node, box, description, boxtext, tooltips, url in TEMPLATE:
        n = str(counts.get(data, 0))
        if data in OTHER_ROWS:
            boxtext, n = _other_row(flow, data, boxtext)
        values = (data, node, box, description, boxtext, tooltips, url, n)
        table.append(dict(zip(COLUMNS, values, strict=True)))
    return table


def write_prisma2020_csv(flow: PrismaFlow, out: Path) -> Path:
    """Write the flow as the PRISMA2020 template CSV to ``out`` (atomically); return it."""
    out = Path(out)
    check_target(out)
    table = rows(flow)
    with replacing(out) as temporary, temporary.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(table)
    return out
