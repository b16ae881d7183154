"""Reading per-study counts from CSV/TSV/XLSX, with errors that name file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta.errors import InputDataError
from meta.tables import read_counts_table

DATA = Path(__file__).resolve().parents[1] / "data" / "meta"
EXAMPLE = DATA / "rtx_ssc_calcinosis.csv"


def _write(tmp_path: Path, text: str, name: str = "counts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_worked_example_with_labels_and_subgroups() -> None:
    counts = read_counts_table(
        EXAMPLE, events="clinical_response", total="patients", study="study", subgroup="source"
    )
    assert counts.studies == ("Narváez 2019 (local series)", "Daoussis 2012", "Poormoghim 2016")
    assert counts.events == (4, 1, 0)
    assert counts.totals == (8, 1, 1)
    assert counts.subgroups == ("local series", "published", "published")


def test_without_a_study_column_rows_label_the_studies(tmp_path: Path) -> None:
    path = _write(tmp_path, "e,n\n1,4\n\n2,5\n")
    counts = read_counts_table(path, events="e", total="n")
    assert counts.studies == ("Row 2", "Row 4")
    assert counts.subgroups == (None, None)


def test_tsv_and_whole_floats_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "s\te\tn\nA\t3.0\t10\nB\t0\t 7 \n", "counts.tsv")
    counts = read_counts_table(path, events="e", total="n", study="s")
    assert counts.events == (3, 0)
    assert counts.totals == (10, 7)


def test_xlsx_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["study", "events", "total"])
    sheet.append(["A", 2, 5])
    sheet.append([None, None, None])
    sheet.append(["B", 1.0, 4])
    sheet.append(["C", "eight", 9])
    path = tmp_path / "counts.xlsx"
    book.save(path)
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study")
    assert str(info.value) == (
        f"{path}, sheet 'Sheet', row 5, column 'events': 'eight' is not a whole number"
    )
    sheet.delete_rows(5)
    book.save(path)
    counts = read_counts_table(path, events="events", total="total", study="study")
    assert counts.studies == ("A", "B")
    assert counts.events == (2, 1)


def test_rejects_text_in_a_count_naming_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "study,events,total\nA,1,2\nB,2,3\nC,3,eight\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study")
    assert str(info.value) == f"{path}, row 4, column 'total': 'eight' is not a whole number"


def test_rejects_fractional_negative_and_empty_counts(tmp_path: Path) -> None:
    cases = {
        "A,1.5,2\n": "row 2, column 'events': '1.5' is not a whole number",
        "A,-1,2\n": "row 2, column 'events': '-1' is negative; counts are 0 or more",
        "A,,2\n": "row 2, column 'events': empty cell; give a whole number",
    }
    for line, message in cases.items():
        path = _write(tmp_path, "study,events,total\n" + line)
        with pytest.raises(InputDataError) as info:
            read_counts_table(path, events="events", total="total", study="study")
        assert str(info.value) == f"{path}, {message}"


def test_rejects_events_above_total_and_total_zero(tmp_path: Path) -> None:
    path = _write(tmp_path, "study,events,total\nA,1,2\nB,5,3\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study")
    assert str(info.value) == (
        f"{path}, row 3: events (5, column 'events') exceed total (3, column 'total')"
    )
    path = _write(tmp_path, "study,events,total\nA,0,0\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study")
    assert str(info.value) == (
        f"{path}, row 2, column 'total': total is 0; a study needs at least 1 patient "
        "(remove the row or correct the total)"
    )


def test_missing_column_lists_the_columns_that_exist(tmp_path: Path) -> None:
    path = _write(tmp_path, "study,events,n\nA,1,2\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study")
    assert str(info.value) == (
        f"{path}: no column 'total' (given as --total); the columns are: 'study', 'events', 'n'"
    )


def test_repeated_study_label_names_both_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "study,events,total\nA,1,2\nB,1,2\nA,0,3\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study")
    assert str(info.value) == (
        f"{path}, row 4, column 'study': study 'A' already appears in row 2; "
        "study labels must be unique"
    )


def test_empty_subgroup_cell_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "study,events,total,group\nA,1,2,x\nB,1,2,\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="events", total="total", study="study", subgroup="group")
    assert str(info.value) == f"{path}, row 3, column 'group': empty cell; give a label"


def test_file_problems_are_one_line_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputDataError, match=r"nope\.csv: no such file$"):
        read_counts_table(missing, events="e", total="n")
    odd = _write(tmp_path, "e,n\n1,2\n", "counts.json")
    with pytest.raises(InputDataError) as info:
        read_counts_table(odd, events="e", total="n")
    assert str(info.value) == (
        f"{odd}: unknown table format '.json'; use CSV (.csv), TSV (.tsv, .tab, .txt) "
        "or Excel (.xlsx, .xlsm)"
    )
    header_only = _write(tmp_path, "e,n\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(header_only, events="e", total="n")
    assert (
        str(info.value) == f"{header_only}: no studies below the header row; add one row per study"
    )
    empty = _write(tmp_path, "", "empty.csv")
    with pytest.raises(InputDataError) as info:
        read_counts_table(empty, events="e", total="n")
    assert str(info.value) == f"{empty}: the file is empty; it needs a header row"
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InputDataError, match=r"broken\.xlsx: not a readable Excel workbook"):
        read_counts_table(broken, events="e", total="n")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("study,e,n\nNarv\xe1ez,1,2\n".encode("latin-1"))
    with pytest.raises(InputDataError) as info:
        read_counts_table(latin, events="e", total="n", study="study")
    assert str(info.value) == f"{latin}: not UTF-8 text; save the table as UTF-8"


def test_a_row_longer_than_the_header_is_an_error_naming_the_row(tmp_path: Path) -> None:
    # pandas would otherwise take the first column as an index when row 2 is the long one
    for text, row in (("s,e,n\nA,1,5,9\nB,3,3\n", 2), ("s,e,n\nA,1,5\nB,3,3,7\n", 3)):
        path = _write(tmp_path, text)
        with pytest.raises(InputDataError) as caught:
            read_counts_table(path, events="e", total="n", study="s")
        assert str(caught.value) == (
            f"{path}, row {row}: 4 cells but the header row has 3; remove the extra cells, "
            "or quote values that contain the separator (',')"
        )


def _xlsx_with_formula(path: Path, saved_value: str | None) -> None:
    """A workbook whose B3 is the formula =1+2, with or without the value Excel saves."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["s", "e", "n"], ["A", 1, 5], ["B", "=1+2", 3]):
        sheet.append(row)
    book.save(path)
    if saved_value is None:
        return
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = (
        sheet_xml.replace("<f>1+2</f><v></v>", f"<f>1+2</f><v>{saved_value}</v>")
        .replace("<f>1+2</f><v />", f"<f>1+2</f><v>{saved_value}</v>")
        .encode()
    )
    assert f"<v>{saved_value}</v>" in parts["xl/worksheets/sheet1.xml"].decode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_xlsx_formula_without_a_saved_value_says_so(tmp_path: Path) -> None:
    path = tmp_path / "counts.xlsx"
    _xlsx_with_formula(path, None)
    with pytest.raises(InputDataError) as caught:
        read_counts_table(path, events="e", total="n", study="s")
    assert str(caught.value) == (
        f"{path}, sheet 'Sheet', row 3, column 'e': the formula '=1+2' has no saved value; "
        "open the workbook "
        "in Excel or LibreOffice and save it, or type the value"
    )


