"""The report of the worked example's extraction: its numbers are results.json's and the
page's, the page references nothing outside itself, two reports differ only in the run
date, and the Word document opens with the same tables."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from reports import PROTOCOLS, appraised_review, extracted_review
from screening import ready_review

from meta.summary import interval_text
from review.api import Review
from review.report import write_report
from review.report.model import Report, build_report

FIRST = "2026-12-01T10:00:00Z"
SECOND = "2027-01-02T11:30:00Z"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path, Path, list[Path]]:
    """The model and two reports of the same review, on two run dates."""
    base = tmp_path_factory.mktemp("report")
    folder = extracted_review(base / "review")
    with Review.open(folder) as review:
        model = build_report(review, ["search: 0 records"], run_date=FIRST)
        paths = write_report(review, base / "one", run_log=["search: 0 records"], run_date=FIRST)
        write_report(review, base / "two", run_log=["search: 0 records"], run_date=SECOND)
    return model, base / "one", base / "two", paths


def test_the_report_writes_every_file_the_issue_names(written: tuple) -> None:
    _, one, _, paths = written
    names = {p.name for p in paths}
    assert {"report.html", "report.md", "report.docx", "results.json", "prisma.svg"} <= names
    outcomes = ("clinical_response", "radiological_response", "adverse_events")
    assert {f"forest-{o}.svg" for o in outcomes} <= names
    assert {f"sensitivity-{o}.csv" for o in outcomes} <= names
    assert {"studies.csv", "cases.csv", "provenance.csv"} <= names
    assert all(p.parent == one and p.stat().st_size > 0 for p in paths)


def test_the_model_results_json_and_the_page_show_the_same_numbers(written: tuple) -> None:
    model, one, _, _ = written
    results = json.loads((one / "results.json").read_text(encoding="utf-8"))
    page = (one / "report.html").read_text(encoding="utf-8")
    by_name = {o["outcome"]: o for o in results["outcomes"]}
    clinical = by_name["clinical_response"]["primary"]
    assert [(s["events"], s["total"]) for s in clinical["studies"]] == [(4, 8), (1, 1), (0, 1)]
    assert (clinical["events"], clinical["total"]) == (5, 10)
    for section in model.outcomes:
        assert section.plan is not None
        primary = section.plan.primary
        stored = by_name[section.name]["primary"]
        assert stored == json.loads(json.dumps(primary.to_dict()))
        shown = interval_text(stored["estimate"], stored["ci_lower"], stored["ci_upper"])
        assert shown in page
        for study in stored["studies"]:
            text = interval_text(study["proportion"], study["ci_lower"], study["ci_upper"])
            assert f"{study['events']}/{study['total']}" in page and text in page
        rows = by_name[section.name]["sensitivity"]["rows"]
        for row in rows:
            if row["estimate"] is not None:
                text = interval_text(row["estimate"], row["ci_lower"], row["ci_upper"])
                assert text in page, (section.name, row["label"])


def test_the_index_series_alone_gives_the_published_counts(written: tuple) -> None:
    model, _, _, _ = written
    narvaez = {
        o.name: next(r for r in o.counts.rows if r[0] == "Narváez 2019") for o in model.outcomes
    }
    assert {name: row[1:3] for name, row in narvaez.items()} == {
        "clinical_response": ("4", "8"),
        "radiological_response": ("2", "8"),
        "adverse_events": ("1", "8"),
    }


class Page(HTMLParser):
    """Every tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def ids(page: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page))


