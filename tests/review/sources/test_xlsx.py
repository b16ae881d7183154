"""XLSX workbooks: the sheet asked for, numbers and text, exact errors naming file, sheet,
row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from review.errors import ParseError
from review.sources.xlsx import choose_sheet, read_xlsx

DATA = Path(__file__).resolve().parents[2] / "data" / "import"


def _workbook(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "records.xlsx"
    book.save(path)
    return path.read_bytes()


TWO_SHEETS = {
    "Embase": [["title", "year"], ["From Embase", 2020]],
    "Scopus": [["Title", "Year"], ["From Scopus", 2021], ["Also Scopus", 2022]],
}


def test_xlsx_reads_numbers_and_text(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Publication Year", "PubMed ID", "Authors"])
    sheet.append(["A study", 2020, 33541234, "Smith, J"])
    sheet.append([None, None, None, None])
    sheet.append(["Another", "in press", None, None])
    path = tmp_path / "x.xlsx"
    book.save(path)
    parsed = read_xlsx(path.read_bytes(), "x.xlsx", source="s")
    (record,) = parsed.records
    assert (record.year, record.pmid) == (2020, "33541234")
    assert [r.message for r in parsed.rejects] == [
        "x.xlsx, sheet 'Sheet', row 4, column 'Publication Year': 'in press' is not a year"
    ]


def test_a_formula_without_a_saved_value_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Title", "Publication Year"])
    sheet.append(["A study", 2020])
    sheet.append(['=CONCAT("Rituximab", " for calcinosis")', 2021])
    path = tmp_path / "scripted.xlsx"
    book.save(path)  # openpyxl saves formulas without a computed value, as scripts do
    with pytest.raises(ParseError) as error:
        read_xlsx(path.read_bytes(), "scripted.xlsx", source="s")
    assert str(error.value) == (
        "scripted.xlsx, sheet 'Sheet', row 3, column 'Title': the formula "
        '=CONCAT("Rituximab", " for calcinosis") has no saved value (the file was written by '
        "a program, not saved by a spreadsheet); open and save it in a spreadsheet, or paste "
        "the values, and import again"
    )


def test_a_damaged_xlsx_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^broken\.xlsx: not a readable XLSX workbook"):
        read_xlsx(b"PK\x03\x04 not really a zip", "broken.xlsx", source="s")


@pytest.mark.parametrize(
    ("data", "advice"),
    [
        ((DATA / "asreview.csv").read_bytes(), "it looks like CSV: import it with --format csv"),
        (b"title;year\nA;2001\n", "it looks like CSV: import it with --format csv"),
        (b"title\tyear\nA\t2001\n", "it looks like TSV: import it with --format tsv"),
        (b"Just some notes\n", "export the records again as XLSX, or as CSV"),
    ],
)
def test_a_text_file_renamed_xlsx_says_it_is_not_a_workbook(data: bytes, advice: str) -> None:
    with pytest.raises(ParseError) as error:
        read_xlsx(data, "records.xlsx", source="s")
    assert str(error.value) == (
        "records.xlsx: not an XLSX workbook (it holds text, not the ZIP archive every .xlsx "
        f"is); {advice}"
    )


@pytest.mark.parametrize(
    ("sheet", "titles"),
    [
        (None, ["From Embase"]),
        ("Scopus", ["From Scopus", "Also Scopus"]),
        ("scopus", ["From Scopus", "Also Scopus"]),
        (2, ["From Scopus", "Also Scopus"]),
        ("2", ["From Scopus", "Also Scopus"]),
        (1, ["From Embase"]),
    ],
)
def test_the_sheet_is_chosen_by_name_or_number_from_1(
    tmp_path: Path, sheet: str | int | None, titles: list[str]
) -> None:
    parsed = read_xlsx(_workbook(tmp_path, TWO_SHEETS), "records.xlsx", source="s", sheet=sheet)
    assert [r.title for r in parsed.records] == titles
    assert parsed.places[0] == f"sheet {parsed.sheet!r}, row 2"


def test_a_sheet_named_by_digits_is_found_by_its_name_first() -> None:
    assert choose_sheet(["2019", "2020"], "2020", "x.xlsx") == "2020"
    assert choose_sheet(["2019", "2020"], "1", "x.xlsx") == "2019"


@pytest.mark.parametrize(
    ("sheet", "message"),
    [
        (
            "Medline",
            "records.xlsx: there is no sheet 'Medline'; the workbook has 2 sheets, 1 'Embase' "
            "and 2 'Scopus': give --sheet one of these names or its number",
        ),
        (
            3,
            "records.xlsx: there is no sheet 3; the workbook has 2 sheets, 1 'Embase' and "
            "2 'Scopus': give --sheet a number from 1 to 2 or a name",
        ),
        (
            "0",
            "records.xlsx: there is no sheet 0; the workbook has 2 sheets, 1 'Embase' and "
            "2 'Scopus': give --sheet a number from 1 to 2 or a name",
        ),
    ],
)
def test_an_unknown_sheet_lists_the_sheets_there_are(
    tmp_path: Path, sheet: str | int, message: str
) -> None:
    with pytest.raises(ParseError) as error:
        read_xlsx(_workbook(tmp_path, TWO_SHEETS), "records.xlsx", source="s", sheet=sheet)
    assert str(error.value) == message


def test_every_message_about_a_workbook_names_the_sheet(tmp_path: Path) -> None:
    data = _workbook(
        tmp_path,
        {
            "Embase": [["title", "year"], ["Fine", 2020]],
            "Empty": [],
            "No title": [["name", "when"], ["x", 2020]],
            "Bad year": [["title", "year"], ["Fine", 2020], ["Late", "in press"]],
        },
    )
    messages = []
    for sheet in ("Empty", "No title"):
        with pytest.raises(ParseError) as error:
            read_xlsx(data, "records.xlsx", source="s", sheet=sheet)
        messages.append(str(error.value))
    parsed = read_xlsx(data, "records.xlsx", source="s", sheet="Bad year")
    messages.extend(r.message for r in parsed.rejects)
    assert messages == [
        "records.xlsx, sheet 'Empty': the sheet is empty; expected a header row",
        "records.xlsx, sheet 'No title', row 1: no column for the title, DOI or PMID (the header "
        "has 'name', 'when'); name one of them 'title', 'doi' or 'pmid'",
        "records.xlsx, sheet 'Bad year', row 3, column 'year': 'in press' is not a year",
    ]