def test_xlsx_formula_with_a_saved_value_reads_the_value(tmp_path: Path) -> None:
    path = tmp_path / "counts.xlsx"
    _xlsx_with_formula(path, "3")
    counts = read_counts_table(path, events="e", total="n", study="s")
    assert counts.events == (1, 3)


def test_an_implausibly_large_total_is_refused_before_it_overflows(tmp_path: Path) -> None:
    path = _write(tmp_path, "s,e,n\nA,99999999999999999999,99999999999999999999\nB,1,2\n")
    with pytest.raises(InputDataError) as caught:
        read_counts_table(path, events="e", total="n", study="s")
    assert str(caught.value) == (
        f"{path}, row 2, column 'n': total 99999999999999999999 is more than 1,000,000,000 "
        "patients; check the count"
    )


def test_a_column_named_twice_in_the_header_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "s,e,e,n\nA,1,2,5\nB,1,1,3\n")
    with pytest.raises(InputDataError) as caught:
        read_counts_table(path, events="e", total="n", study="s")
    assert str(caught.value) == (
        f"{path}: column 'e' (given as --events) appears 2 times in the header (columns 2, 3); "
        "rename the ones you do not mean"
    )


def test_a_semicolon_separated_csv_gets_a_hint_about_the_separator(tmp_path: Path) -> None:
    path = _write(tmp_path, "s;e;n\nA;1;5\n")
    with pytest.raises(InputDataError) as caught:
        read_counts_table(path, events="e", total="n")
    assert str(caught.value) == (
        f"{path}: no column 'e' (given as --events); the columns are: 's;e;n' (the header "
        "seems separated by ';'; save the table comma-separated as .csv or tab-separated as .tsv)"
    )
    plain = _write(tmp_path, "s,x,n\nA,1,5\n")
    with pytest.raises(InputDataError) as caught:
        read_counts_table(plain, events="e", total="n")
    assert str(caught.value).endswith("the columns are: 's', 'x', 'n'")