def test_the_page_parses_and_references_nothing_outside_itself(written: tuple) -> None:
    _, one, _, _ = written
    page = (one / "report.html").read_text(encoding="utf-8")
    parser = Page()
    parser.feed(page)
    parser.close()
    tags = [t for t, _ in parser.tags]
    assert tags[:1] == ["html"] and "link" not in tags and "script" not in tags
    assert tags.count("svg") == 7  # PRISMA, then a forest and a sensitivity plot per outcome
    for tag, attrs in parser.tags:
        for name in ("src", "href", "xlink:href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    names = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[\w/.]+"', "", page)  # not requests
    assert re.search(r"https?://", names) is None
    assert "@import" not in page
    assert set(re.findall(r"url\(([^)]*)\)", page)) <= {f"#{i}" for i in ids(page)}
    assert ('name="viewport"' in page) and "@media print" in page
    every = re.findall(r'\bid="([^"]+)"', page)
    assert len(every) == len(set(every))  # seven inlined SVGs, no id twice


def test_the_page_says_plainly_that_the_example_is_not_a_complete_synthesis(
    written: tuple,
) -> None:
    model, one, _, _ = written
    page = (one / "report.html").read_text(encoding="utf-8")
    first = model.notices[0]
    assert "worked example" in first and "not a complete evidence synthesis" in first
    assert "--live" in first
    assert page.index(first) < page.index("<h2>")
    assert "Completeness: no search is recorded in this review." in model.notices


def test_methods_and_limitations_are_written_from_the_data(written: tuple) -> None:
    model, _, _, _ = written
    methods = " ".join(model.methods)
    assert "Stijnen, Hamza & Özdemir 2010" in methods
    assert "Clopper & Pearson 1934" in methods and "Page et al. 2021" in methods
    assert "no continuity correction" in methods
    assert re.search(r"matplotlib \d", methods) and re.search(r"scipy \d", methods)
    assert "2 of 3 studies are single cases (n = 1): Daoussis 2012, Poormoghim 2016." in (
        model.limitations
    )
    assert any(
        x.startswith("Clinical response: 0% in Poormoghim 2016 and 100% in Daoussis 2012")
        for x in model.limitations
    )
    assert model.appraisal_note == "Not appraised: no study has an appraisal."


def test_two_reports_differ_only_in_the_run_date(written: tuple) -> None:
    _, _, two, paths = written
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in paths)
    for path in paths:
        first = path.read_bytes()
        second = (two / path.name).read_bytes()
        if path.suffix == ".docx":
            first, second = docx_text(path), docx_text(two / path.name)
            first, second = first.encode(), second.encode()
        assert first.replace(FIRST.encode(), b"DATE") == second.replace(SECOND.encode(), b"DATE"), (
            path.name
        )


def test_the_docx_is_byte_identical_but_for_its_dates(written: tuple) -> None:
    import zipfile

    _, one, two, _ = written
    with zipfile.ZipFile(one / "report.docx") as a, zipfile.ZipFile(two / "report.docx") as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name == "docProps/core.xml":
                continue
            if name == "word/document.xml":
                left = a.read(name).replace(FIRST.encode(), b"D")
                assert left == b.read(name).replace(SECOND.encode(), b"D")
                continue
            assert a.read(name) == b.read(name), name


def docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        lines += ["\t".join(c.text for c in row.cells) for row in table.rows]
    return "\n".join(lines)


def test_the_docx_opens_with_the_tables_and_figures(written: tuple) -> None:
    from docx import Document

    model, one, _, _ = written
    doc = Document(str(one / "report.docx"))
    headers = [tuple(c.text for c in t.rows[0].cells) for t in doc.tables]
    assert model.studies.columns in headers and model.cases.columns in headers
    clinical = next(o for o in model.outcomes if o.name == "clinical_response")
    assert clinical.sensitivity is not None
    found = next(
        t
        for t in doc.tables
        if tuple(c.text for c in t.rows[0].cells) == clinical.sensitivity.columns
    )
    assert [tuple(c.text for c in r.cells) for r in found.rows[1:]] == list(
        clinical.sensitivity.rows
    )
    assert len(doc.inline_shapes) == 7
    assert doc.core_properties.title == model.title


def test_an_appraised_review_shows_the_summary_tables_and_plots(tmp_path: Path) -> None:
    folder = appraised_review(tmp_path / "review")
    with Review.open(folder) as review:
        paths = write_report(review, tmp_path / "out", run_date=FIRST)
        model = build_report(review, run_date=FIRST)
    names = {p.name for p in paths}
    for tool in ("jbi-case-series", "jbi-case-report"):
        assert {f"appraisal-{tool}-traffic-light.svg", f"appraisal-{tool}.csv"} <= names
    assert model.appraisal_note == ""
    report_tool = next(t for t in model.appraisal_tables if t.name == "appraisal-jbi-case-report")
    assert [(r[0], r[-1]) for r in report_tool.rows] == [
        ("Daoussis 2012", "7/8"),
        ("Poormoghim 2016", "4/8"),
    ]
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 7 + 4  # two plots per tool
    assert "Not appraised" not in page


