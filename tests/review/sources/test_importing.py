"""import_file: all or nothing, logged, idempotent, safe against id collisions and kill -9."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from progress_calls import Recorder
from stores import clock, records_of, store_snapshot

from review.errors import ImportFileError, ParseError
from review.sources.formats import detect_format
from review.sources.importing import import_file
from review.store import Store, open_store
from review.store.loads import file_loads

DATA = Path(__file__).resolve().parents[2] / "data" / "import"
ROOT = Path(__file__).resolve().parents[3]


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copyfile(DATA / name, target)
    return target


def _state(store: Store) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    snapshot = store_snapshot(store)
    return snapshot["records"], snapshot["loads"]


def _loads(store: Store) -> list[dict[str, object]]:
    with store.read() as tx:
        return file_loads(tx)


def test_import_writes_records_and_logs_the_load(store: Store, tmp_path: Path) -> None:
    path = _copy("embase.ris", tmp_path)
    summary = import_file(store, path, source="embase", clock=clock)
    assert (summary.n_read, summary.n_new, summary.n_rejected) == (3, 3, 0)
    assert summary.message == "embase.ris: read 3 records (ris, UTF-8), 3 new in source 'embase'"
    stored = [r for _, r in records_of(store).items()]
    assert [r.source_id for r in stored] == ["2021345678", "2022456789", "2020112233"]
    assert all(r.source == "embase" for r in stored)
    (load,) = _loads(store)
    assert (load["source"], load["file_name"], load["status"]) == (
        "embase",
        "embase.ris",
        "complete",
    )
    assert load["sha256"] == summary.sha256 and len(summary.sha256) == 64
    assert (load["n_read"], load["n_new"]) == (3, 3)
    assert load["details"]["format"] == "ris"
    assert load["details"]["n_rejected"] == 0


def test_importing_the_same_file_again_is_a_no_op_that_says_so(
    store: Store, tmp_path: Path
) -> None:
    path = _copy("scopus.ris", tmp_path)
    first = import_file(store, path, source="scopus", clock=clock)
    before = _state(store)
    again = import_file(store, path, source="scopus", clock=clock)
    assert again.already_imported
    assert again.message == (
        f"scopus.ris was already imported into source 'scopus' (load {first.load_id}); "
        "nothing changed"
    )
    assert _state(store) == before
    renamed = tmp_path / "scopus-copy.ris"
    shutil.copyfile(path, renamed)
    assert import_file(store, renamed, source="scopus", clock=clock).already_imported
    other = import_file(store, path, source="scopus-2024", clock=clock)
    assert (other.already_imported, other.n_new) == (False, 2)


def test_a_malformed_record_imports_nothing_and_names_file_and_line(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, _copy("wos.ris", tmp_path), source="wos", clock=clock)
    before = _state(store)
    good = "TY  - JOUR\nTI  - Fine\nER  - \n\n"
    path = tmp_path / "embase.ris"
    path.write_text(good * 14 + "T1  - Broken\nA1  - Smith J.\nER  - \n" + good)
    with pytest.raises(ParseError) as error:
        import_file(store, path, source="embase", clock=clock)
    assert str(error.value) == (
        "embase.ris, line 57: record 15 has no TY tag (it starts with T1); every RIS record "
        "starts with 'TY  - ' and ends with 'ER  - '; nothing was imported: fix the file, or "
        "use --skip-invalid to import the valid records and list the rejects in a file"
    )
    assert _state(store) == before


def test_text_in_the_year_column_imports_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    rows = ["title,year"] + [f"Paper {i},2001" for i in range(2, 812)]
    path.write_text("\n".join([*rows, "Paper 812,n.d.", "Paper 813,circa 1990"]) + "\n")
    with pytest.raises(ParseError) as error:
        import_file(store, path, source="csv", clock=clock)
    assert str(error.value) == (
        "records.csv, row 812, column 'year': 'n.d.' is not a year (and 1 more invalid "
        "record); nothing was imported: fix the file, or use --skip-invalid to import the "
        "valid records and list the rejects in a file"
    )
    assert _state(store) == ([], [])


def test_skip_invalid_imports_the_rest_and_writes_the_rejects(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text("title,year,pmid\nA,2001,1\nB,n.d.,2\nC,2003,x3\nD,2004,4\n")
    summary = import_file(store, path, source="csv", skip_invalid=True, clock=clock)
    assert (summary.n_read, summary.n_new, summary.n_rejected) == (4, 2, 2)
    assert summary.rejects_path == tmp_path / "records.rejects.csv"
    assert summary.message.endswith(f"2 rejected (reasons in {tmp_path / 'records.rejects.csv'})")
    with summary.rejects_path.open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["file", "place", "reason"],
            ["records.csv", "row 3, column 'year'", "'n.d.' is not a year"],
            ["records.csv", "row 4, column 'pmid'", "'x3' is not a PMID"],
        ]
    assert [r.title for _, r in records_of(store).items()] == ["A", "D"]
    (load,) = _loads(store)
    assert load["details"]["n_rejected"] == 2
    custom = tmp_path / "elsewhere.csv"
    other = tmp_path / "records2.csv"
    other.write_text("title,year\nE,never\n")
    assert (
        import_file(
            store, other, source="csv", skip_invalid=True, rejects_path=custom, clock=clock
        ).n_new
        == 0
    )
    assert custom.read_text(encoding="utf-8").splitlines()[1] == (
        "records2.csv,\"row 2, column 'year'\",'never' is not a year"
    )


def test_repeated_id_with_other_content_is_rejected_not_silently_dropped(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "dup.ris"
    path.write_text(
        "TY  - JOUR\nID  - 7\nTI  - One\nER  - \n"
        "TY  - JOUR\nID  - 7\nTI  - One\nER  - \n"
        "TY  - JOUR\nID  - 7\nTI  - Two\nER  - \n"
    )
    with pytest.raises(
        ParseError,
        match=r"^dup\.ris, line 9: the record repeats ID '7' of the "
        r"record at line 1 with different content; ids must be unique",
    ):
        import_file(store, path, source="x", clock=clock)
    assert _state(store) == ([], [])


def test_an_identical_repeat_within_the_file_is_counted_once(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "twice.ris"
    path.write_text("TY  - JOUR\nID  - 7\nTI  - One\nER  - \n" * 2)
    summary = import_file(store, path, source="x", clock=clock)
    assert (summary.n_read, summary.n_new, summary.n_present) == (2, 1, 1)
    assert summary.message == (
        "twice.ris: read 2 records (ris, UTF-8), 1 new in source 'x', 1 already present"
    )


def test_an_id_the_source_holds_for_another_record_is_rejected(
    store: Store, tmp_path: Path
) -> None:
    first = tmp_path / "a.ris"
    first.write_text("TY  - JOUR\nID  - 1\nTI  - Alpha\nER  - \n")
    import_file(store, first, source="embase", clock=clock)
    second = tmp_path / "b.ris"
    second.write_text(
        "TY  - JOUR\nID  - 1\nTI  - Alpha\nER  - \nTY  - JOUR\nID  - 2\nTI  - Beta\nER  - \n"
    )
    summary = import_file(store, second, source="embase", clock=clock)
    assert (summary.n_new, summary.n_present) == (1, 1)
    third = tmp_path / "c.ris"
    third.write_text("TY  - JOUR\nID  - 2\nTI  - Gamma\nER  - \n")
    with pytest.raises(ParseError) as error:
        import_file(store, third, source="embase", clock=clock)
    assert str(error.value).startswith(
        "c.ris, line 1: the record has ID '2', which source 'embase' already holds for a "
        "different record (#2, 'Beta'); import this file under another --source name"
    )


def test_the_same_id_with_the_same_title_and_no_conflicting_doi_is_already_present(
    store: Store, tmp_path: Path
) -> None:
    first = tmp_path / "search.ris"
    first.write_text(
        "TY  - JOUR\nID  - 11748933\nTI  - Is it  homogeneous?\nDO  - 10.1000/x\nER  - \n"
    )
    import_file(store, first, source="pubmed", clock=clock)
    wrapped = tmp_path / "export.nbib"
    wrapped.write_text("PMID- 11748933\nTI  - Is it\n      HOMOGENEOUS?\nDP  - 2001\n")
    summary = import_file(store, wrapped, source="pubmed", clock=clock)
    assert (summary.n_new, summary.n_present) == (0, 1)
    conflicting = tmp_path / "other.ris"
    conflicting.write_text(
        "TY  - JOUR\nID  - 11748933\nTI  - Is it homogeneous?\nDO  - 10.1000/y\nER  - \n"
    )
    with pytest.raises(
        ParseError, match=r"^other\.ris, line 1: the record has ID '11748933', which"
    ):
        import_file(store, conflicting, source="pubmed", clock=clock)


def test_formats_are_detected_from_content_and_name() -> None:
    assert detect_format("export.txt", (DATA / "embase.ris").read_bytes()) == "ris"
    assert detect_format("citations.txt", (DATA / "pubmed.nbib").read_bytes()) == "nbib"
    assert detect_format("x.csv", b"title,year\n") == "csv"
    assert detect_format("x.tsv", b"title\tyear\n") == "tsv"
    assert detect_format("data", b"title\tyear\n") == "tsv"
    assert detect_format("x.xml", b"<?xml version='1.0'?><PubmedArticleSet/>") == "pubmed-xml"
    assert detect_format("x.bin", b"PK\x03\x04rest") == "xlsx"
    with pytest.raises(ParseError, match=r"^notes: cannot tell the format"):
        detect_format("notes", b"hello world\n")
    with pytest.raises(ParseError) as error:
        detect_format("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest")
    assert str(error.value) == (
        "old.xls: an old Excel .xls workbook, which casepool does not read; save it as "
        ".xlsx or CSV (UTF-8) and import that"
    )


@pytest.mark.parametrize(
    "name", ["embase.ris", "pubmed.nbib", "asreview.csv", "records.tsv", "update.xml"]
)
def test_a_gzip_compressed_file_imports_as_its_content(
    name: str, store: Store, tmp_path: Path
) -> None:
    import gzip

    if name == "records.tsv":
        content = b"title\tyear\nTabbed record\t2001\n"
    elif name == "update.xml":
        content = _PUBMED_XML
    else:
        content = (DATA / name).read_bytes()
    plain = tmp_path / name
    plain.write_bytes(content)
    expected = import_file(store, plain, source="plain", clock=clock)
    packed = tmp_path / f"{name}.gz"
    packed.write_bytes(gzip.compress(content))
    summary = import_file(store, packed, source="packed", clock=clock)
    assert (summary.format, summary.encoding, summary.n_read) == (
        expected.format,
        expected.encoding,
        expected.n_read,
    )
    stored = records_of(store).values()
    plain_records = [replace(r, source="x") for r in stored if r.source == "plain"]
    assert [replace(r, source="x") for r in stored if r.source == "packed"] == plain_records


def test_excel_unicode_text_utf16_tab_separated_is_imported(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "from-excel.txt"
    text = "Title\tAuthors\tYear\r\nCalcinose cutanée\tMüller, K\t2020\r\n"
    path.write_bytes(text.encode("utf-16"))
    summary = import_file(store, path, source="excel", clock=clock)
    assert (summary.format, summary.encoding, summary.n_new) == ("tsv", "UTF-16", 1)
    ((_, record),) = records_of(store).items()
    assert (record.title, record.authors[0].last_name) == ("Calcinose cutanée", "Müller")


def test_bytes_undefined_in_windows_1252_fall_back_to_iso_8859_1(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "old.ris"
    path.write_bytes(b"TY  - JOUR\nTI  - Caf\xe9 \x81 au lait\nER  - \n")
    summary = import_file(store, path, source="old", clock=clock)
    assert summary.encoding == "ISO-8859-1"
    ((_, record),) = records_of(store).items()
    assert record.title == "Café \x81 au lait"


def test_unreadable_file_and_bad_arguments_are_import_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as error:
        import_file(store, tmp_path / "missing.ris", source="x", clock=clock)
    assert (
        str(error.value)
        == f"{tmp_path / 'missing.ris'}: no such file; check the path and the file name"
    )
    with pytest.raises(ImportFileError) as error:
        import_file(store, tmp_path, source="x", clock=clock)
    assert str(error.value) == f"{tmp_path}: is a folder; give the path of a record file inside it"
    (tmp_path / "empty.ris").write_bytes(b" \r\n")
    with pytest.raises(ImportFileError) as error:
        import_file(store, tmp_path / "empty.ris", source="x", clock=clock)
    assert (
        str(error.value) == f"{tmp_path / 'empty.ris'}: the file is empty; export the records again"
    )
    with pytest.raises(ImportFileError, match=r"^the source name is empty"):
        import_file(store, DATA / "embase.ris", source=" ", clock=clock)
    with pytest.raises(ImportFileError, match=r"^unknown format 'bibtex'"):
        import_file(store, DATA / "embase.ris", source="x", fmt="bibtex", clock=clock)


_PUBMED_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<PubmedArticleSet>
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">40000001</PMID>
<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Internet"><Volume>5</Volume>
<PubDate><Year>2023</Year></PubDate></JournalIssue><Title>Rheumatology case reports</Title>
</Journal><ArticleTitle>Rituximab in calcinosis.</ArticleTitle></Article></MedlineCitation>
</PubmedArticle>
<DeleteCitation><PMID Version="1">31234567</PMID></DeleteCitation>
</PubmedArticleSet>
"""


