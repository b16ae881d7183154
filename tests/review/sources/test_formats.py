"""Format detection and decoding: binary files refused as such, gzip read as its content."""

from __future__ import annotations

import gzip
import random
import sqlite3
import sys
from pathlib import Path

import pytest

from review.errors import NotTextError, ParseError
from review.sources.formats import decode_text, detect_format, gunzip

DATA = Path(__file__).resolve().parents[2] / "data" / "import"
NOT_TEXT = (
    "{name}: not a text file (it holds binary data); export the records again as RIS, nbib, "
    "CSV or XLSX"
)


def _sqlite_database(tmp_path: Path) -> bytes:
    path = tmp_path / "review.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, title TEXT)")
        connection.executemany("INSERT INTO records (title) VALUES (?)", [("A title",)] * 50)
    connection.close()
    return path.read_bytes()


def _binaries(tmp_path: Path) -> dict[str, bytes]:
    return {
        "program": Path(sys.executable).read_bytes()[:8192],
        "database": _sqlite_database(tmp_path),
        "image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(2000) + b"\xd8\x00" * 40,
        "random": random.Random(9).randbytes(3000),
    }


@pytest.mark.parametrize("kind", ["program", "database", "image", "random"])
def test_a_binary_file_renamed_ris_is_not_a_text_file(kind: str, tmp_path: Path) -> None:
    data = _binaries(tmp_path)[kind]
    for call in (lambda: detect_format("x.ris", data), lambda: decode_text(data, "x.ris")):
        with pytest.raises(NotTextError) as error:
            call()
        assert str(error.value) == NOT_TEXT.format(name="x.ris")


def test_a_workbook_read_as_text_is_named_as_a_zip_archive() -> None:
    with pytest.raises(NotTextError) as error:
        decode_text(b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "records.csv")
    assert str(error.value) == (
        "records.csv: not a text file (it is a ZIP archive, as an XLSX workbook is); import a "
        "workbook with --format xlsx, or export the records again as RIS, nbib or CSV"
    )


def test_text_with_the_odd_control_character_is_still_text() -> None:
    text = "TY  - JOUR\r\nTI  - Form\x0cfeed and a DOS end\r\nER  - \r\n\x1a"
    assert decode_text(text.encode("cp1252"), "x.ris") == (text, "UTF-8")
    utf16 = "Title\tYear\r\nCalcinose cutanée\t2020\r\n" * 20
    assert decode_text(utf16.encode("utf-16-le"), "x.txt") == (utf16, "UTF-16-LE")
    assert decode_text(utf16.encode("utf-16-be"), "x.txt") == (utf16, "UTF-16-BE")


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("embase.ris.gz", (DATA / "embase.ris").read_bytes(), "ris"),
        ("pubmed.nbib.gz", (DATA / "pubmed.nbib").read_bytes(), "nbib"),
        ("asreview.csv.gz", (DATA / "asreview.csv").read_bytes(), "csv"),
        ("records.tsv.gz", b"title\tyear\nA\t2001\n", "tsv"),
        ("records.gz", b"title,year\nA,2001\n", "csv"),
        ("export.txt.gz", (DATA / "embase.ris").read_bytes(), "ris"),
        ("pubmed.xml.gz", b"<?xml version='1.0'?><PubmedArticleSet/>", "pubmed-xml"),
    ],
)
def test_a_gzip_file_is_the_format_of_its_content(name: str, content: bytes, fmt: str) -> None:
    data = gzip.compress(content)
    assert detect_format(name, data) == fmt
    assert gunzip(data, name) == content


def test_a_damaged_gzip_file_says_so() -> None:
    data = gzip.compress((DATA / "embase.ris").read_bytes())[:100]
    with pytest.raises(ParseError) as error:
        gunzip(data, "embase.ris.gz")
    assert str(error.value) == (
        "embase.ris.gz: the gzip file is damaged or cut short (Compressed file ended before the "
        "end-of-stream marker was reached); download or compress it again"
    )