def screened(folder: Path) -> Path:
    """Four made-up papers screened by two reviewers, one conflict resolved at title and
    abstract, both stages unblinded."""
    clusters = ready_review(folder, 4)
    with Review.open(folder) as review:
        s = review.screening
        for cluster, ann, bob in zip(
            clusters,
            ("include", "exclude", "include", "include"),
            ("include", "exclude", "exclude", "include"),
            strict=True,
        ):
            s.decide(cluster, stage="ta", reviewer="ann", decision=ann)
            s.decide(cluster, stage="ta", reviewer="bob", decision=bob)
        s.unblind("ta", by="ann")
        s.resolve(clusters[2], stage="ta", decision="include", by="ann")
        for cluster in (clusters[0], clusters[2], clusters[3]):
            s.retrieved(cluster)
        for reviewer in ("ann", "bob"):
            s.decide(clusters[0], stage="ft", reviewer=reviewer, decision="include")
            s.decide(clusters[3], stage="ft", reviewer=reviewer, decision="include")
            s.decide(
                clusters[2], stage="ft", reviewer=reviewer, decision="exclude", reason="no-rtx"
            )
        s.unblind("ft", by="ann")
    return folder


def test_a_screened_review_shows_its_flow_and_the_reviewers_agreement(tmp_path: Path) -> None:
    folder = screened(extracted_review(tmp_path / "review"))
    with Review.open(folder) as review:
        model = build_report(review, run_date=FIRST)
        write_report(review, tmp_path / "out", run_date=FIRST)
    assert model.prisma is not None
    assert (model.prisma.records_screened, model.prisma.records_excluded) == (4, 1)
    assert [r.n for r in model.prisma.dbr_excluded] == [1]
    ta = next(t for t in model.agreement if t.name == "agreement-ta")
    assert [row[:3] for row in ta.rows] == [("ann and bob", "4", "75.0%")]
    assert model.agreement_note == ""
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Records screened (n = 4)" in page
    assert "Screening agreement at title/abstract" in page


def test_the_provenance_names_each_input_file_with_its_sha256(tmp_path: Path) -> None:
    import hashlib

    folder = extracted_review(tmp_path / "review")
    cases = PROTOCOLS / "rtx-ssc-calcinosis.cases.csv"
    with Review.open(folder) as review:
        write_report(review, tmp_path / "out", run_date=FIRST, inputs=[cases])
    provenance = (tmp_path / "out" / "provenance.csv").read_text(encoding="utf-8")
    digest = hashlib.sha256(cases.read_bytes()).hexdigest()
    assert f"Input rtx-ssc-calcinosis.cases.csv sha256,{digest}" in provenance
    assert provenance.splitlines()[1] == f"Run date,{FIRST}"


def test_a_loaded_search_file_is_logged_by_name_and_its_sha256(tmp_path: Path) -> None:
    import hashlib

    folder = extracted_review(tmp_path / "review")
    source = Path(__file__).resolve().parents[2] / "data" / "pubmed" / "pubmed1.xml"
    with Review.open(folder) as review:
        review.load_search_file(source)
        model = build_report(review, run_date=FIRST)
    [log] = model.search_log
    items = dict(log.rows)
    assert items["file"] == "pubmed1.xml"
    assert items["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert ("Input pubmed1.xml sha256", items["sha256"]) in model.provenance.rows
    assert model.notices[1] == (
        "Completeness: the records come from 1 saved search file; no live PubMed search was run."
    )


def test_an_amended_protocol_shows_each_amendment_and_its_diff(tmp_path: Path) -> None:
    folder = extracted_review(tmp_path / "review")
    path = folder / "protocol.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("blind = true", "blind = false"))
    with Review.open(folder) as review:
        model = build_report(review, run_date=FIRST)
        write_report(review, tmp_path / "out", run_date=FIRST)
    assert [row[:2] for row in model.amendments.rows] == [("1", "original"), ("2", "amendment")]
    [(title, diff)] = model.amendment_diffs
    assert title.startswith("Amendment 2 (")
    assert "-blind = true\n+blind = false" in diff
    assert not any(n.startswith("Screening still blind") for n in model.notices)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "+blind = false" in page
    assert f"{model.amendments.rows[1][4]}" in model.provenance.rows[1][1]


def test_a_review_with_nothing_extracted_says_so_and_still_writes_every_file(
    tmp_path: Path,
) -> None:
    Review.create(tmp_path / "review", PROTOCOLS / "rtx-ssc-calcinosis.toml")
    with Review.open(tmp_path / "review") as review:
        paths = write_report(review, tmp_path / "out", run_date=FIRST)
    names = {p.name for p in paths}
    assert {"report.html", "report.md", "report.docx", "results.json", "prisma.svg"} <= names
    assert not any(n.startswith("forest-") for n in names)
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    reason = "no studies to pool: give at least one study's events and total"
    assert [(o["outcome"], o["error"]) for o in results["outcomes"]] == [
        ("clinical_response", reason),
        ("radiological_response", reason),
        ("adverse_events", reason),
    ]
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    from html import escape

    assert page.count(escape(f"not pooled: {reason}")) == 3 and page.count("<svg") == 1