def test_pubmed_xml_import_takes_the_source_and_applies_deletions(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, _copy("pubmed.nbib", tmp_path), source="pubmed", clock=clock)
    path = tmp_path / "update.xml"
    path.write_bytes(_PUBMED_XML)
    summary = import_file(store, path, source="pubmed", clock=clock)
    assert (summary.format, summary.n_new, summary.n_withdrawn) == ("pubmed-xml", 1, 1)
    live = {r.source_id: r for _, r in records_of(store).items()}
    assert set(live) == {"33541234", "40000001"}
    assert live["40000001"].source == "pubmed"


def _big_ris(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(
                f"TY  - JOUR\nID  - {i}\nTI  - Generated record {i}\nAU  - Smith, J\n"
                f"PY  - {1990 + i % 30}\nAB  - {'words ' * 40}\nER  - \n\n"
            )


def test_a_killed_import_leaves_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    import_file(store, _copy("embase.ris", tmp_path), source="embase", clock=clock)
    before = _state(store)
    big = tmp_path / "big.ris"
    _big_ris(big, 6000)
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from review.sources.importing import import_file
        from review.store import open_store

        def progress(phase, done, total, unit="records"):
            if phase == "writing" and done >= 3000:
                print("writing", done, flush=True)
                time.sleep(120)

        store = open_store(sys.argv[1])
        import_file(
            store, Path(sys.argv[2]), source="big", progress=progress, clock=lambda: "now"
        )
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, store.url, str(big)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("writing 3000")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    with open_store(store.url) as reopened:
        assert _state(reopened) == before
        if reopened.backend == "sqlite":
            with reopened.read() as tx:
                assert tx.connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    summary = import_file(store, big, source="big", clock=clock)
    assert summary.n_new == 6000


def test_load_details_are_json_with_repairs(store: Store, tmp_path: Path) -> None:
    import_file(store, _copy("refworks.ris", tmp_path), source="refworks", clock=clock)
    (details,) = [json.loads(str(row["details"])) for row in _state(store)[1]]
    assert details["repairs"] == [
        "refworks.ris, line 1: record 1 had its authors split into 68 one-letter lines "
        "(a RefWorks round trip); joined back into 3 names"
    ]


def test_each_sheet_of_a_workbook_imports_once(store: Store, tmp_path: Path) -> None:
    from openpyxl import Workbook

    from review.store.records import finish_load, start_load

    book = Workbook()
    book.active.title = "Embase"
    book.active.append(["title"])
    book.active.append(["From Embase"])
    scopus = book.create_sheet("Scopus")
    scopus.append(["title"])
    scopus.append(["From Scopus"])
    path = tmp_path / "records.xlsx"
    book.save(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.transaction() as tx:  # an import recorded before loads named their sheet
        load = start_load(
            tx, kind="file", source="w", at="then", sha256=digest, details={"format": "xlsx"}
        )
        finish_load(tx, load, at="then", n_read=1, n_new=0)
    first = import_file(store, path, source="w", clock=clock)
    assert (first.already_imported, first.sheet, first.load_id) == (True, "Embase", load)
    second = import_file(store, path, source="w", clock=clock, sheet="Scopus")
    assert (second.already_imported, second.sheet, second.n_new) == (False, "Scopus", 1)
    assert _loads(store)[-1]["details"]["sheet"] == "Scopus"
    again = import_file(store, path, source="w", clock=clock, sheet=2)
    assert (again.already_imported, again.load_id) == (True, second.load_id)
    assert [r.title for r in records_of(store).values()] == ["From Scopus"]


def test_rejects_are_listed_in_row_order_whatever_the_sheet_is_called(
    store: Store, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Batch 7"
    rows = (["id", "title", "year"], ["1", "A", 2001], ["1", "Not A", 2001], ["2", "B", "x"])
    for row in rows:
        book.active.append(row)
    path = tmp_path / "records.xlsx"
    book.save(path)
    summary = import_file(store, path, source="w", clock=clock, skip_invalid=True)
    assert summary.rejects_path is not None
    with summary.rejects_path.open(encoding="utf-8") as handle:
        places = [row["place"] for row in csv.DictReader(handle)]
    assert places == ["sheet 'Batch 7', row 3", "sheet 'Batch 7', row 4, column 'year'"]


def test_the_rejects_file_is_as_readable_as_the_umask_allows(
    store: Store, tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "records.csv"
    path.write_text("title,year\nA,2001\nB,n.d.\n")
    summary = import_file(store, path, source="csv", clock=clock, skip_invalid=True)
    assert summary.rejects_path == tmp_path / "records.rejects.csv"
    assert summary.rejects_path.stat().st_mode & 0o777 == 0o666 & ~umask


def _pubmed_xml(n: int) -> bytes:
    article = (
        "<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article><Journal><Title>J</Title>"
        "</Journal><ArticleTitle>Generated case report {pmid}.</ArticleTitle><Abstract>"
        "<AbstractText>{words}</AbstractText></Abstract></Article></MedlineCitation>"
        "</PubmedArticle>\n"
    )
    rng = random.Random(5)  # words gzip cannot squeeze into a few blocks, as real abstracts
    body = "".join(
        article.format(
            pmid=40000000 + i, words=" ".join(f"{rng.getrandbits(40):x}" for _ in range(30))
        )
        for i in range(n)
    )
    return f'<?xml version="1.0"?>\n<PubmedArticleSet>\n{body}</PubmedArticleSet>\n'.encode()


def _big_file(name: str, path: Path) -> int:
    """Write a record file of ``name``'s format with several thousand records; return how many."""
    import gzip

    from openpyxl import Workbook

    if name.endswith(".ris"):
        _big_ris(path, 2000)
    elif name.endswith(".nbib"):
        path.write_text(
            "".join(f"PMID- {i}\nTI  - Record {i}\nAB  - {'w ' * 80}\n\n" for i in range(1, 2001))
        )
    elif name.endswith(".csv"):
        path.write_text(
            "id,title,abstract\n" + "".join(f"{i},Record {i},{'w ' * 80}\n" for i in range(2000))
        )
    elif name.endswith(".xlsx"):
        book = Workbook()
        book.active.append(["id", "title", "abstract"])
        for i in range(2000):
            book.active.append([i, f"Record {i}", "w " * 80])
        book.save(path)
    elif name.endswith(".xml.gz"):
        path.write_bytes(gzip.compress(_pubmed_xml(2000)))
    else:
        path.write_bytes(_pubmed_xml(2000))
    return 2000


@pytest.mark.parametrize(
    "name", ["big.ris", "big.nbib", "big.csv", "big.xlsx", "big.xml", "big.xml.gz"]
)
def test_import_progress_counts_bytes_while_reading_and_records_while_writing(
    name: str, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / name
    n = _big_file(name, path)
    recorder = Recorder()
    summary = import_file(store, path, source="big", clock=clock, progress=recorder)
    assert summary.n_new == n
    assert recorder.phases() == [f"reading {name}", "writing"]
    size = path.stat().st_size
    assert recorder.counts_up(f"reading {name}", size, "bytes", updates=20), recorder.of(
        f"reading {name}"
    )[:5]
    assert len(recorder.of(f"reading {name}")) <= 202  # a bar's worth, not one per record
    assert recorder.counts_up("writing", n, "records", updates=2)
