"""Screening in a spreadsheet, on SQLite and PostgreSQL: a reviewer's records exported to
XLSX or CSV, filled in and imported back; every bad sheet refused whole, with each problem's
row and column, and the store left as it was."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from screening import paper, ready_review
from stores import add_records, clock, link, store_snapshot

from review.api import Review
from review.errors import ScreeningError, SheetError
from review.records import Record
from review.screening.sheet import COLUMNS, SHOWN_PROBLEMS

TA_CODES = (
    "not-ssc, no-calcinosis, no-rtx, no-calcinosis-outcome, review-no-new-patients, "
    "duplicate-report, not-human, rtx-unknown"
)
FT_CODES = TA_CODES + ", full-text-unavailable"


@pytest.fixture
def rv(review_dir: Path) -> Iterator[Review]:
    ready_review(review_dir, 4)
    with Review.open(review_dir, clock=clock, actor="ana") as opened:
        yield opened


def read_rows(path: Path) -> list[dict[str, str]]:
    """The sheet's rows as dictionaries of text, as a person sees them."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    from openpyxl import load_workbook

    book = load_workbook(path)
    table = [["" if v is None else str(v) for v in r] for r in book["screening"].values]
    return [dict(zip(table[0], r, strict=True)) for r in table[1:]]


def fill(path: Path, changes: dict[int, dict[str, str]]) -> None:
    """Edit cells as a reviewer would: ``changes`` maps a cluster id to the new cells."""
    if path.suffix == ".csv":
        rows = read_rows(path)
        for row in rows:
            row.update(changes.get(int(row["cluster"]), {}))
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["screening"]
    header = [c.value for c in sheet[1]]
    for cells in sheet.iter_rows(min_row=2):
        for column, value in changes.get(int(cells[0].value), {}).items():
            cell = cells[header.index(column)]
            cell.value = value or None
            if value.startswith("="):  # typed as text, after an apostrophe
                cell.data_type = "s"
    book.save(path)