def _two_sheets(tmp_path: Path) -> Path:
    """A workbook with a note on its first sheet and the counts on its second."""
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Counts are on the next sheet"])
    counts = book.create_sheet("Counts")
    counts.append(["study", "e", "n"])
    for row in (["A", 1, 4], ["B", 2, 5], ["C", 6, 3]):
        counts.append(row)
    book.create_sheet("Empty")
    path = tmp_path / "counts.xlsx"
    book.save(path)
    return path


def test_the_first_sheet_without_counts_names_the_sheet_and_the_others(tmp_path: Path) -> None:
    path = _two_sheets(tmp_path)
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="e", total="n")
    assert str(info.value) == (
        f"{path}, sheet 'Notes': no studies below the header row; add one row per study (the "
        "workbook has other sheets: 'Counts', 'Empty'; choose one with --sheet)"
    )


def test_a_sheet_is_chosen_by_name_or_number_and_named_in_every_message(tmp_path: Path) -> None:
    path = _two_sheets(tmp_path)
    expected = f"{path}, sheet 'Counts', row 4: events (6, column 'e') exceed total (3, column 'n')"
    for sheet in ("Counts", 2, "2"):
        with pytest.raises(InputDataError) as info:
            read_counts_table(path, events="e", total="n", study="study", sheet=sheet)
        assert str(info.value) == expected
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="e", total="total", sheet="Counts")
    assert str(info.value) == (
        f"{path}, sheet 'Counts': no column 'total' (given as --total); the columns are: "
        "'study', 'e', 'n'"
    )
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="e", total="n", sheet="Empty")
    assert str(info.value) == f"{path}, sheet 'Empty': the sheet is empty; it needs a header row"


@pytest.mark.parametrize("sheet", ["Sheet1", 4, 0, "0"])
def test_an_unknown_sheet_lists_the_sheets_there_are(tmp_path: Path, sheet: str | int) -> None:
    path = _two_sheets(tmp_path)
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="e", total="n", sheet=sheet)
    shown = repr(sheet) if isinstance(sheet, str) else str(sheet)
    assert str(info.value) == (
        f"{path}: no sheet {shown}; the sheets are (number and name): 1 'Notes', 2 'Counts', "
        "3 'Empty'"
    )


def test_a_sheet_of_a_text_table_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "e,n\n1,4\n")
    with pytest.raises(InputDataError) as info:
        read_counts_table(path, events="e", total="n", sheet="Counts")
    assert str(info.value) == (
        f"{path}: a text table has no sheets, so sheet 'Counts' cannot be read; give a sheet "
        "only for an Excel workbook (.xlsx, .xlsm)"
    )


def test_a_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as info:
        read_counts_table(tmp_path, events="e", total="n")
    assert str(info.value) == (
        f"{tmp_path}: is a folder; give the path of a counts table inside it"
    )
