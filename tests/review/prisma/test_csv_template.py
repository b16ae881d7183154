"""The PRISMA2020 R package's template CSV, filled from the flow: the template's rows and
columns unchanged (``data/PRISMA.csv``, see ``data/README.md``), each box's ``n`` from the
flow, lists in the package's ``Name, n; Name, n`` that its parser reads back."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prisma_flows import flows, worked_flow

from review.errors import ExportError
from review.prisma.csv_template import COLUMNS, TEMPLATE, clean_name, rows, write_prisma2020_csv
from review.prisma.flow import PrismaFlow, ReasonCount

TEMPLATE_CSV = Path(__file__).parent / "data" / "PRISMA.csv"


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def parse_reasons(text: str) -> list[tuple[str, int]]:
    """What PRISMA2020's ``PRISMA_parse_reasons_`` (R/internal/PRISMA_format.R) makes of a
    ``Name, n; Name, n`` cell: split at ``;`` and an optional space, the name is all
    before the first comma, the number the digits and commas after it."""
    if not re.search(r"[^0-9,]", text):
        return [("", int(text.replace(",", "")))]
    parts = re.split(r";( )?", text)
    parts = [p for p in parts if p not in (None, " ")]
    out = []
    for part in parts:
        name = re.sub(r",.*$", "", part)
        number = re.sub(r"^.*?,([ 0-9,]*)$|.*", r"\1", part)
        out.append((name, int(number.replace(",", "").strip())))
    return out


def test_the_template_rows_are_the_packages() -> None:
    template = read(TEMPLATE_CSV)
    assert tuple(template[0]) == COLUMNS
    assert [tuple(r[c] for c in COLUMNS[:-1]) for r in template] == list(TEMPLATE)


def test_the_written_csv_has_the_templates_columns_and_rows(tmp_path: Path) -> None:
    out = write_prisma2020_csv(worked_flow(), tmp_path / "prisma.csv")
    assert out == tmp_path / "prisma.csv"
    written, template = read(out), read(TEMPLATE_CSV)
    assert tuple(written[0]) == COLUMNS
    assert [r["data"] for r in written] == [r["data"] for r in template]
    kept = ("data", "node", "box", "description", "tooltips", "url")
    assert [[r[c] for c in kept] for r in written] == [[r[c] for c in kept] for r in template]
    assert out.read_bytes().count(b"\r\n") == len(template) + 1


def test_each_box_has_the_worked_flows_count(tmp_path: Path) -> None:
    written = read(write_prisma2020_csv(worked_flow(), tmp_path / "prisma.csv"))
    n = {r["data"]: r["n"] for r in written if r["data"] != "NA"}
    assert n == {
        "previous_studies": "0",
        "previous_reports": "0",
        "database_results": "200",
        "database_specific_results": "pubmed, 120; embase, 80",
        "register_results": "0",
        "register_specific_results": "0",
        "website_results": "0",
        "organisation_results": "8",
        "citations_results": "5",
        "duplicates": "50",
        "excluded_automatic": "0",
        "excluded_other": "0",
        "records_screened": "150",
        "records_excluded": "120",
        "dbr_sought_reports": "30",
        "dbr_notretrieved_reports": "2",
        "other_sought_reports": "10",
        "other_notretrieved_reports": "0",
        "dbr_assessed": "28",
        "dbr_excluded": "Not systemic sclerosis, 6; Not treated with rituximab, 4",
        "other_assessed": "10",
        "other_excluded": "No calcinosis, 1",
        "new_studies": "25",
        "new_reports": "27",
        "total_studies": "25",
        "total_reports": "27",
        "identification": "0",
        "screening": "0",
        "included": "0",
    }
    boxtext = {r["data"]: r["boxtext"] for r in written}
    assert boxtext["organisation_results"] == "Local case series"
    assert boxtext["citations_results"] == "Citation searching"
    assert boxtext["website_results"] == "Websites"


def test_a_row_holding_its_own_kind_and_another_names_both() -> None:
    flow = dataclasses.replace(
        worked_flow(),
        sources=(
            *worked_flow().sources,
            dataclasses.replace(
                worked_flow().sources[2], name="hospital-registry", kind="organisation"
            ),
        ),
    )
    row = next(r for r in rows(flow) if r["data"] == "organisation_results")
    assert (row["boxtext"], row["n"]) == ("Organisations and local case series", "16")


@settings(max_examples=100, deadline=None)
@given(flows())
def test_the_csvs_boxes_follow_from_each_other_when_nothing_waits(flow: PrismaFlow) -> None:
    if flow.in_progress:
        flow = dataclasses.replace(
            flow,
            records_excluded=flow.records_excluded + flow.records_awaiting,
            records_awaiting=0,
            dbr_not_retrieved=flow.dbr_not_retrieved + flow.dbr_awaiting_retrieval,
            dbr_awaiting_retrieval=0,
            dbr_included=flow.dbr_included + flow.dbr_awaiting,
            dbr_awaiting=0,
            other_screened_out=flow.other_screened_out + flow.other_awaiting_screening,
            other_awaiting_screening=0,
            other_not_retrieved=flow.other_not_retrieved + flow.other_awaiting_retrieval,
            other_awaiting_retrieval=0,
            other_included=flow.other_included + flow.other_awaiting,
            other_awaiting=0,
            new_reports=flow.new_reports + flow.dbr_awaiting + flow.other_awaiting,
        )
    n = {r["data"]: r["n"] for r in rows(flow) if r["data"] != "NA"}
    i = {k: int(v) for k, v in n.items() if v.isdigit()}
    excluded = sum(k for _, k in parse_reasons(n["dbr_excluded"]) if _)
    other_excluded = sum(k for _, k in parse_reasons(n["other_excluded"]) if _)
    assert (
        i["database_results"] + i["register_results"] - i["duplicates"]
        - i["excluded_automatic"] - i["excluded_other"] == i["records_screened"]
    )  # fmt: skip
    assert i["records_screened"] - i["records_excluded"] == i["dbr_sought_reports"]
    assert i["dbr_sought_reports"] - i["dbr_notretrieved_reports"] == i["dbr_assessed"]
    assert i["dbr_assessed"] - excluded == flow.dbr_included
    assert i["other_sought_reports"] - i["other_notretrieved_reports"] == i["other_assessed"]
    assert i["other_assessed"] - other_excluded == flow.other_included
    assert (
        i["website_results"] + i["organisation_results"] + i["citations_results"]
        == flow.other_identified
    )
    assert i["new_reports"] == flow.dbr_included + flow.other_included
    assert i["new_studies"] <= i["new_reports"]
    databases = parse_reasons(n["database_specific_results"])
    assert sum(k for _, k in databases) == i["database_results"]


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(names, st.integers(1, 99_999)), min_size=1, max_size=8))
def test_reasons_read_back_whole_whatever_their_labels(labels: list[tuple[str, int]]) -> None:
    reasons = tuple(ReasonCount(f"r{i}", label, k) for i, (label, k) in enumerate(labels))
    flow = dataclasses.replace(worked_flow(), dbr_excluded=reasons)
    cell = next(r["n"] for r in rows(flow) if r["data"] == "dbr_excluded")
    assert parse_reasons(cell) == [(clean_name(label), k) for label, k in labels]


def test_clean_names_lose_only_the_separators() -> None:
    assert clean_name("Wrong population, adults; no RTX") == "Wrong population - adults - no RTX"
    assert clean_name("Not systemic sclerosis") == "Not systemic sclerosis"
    assert clean_name(";,") == "unnamed"


def test_no_folder_no_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error:
        write_prisma2020_csv(worked_flow(), tmp_path / "missing" / "prisma.csv")
    assert str(error.value) == (
        f"{tmp_path}/missing/prisma.csv: the folder {tmp_path}/missing does not exist; "
        "create it or choose another"
    )
    assert list(tmp_path.iterdir()) == []