def events_of(rv: Review, cluster: int) -> list[tuple[str, str | None, str, str | None]]:
    _, trail = rv.screening.history(cluster, viewer="ana")
    return [(e.kind, e.decision, e.via, e.source) for e in trail]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_filled_sheet_round_trips_and_a_second_import_changes_nothing(
    rv: Review, review_dir: Path, tmp_path: Path, fmt: str
) -> None:
    sheet = tmp_path / f"ana-ta.{fmt}"
    written = rv.screening.export_sheet("ta", "ana", sheet)
    assert (written.n_records, written.n_decided, written.assigned) == (4, 0, False)
    assert written.notes == (
        "no records are assigned at title/abstract, so the sheet holds every record to "
        "screen there",
    )
    rows = read_rows(sheet)
    assert [r["cluster"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["title"] == paper(1).title and rows[0]["reviewer"] == "ana"
    assert {r["stage"] for r in rows} == {"ta"} and {r["decision"] for r in rows} == {""}

    fill(
        sheet,
        {
            1: {"decision": "include"},
            2: {"decision": "Exclude", "reason": "no-rtx", "note": "=adults only"},
            3: {"decision": "maybe", "note": "ask Ben"},
        },
    )
    done = rv.screening.import_sheet(sheet, "ana")
    assert (len(done.recorded), done.unchanged, done.blank) == (3, 0, 1)
    assert [(e.paper.cluster_id, e.decision, e.reason, e.note) for e in done.recorded] == [
        (1, "include", None, None),
        (2, "exclude", "no-rtx", "=adults only"),
        (3, "maybe", None, "ask Ben"),
    ]
    assert {(e.via, e.person, e.recorded_by) for e in done.recorded} == {
        ("spreadsheet", "ana", None)
    }
    assert [e.source for e in done.recorded] == [f"{sheet.name} row {n}" for n in (2, 3, 4)]

    before = store_snapshot(review_dir)
    again = rv.screening.import_sheet(sheet, "ana")
    assert (len(again.recorded), again.unchanged, again.blank) == (0, 3, 1)
    assert store_snapshot(review_dir) == before

    fresh = tmp_path / f"again.{fmt}"
    assert rv.screening.export_sheet("ta", "ana", fresh).n_decided == 3
    assert [(r["decision"], r["reason"], r["note"]) for r in read_rows(fresh)][:3] == [
        ("include", "", ""),
        ("exclude", "no-rtx", "'=adults only"),
        ("maybe", "", "ask Ben"),
    ]
    assert len(rv.screening.import_sheet(fresh, "ana").recorded) == 0
    assert store_snapshot(review_dir) == before


def test_a_changed_decision_becomes_one_new_event_that_supersedes(
    rv: Review, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.xlsx"
    rv.screening.export_sheet("ta", "ana", sheet)
    fill(sheet, {1: {"decision": "include"}, 2: {"decision": "include"}})
    rv.screening.import_sheet(sheet, "ana")
    fill(sheet, {2: {"decision": "exclude", "reason": "not-human"}})
    done = rv.screening.import_sheet(sheet, "ana")
    assert (len(done.recorded), done.unchanged) == (1, 1)
    assert events_of(rv, 2) == [
        ("decide", "include", "spreadsheet", "ana-ta.xlsx row 3"),
        ("decide", "exclude", "spreadsheet", "ana-ta.xlsx row 3"),
    ]
    vote = rv.screening.state(2, stage="ta", viewer="ana").latest_of("ana")
    assert vote is not None and (vote.decision, vote.reason) == ("exclude", "not-human")


def test_an_emptied_decision_takes_nothing_back_and_says_how_to(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.csv"
    rv.screening.export_sheet("ta", "ana", sheet)
    fill(sheet, {1: {"decision": "include"}})
    rv.screening.import_sheet(sheet, "ana")
    fill(sheet, {1: {"decision": ""}})
    before = store_snapshot(review_dir)
    done = rv.screening.import_sheet(sheet, "ana")
    assert (len(done.recorded), done.cleared) == (0, ((2, 1),))
    assert done.warnings == (
        "row 2: the decision on cluster 1 was emptied, but ana's decision stays in force; to "
        "take it back: 'casepool screen reset 1 --stage ta --reviewer ana'",
    )
    assert store_snapshot(review_dir) == before


def test_the_workbook_has_dropdowns_a_frozen_header_wrapped_text_and_widths(
    rv: Review, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    sheet = tmp_path / "ana-ta.xlsx"
    rv.screening.export_sheet("ta", "ana", sheet)
    book = load_workbook(sheet)
    assert book.sheetnames == ["screening", "reasons", "casepool"]
    screening = book["screening"]
    assert tuple(c.value for c in screening[1]) == COLUMNS
    assert all(c.font.bold for c in screening[1])
    assert screening.freeze_panes == "A2"
    lists = {
        str(v.sqref): (v.type, v.formula1, v.showErrorMessage)
        for v in screening.data_validations.dataValidation
    }
    assert lists == {
        "D2:D5": ("list", '"include,exclude,maybe"', True),
        "E2:E5": ("list", "reasons!$A$2:$A$9", True),
    }
    assert [r[0].value for r in book["reasons"].iter_rows(min_row=2)] == TA_CODES.split(", ")
    assert screening["C2"].alignment.wrap_text and screening["B2"].alignment.wrap_text
    assert not screening["A2"].alignment.wrap_text
    widths = {c: screening.column_dimensions[c].width for c in "ABCD"}
    assert widths == {"A": 10, "B": 50, "C": 80, "D": 11}
    meta = book["casepool"]
    assert meta.sheet_state == "hidden"
    assert [(r[0].value, r[1].value) for r in meta.iter_rows()] == [
        ("sheet", "casepool screening"),
        ("reviewer", "ana"),
        ("stage", "ta"),
    ]


def test_a_formula_like_title_is_written_as_text(review_dir: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://evil.example","click")'
    add_records(review_dir, "pubmed", [Record(source="pubmed", source_id="x", title=formula)])
    with Review.open(review_dir, clock=clock) as rv:
        rv.dedup()
        sheet = tmp_path / "ana-ta.xlsx"
        rv.screening.export_sheet("ta", "ana", sheet)
        cell = load_workbook(sheet)["screening"]["B2"]
        assert (cell.value, cell.data_type) == ("'" + formula, "s")
        fill(sheet, {1: {"decision": "include", "note": "-- see title"}})
        (event,) = rv.screening.import_sheet(sheet, "ana").recorded
        assert event.note == "-- see title"


def test_with_assignments_a_sheet_holds_only_the_reviewers_records(
    rv: Review, tmp_path: Path
) -> None:
    rv.screening.assign("ta", ["ana", "ben"], per_record=1, seed=3)
    mine = set(rv.screening.queue("ta", "ana"))
    sheet = tmp_path / "ana-ta.csv"
    written = rv.screening.export_sheet("ta", "ana", sheet)
    assert written.assigned and written.notes == ()
    assert {int(r["cluster"]) for r in read_rows(sheet)} == mine
    with pytest.raises(ScreeningError) as caught:
        rv.screening.export_sheet("ta", "cleo", tmp_path / "cleo.csv")
    assert str(caught.value) == (
        "no records are assigned to cleo at title/abstract, so there is nothing for them to "
        "screen there; the stage's records are assigned to ana, ben"
    )


def test_a_cluster_merged_since_the_export_is_followed(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.csv"
    rv.screening.export_sheet("ta", "ana", sheet)
    link(review_dir, [3, 4], primary=3)
    fill(sheet, {3: {"decision": "include"}, 4: {"decision": "include"}})
    done = rv.screening.import_sheet(sheet, "ana")
    assert [(e.paper.cluster_id, e.paper.members) for e in done.recorded] == [(3, (3, 4))]
    assert done.notes == ("row 5: cluster 4 is now part of cluster 3",)


# --- refused sheets -------------------------------------------------------------------


def refused(rv: Review, review_dir: Path, sheet: Path, reviewer: str = "ana") -> SheetError:
    """Import a sheet that must be refused; check it wrote nothing; return the error."""
    before = store_snapshot(review_dir)
    with pytest.raises(SheetError) as caught:
        rv.screening.import_sheet(sheet, reviewer)
    assert store_snapshot(review_dir) == before
    return caught.value


BAD_ROWS = [
    (
        {2: {"cluster": "99"}},
        "column A (cluster): there is no cluster 99 in this review",
    ),
    (
        {2: {"cluster": "two"}},
        "column A (cluster): 'two' is not a cluster id (a whole number)",
    ),
    (
        {1: {"decision": "yes"}},
        "column D (decision): 'yes' is not a decision; use include, exclude or maybe",
    ),
    (
        {1: {"decision": "exclude", "reason": "too-old"}},
        "column E (reason): 'too-old' is not an exclusion reason at title/abstract; the "
        f"protocol's are: {TA_CODES}",
    ),
    (
        {1: {"decision": "exclude", "reason": "full-text-unavailable"}},
        "column E (reason): 'full-text-unavailable' is not an exclusion reason at "
        f"title/abstract; the protocol's are: {TA_CODES}",
    ),
    (
        {1: {"decision": "include", "reason": "no-rtx"}},
        "column E (reason): a reason goes with an exclusion only; include takes no reason",
    ),
    (
        {1: {"reason": "no-rtx"}},
        "column D (decision): a reason or note is given but no decision; choose include, "
        "exclude or maybe, or empty the row's reason and note",
    ),
    (
        {1: {"decision": "include", "reviewer": "ben"}},
        "column L (reviewer): the row is for 'ben', but the sheet is ana's; each reviewer "
        "imports only their own rows",
    ),
    (
        {1: {"decision": "include", "stage": "ft"}},
        "column M (stage): 'ft' is not the sheet's stage, ta (title/abstract)",
    ),
    (
        {1: {"decision": "include", "note": "x" * 2001}},
        "column F (note): a note is at most 2000 characters; this one has 2001",
    ),
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize(("changes", "message"), BAD_ROWS, ids=[m[:28] for _, m in BAD_ROWS])
def test_a_bad_row_refuses_the_whole_sheet_naming_row_and_column(
    rv: Review, review_dir: Path, tmp_path: Path, fmt: str, changes: dict, message: str
) -> None:
    sheet = tmp_path / f"ana-ta.{fmt}"
    rv.screening.export_sheet("ta", "ana", sheet)
    fill(sheet, {3: {"decision": "include"}, 4: {"decision": "maybe"}})
    fill(sheet, changes)
    error = refused(rv, review_dir, sheet)
    (cluster,) = changes
    problem = f"ana-ta.{fmt}, row {cluster + 1}, {message}"
    assert error.problems == (problem,)
    assert str(error) == f"{problem} (nothing was imported)"


def test_every_problem_is_reported_at_once(rv: Review, review_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "ana-ta.csv"
    rv.screening.export_sheet("ta", "ana", sheet)
    fill(
        sheet,
        {
            1: {"decision": "yes", "reviewer": "ben"},
            2: {"decision": "include"},
            3: {"decision": "exclude", "reason": "bogus"},
        },
    )
    error = refused(rv, review_dir, sheet)
    assert str(error) == (
        "ana-ta.csv: 3 problems, so nothing was imported:\n"
        "  ana-ta.csv, row 2, column L (reviewer): the row is for 'ben', but the sheet is "
        "ana's; each reviewer imports only their own rows\n"
        "  ana-ta.csv, row 2, column D (decision): 'yes' is not a decision; use include, "
        "exclude or maybe\n"
        "  ana-ta.csv, row 4, column E (reason): 'bogus' is not an exclusion reason at "
        f"title/abstract; the protocol's are: {TA_CODES}"
    )


def test_a_long_list_of_problems_is_cut_short_in_the_message(
    review_dir: Path, tmp_path: Path
) -> None:
    ready_review(review_dir, 60)
    with Review.open(review_dir, clock=clock) as rv:
        sheet = tmp_path / "ana-ta.csv"
        rv.screening.export_sheet("ta", "ana", sheet)
        fill(sheet, {c: {"decision": "no"} for c in range(1, 61)})
        error = refused(rv, review_dir, sheet)
    assert len(error.problems) == 60
    lines = str(error).splitlines()
    assert lines[0] == "ana-ta.csv: 60 problems, so nothing was imported:"
    assert len(lines) == 1 + SHOWN_PROBLEMS + 1
    assert lines[-1] == "  ... and 10 more problems"


def test_a_sheet_exported_for_another_reviewer_is_refused(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ben-ta.xlsx"
    rv.screening.export_sheet("ta", "ben", sheet)
    fill(sheet, {1: {"decision": "include"}})
    error = refused(rv, review_dir, sheet, reviewer="ana")
    assert error.problems == (
        "ben-ta.xlsx: the sheet was exported for ben, not ana; each reviewer imports their "
        "own sheet (--reviewer ben)",
    )


def test_two_rows_deciding_one_cluster_differently_are_refused(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.csv"
    rv.screening.export_sheet("ta", "ana", sheet)
    link(review_dir, [1, 2], primary=1)
    fill(sheet, {1: {"decision": "include"}, 2: {"decision": "maybe"}})
    error = refused(rv, review_dir, sheet)
    assert error.problems == (
        "ana-ta.csv, row 3, column D (decision): cluster 1 is decided differently in row 2 "
        "(cluster 2 is now part of cluster 1); keep one decision for it",
    )


def test_a_record_not_assigned_to_the_reviewer_is_refused(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    rv.screening.assign("ta", ["ana", "ben"], per_record=1, seed=3)
    sheet = tmp_path / "ana-ta.csv"
    rv.screening.export_sheet("ta", "ana", sheet)
    theirs = sorted(set(rv.screening.queue("ta", "ben")))[0]
    rows = read_rows(sheet)
    rows.append({**rows[0], "cluster": str(theirs), "decision": "include"})
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    error = refused(rv, review_dir, sheet)
    assert error.problems == (
        f"ana-ta.csv, row {len(rows) + 1}, column A (cluster): cluster {theirs} is not "
        "assigned to ana at title/abstract (assigned to ben)",
    )


def test_at_full_text_an_exclusion_needs_a_reason_and_only_advanced_records_go(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    for person in ("ana", "ben"):
        rv.screening.decide(1, stage="ta", reviewer=person, decision="include")
        rv.screening.decide(2, stage="ta", reviewer=person, decision="include")
    sheet = tmp_path / "ana-ft.xlsx"
    written = rv.screening.export_sheet("ft", "ana", sheet)
    assert [r["cluster"] for r in read_rows(sheet)] == ["1", "2"] and written.stage == "ft"
    fill(sheet, {1: {"decision": "exclude"}, 2: {"cluster": "3", "decision": "include"}})
    error = refused(rv, review_dir, sheet)
    assert error.problems == (
        f"ana-ft.xlsx, row 2, column E (reason): an exclusion at full text needs a reason; "
        f"give one of: {FT_CODES}",
        "ana-ft.xlsx, row 3, column A (cluster): cluster 3 has not gone on to full text: it "
        "goes once its title/abstract decision is agreed or resolved as include",
    )
    fill(sheet, {1: {"reason": "full-text-unavailable"}, 3: {"cluster": "2"}})
    done = rv.screening.import_sheet(sheet, "ana")
    assert [(e.stage, e.decision, e.reason) for e in done.recorded] == [
        ("ft", "exclude", "full-text-unavailable"),
        ("ft", "include", None),
    ]


def test_a_sheet_without_the_columns_it_needs_names_them(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ana-ta.csv"
    sheet.write_text("cluster,title,Decision\n1,A title,include\n", encoding="utf-8")
    error = refused(rv, review_dir, sheet)
    assert str(error) == (
        "ana-ta.csv: the sheet has no 'reviewer', 'stage' and 'reason' columns; a screening "
        "sheet needs 'cluster', 'reviewer', 'stage', 'decision' and 'reason' (export one "
        "with 'casepool screen export')"
    )


def _empty_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return buffer.getvalue()


EMPTY_ZIP = _empty_zip()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "ana-ta.xlsx",
            b"cluster,decision\n1,include\n",
            "ana-ta.xlsx: not an XLSX workbook (it holds text, not the ZIP archive every "
            ".xlsx is); export the sheet again, or name a CSV file .csv",
        ),
        (
            "ana-ta.xlsx",
            b"PK\x03\x04 broken",
            "ana-ta.xlsx: not a readable XLSX workbook (File is not a zip file)",
        ),
        (
            "ana-ta.xlsx",
            EMPTY_ZIP,
            'ana-ta.xlsx: not a readable XLSX workbook ("There is no item named '
            "'[Content_Types].xml' in the archive\")",
        ),
        ("ana-ta.csv", b"", "ana-ta.csv: the sheet is empty; expected a header row (cluster, ...)"),
        (
            "ana-ta.csv",
            b"cluster,reviewer,stage,decision,reason\n1,ana,,include,\n",
            "ana-ta.csv: no row says which stage it is for (the 'stage' column: ta or ft)",
        ),
    ],
)
def test_a_file_that_is_no_sheet_is_refused_with_what_it_is(
    rv: Review, review_dir: Path, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    sheet = tmp_path / name
    sheet.write_bytes(content)
    assert str(refused(rv, review_dir, sheet)) == message


def test_a_missing_file_and_a_bad_sheet_name_are_refused(rv: Review, tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"nothing\.csv: no such file$"):
        rv.screening.import_sheet(tmp_path / "nothing.csv", "ana")
    with pytest.raises(SheetError) as caught:
        rv.screening.export_sheet("ta", "ana", tmp_path / "ana.ods")
    assert str(caught.value) == "ana.ods: a screening sheet is an .xlsx or a .csv file; name it so"
    assert not (tmp_path / "ana.ods").exists()


def test_a_formula_typed_into_the_sheet_and_never_saved_is_refused(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    sheet = tmp_path / "ana-ta.xlsx"
    rv.screening.export_sheet("ta", "ana", sheet)
    book = load_workbook(sheet)
    book["screening"]["D2"] = "include"
    book["screening"]["F2"] = "=A1+1"  # openpyxl saves no result, as a program would
    book.save(sheet)
    assert refused(rv, review_dir, sheet).problems == (
        "ana-ta.xlsx, row 2, column F (note): the formula =A1+1 has no saved value; to write "
        "text that starts with =, type an apostrophe before it ('=A1+1)",
    )


def test_an_abstract_longer_than_a_cell_holds_is_cut(review_dir: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    long = Record(source="pubmed", source_id="x", title="Long", abstract="word " * 8000)
    add_records(review_dir, "pubmed", [long])
    with Review.open(review_dir, clock=clock) as rv:
        rv.dedup()
        sheet = tmp_path / "ana-ta.xlsx"
        rv.screening.export_sheet("ta", "ana", sheet)
    abstract = load_workbook(sheet)["screening"]["C2"].value
    assert len(abstract) == 32_767 and abstract.endswith("…")


def test_a_lead_importing_a_reviewers_sheet_is_recorded_as_who_entered_it(
    rv: Review, review_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "ben-ta.csv"
    rv.screening.export_sheet("ta", "ben", sheet)
    fill(sheet, {1: {"decision": "include"}})
    (event,) = rv.screening.import_sheet(sheet, "ben").recorded
    assert (event.person, event.recorded_by, event.via) == ("ben", "ana", "spreadsheet")
