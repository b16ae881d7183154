"""``review.run.run_review`` end to end on the bundled worked example (FACTS.md)."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from review.run import RunError, run_review
from tests.support.stores import store_snapshot

ROOT = Path(__file__).resolve().parents[3]
PROTOCOL = ROOT / "protocols" / "rtx-ssc-calcinosis.toml"
GLMM = json.loads((ROOT / "tests" / "reference" / "glmm_reference.json").read_text())
TOLERANCE = 1e-4  # metafor's rma.glmm against our GLMM, on the logit scale


def reference(name: str) -> dict[str, object]:
    return next(c for c in GLMM["glmm_cases"] if c["name"] == name)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the bundled example (SQLite), its output folder."""
    out = tmp_path_factory.mktemp("run") / "example-report"
    run_review(PROTOCOL, out)
    return out


def outcomes(out: Path) -> dict[str, dict[str, object]]:
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {o["outcome"]: o for o in data["outcomes"]}


def study(outcome: dict[str, object], label: str) -> dict[str, object]:
    primary = outcome["primary"]
    assert isinstance(primary, dict)
    return next(s for s in primary["studies"] if s["study"] == label)


def test_the_index_series_alone_gives_the_facts_counts_with_clopper_pearson_intervals(
    example: Path,
) -> None:
    from scipy.stats import beta

    found = outcomes(example)
    for name, events in (
        ("clinical_response", 4),
        ("radiological_response", 2),
        ("adverse_events", 1),
    ):
        row = study(found[name], "Narváez 2019")
        assert (row["events"], row["total"]) == (events, 8)
        assert row["proportion"] == pytest.approx(events / 8)
        assert row["ci_lower"] == pytest.approx(beta.ppf(0.025, events, 9 - events))
        assert row["ci_upper"] == pytest.approx(beta.ppf(0.975, events + 1, 8 - events))


@pytest.mark.parametrize(
    ("outcome", "case", "events"),
    [("clinical_response", "rtx_clinical", 5), ("radiological_response", "rtx_radiological", 3)],
)
def test_the_pooled_responses_agree_with_metafor_rma_glmm(
    example: Path, outcome: str, case: str, events: int
) -> None:
    """FACTS.md: 4/8, 1/1, 0/1 (5 of 10) and 2/8, 1/1, 0/1 (3 of 10); metafor's
    rma.glmm(measure = "PLO") on the same counts, tests/reference/glmm_reference.R."""
    primary = outcomes(example)[outcome]["primary"]
    expected = reference(case)
    assert [(s["events"], s["total"]) for s in primary["studies"]] == list(
        zip(expected["events"], expected["totals"], strict=True)
    )
    assert (primary["events"], primary["total"], primary["k"]) == (events, 10, 3)
    assert primary["method"] == "GLMM" and primary["measure"] == "PLO"
    assert primary["estimate_transformed"] == pytest.approx(expected["mu"], abs=TOLERANCE)
    assert primary["se"] == pytest.approx(expected["se"], abs=TOLERANCE)
    assert primary["tau2"] == pytest.approx(expected["tau2"], abs=TOLERANCE)


def test_results_json_holds_every_outcome_of_the_plan_with_its_sensitivity_analyses(
    example: Path,
) -> None:
    found = outcomes(example)
    assert list(found) == ["clinical_response", "radiological_response", "adverse_events"]
    labels = [r["label"] for r in found["clinical_response"]["sensitivity"]["rows"]]
    assert "Published cases only (without the local series)" in labels
    assert "Without single-case reports (n = 1)" in labels


def test_the_run_ends_with_the_report_its_figures_and_tables(example: Path) -> None:
    names = {p.name for p in example.iterdir()}
    assert {"report.html", "report.md", "report.docx", "results.json", "prisma.svg"} <= names
    for outcome in ("clinical_response", "radiological_response", "adverse_events"):
        assert {f"forest-{outcome}.svg", f"sensitivity-{outcome}.svg"} <= names
        assert {f"pooled-{outcome}.csv", f"sensitivity-{outcome}.csv"} <= names
    html = (example / "report.html").read_text(encoding="utf-8")
    assert "search: loaded rtx-ssc-calcinosis.pubmed.xml as the PubMed search" in html


def test_prisma_counts_the_local_series_as_other_methods_already_found(example: Path) -> None:
    from review.api import Review

    with Review.open(example / "review") as review:
        flow, blind = review.screening.flow()
    assert blind == ()
    assert {s.name: (s.kind, s.n) for s in flow.sources} == {
        "pubmed": ("database", 5),
        "embase": ("database", 4),
        "local-series": ("local", 1),
    }
    assert (flow.duplicates, flow.records_screened, flow.records_excluded) == (3, 6, 0)
    assert flow.other_removed == 1  # the series is the published Narváez 2019: found by PubMed
    assert (flow.dbr_assessed, flow.new_studies, flow.new_reports) == (6, 3, 3)
    assert [(r.code, r.n) for r in flow.dbr_excluded] == [
        ("review-no-new-patients", 1),  # Traineau 2020
        ("rtx-unknown", 2),  # Achieng 2024, Srikantharajah 2022
    ]


def test_the_screening_file_has_a_conflict_at_each_stage_and_its_resolution(
    example: Path,
) -> None:
    from review.api import Review

    with Review.open(example / "review") as review:
        agreement = review.screening.agreement("ta")
        achieng = next(
            c for c in review.clusters().groups() if review.cluster(c).pmid == "38420189"
        )
        state = review.screening.state(achieng, stage="ft")
    (pair,) = agreement.pairs
    assert (pair.raters, pair.n) == (("reviewer-1", "reviewer-2"), 6)
    assert pair.observed == pytest.approx(4 / 6)  # Traineau and Srikantharajah disagree
    assert [(v.person, v.decision) for v in state.votes] == [
        ("reviewer-1", "include"),
        ("reviewer-2", "exclude"),
    ]
    assert [(r.decision, r.reason) for r in state.resolutions] == [("exclude", "rtx-unknown")]


def test_a_second_run_over_an_unchanged_review_writes_nothing(
    review_dir: Path, tmp_path: Path
) -> None:
    """On both stores: the review folder exists already (as after ``casepool init``)."""
    first = run_review(PROTOCOL, tmp_path / "out", review_dir=review_dir)
    before = store_snapshot(review_dir)
    second = run_review(PROTOCOL, tmp_path / "out", review_dir=review_dir)
    assert store_snapshot(review_dir) == before
    lines = {line.split(":", 1)[0]: line for line in second.lines}
    assert lines["search"] == "search: rtx-ssc-calcinosis.pubmed.xml already loaded (5 records)"
    assert lines["sources"] == (
        "sources: embase 4 records (already imported); local-series 1 record (already imported)"
    )
    assert lines["dedup"].startswith("dedup: no new records; ")
    assert lines["screening"].startswith("screening: 0 steps recorded, 35 already in the review")
    assert "35 steps recorded, 0 already" in first.lines[4]


def test_two_runs_write_byte_identical_outputs(tmp_path: Path) -> None:
    """The run's date is the only difference between two runs: with the same clock, none."""

    def clock() -> str:
        return "2026-12-02T09:00:00Z"

    one = run_review(PROTOCOL, tmp_path / "one", clock=clock)
    two = run_review(PROTOCOL, tmp_path / "two", clock=clock)
    names = [p.relative_to(one.out_dir) for p in one.files]
    assert names == [p.relative_to(two.out_dir) for p in two.files]
    assert len(names) == 35
    for name in names:
        assert (one.out_dir / name).read_bytes() == (two.out_dir / name).read_bytes(), name
    assert one.seconds < 30


def test_runs_on_other_days_differ_only_in_the_run_date(tmp_path: Path) -> None:
    """Every byte of every output, the DOCX's parts too, is the same once the run's date
    and time (the clock that stamps the run and its events) is read as one placeholder."""
    import zipfile

    days = {"one": "2026-12-02T09:00:00Z", "two": "2027-03-15T17:42:13Z"}
    runs = {n: run_review(PROTOCOL, tmp_path / n, clock=lambda d=d: d) for n, d in days.items()}

    def contents(name: str, path: Path) -> dict[str, bytes]:
        data = path.read_bytes()
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as docx:
                parts = {part: docx.read(part) for part in docx.namelist()}
        else:
            parts = {"": data}
        return {k: v.replace(days[name].encode(), b"RUN-DATE") for k, v in parts.items()}

    names = [p.relative_to(runs["one"].out_dir) for p in runs["one"].files]
    for name in names:
        first = contents("one", runs["one"].out_dir / name)
        assert first == contents("two", runs["two"].out_dir / name), name
    report = (runs["two"].out_dir / "report.md").read_text(encoding="utf-8")
    assert "Report generated 2027-03-15T17:42:13Z." in report


def test_long_stages_report_their_steps_for_progress_bars(tmp_path: Path) -> None:
    steps: list[tuple[str, int, int | None, str]] = []

    def bars(phase: str, done: int, total: int | None, unit: str = "records") -> None:
        steps.append((phase, done, total, unit))

    summary = run_review(PROTOCOL, tmp_path / "out", bars=bars)
    pooled = [s for s in steps if s[0] == "pooling the analysis plan"]
    assert pooled[0] == ("pooling the analysis plan", 0, 3, "outcomes")
    assert pooled[-1] == ("pooling the analysis plan", 3, 3, "outcomes")
    figures = [s for s in steps if s[0] == "drawing the report's figures"]
    svgs = [p for p in summary.files if p.suffix == ".svg"]
    assert [s[1] for s in figures] == list(range(len(svgs) + 1))
    assert {s[2] for s in figures} == {len(svgs)}
    assert {s[0] for s in steps} >= {"reading records", "comparing candidate pairs"}  # dedup


def test_the_run_never_touches_the_network_without_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    summary = run_review(PROTOCOL, tmp_path / "out")
    assert len(summary.plans) == 3


def copy_bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "protocols"
    shutil.copytree(PROTOCOL.parent, folder)
    return folder / PROTOCOL.name


def test_a_damaged_snapshot_names_the_stage_and_the_file_and_leaves_the_review_as_it_was(
    tmp_path: Path,
) -> None:
    protocol = copy_bundle(tmp_path)
    run_review(protocol, tmp_path / "out")
    snapshot = protocol.with_name("rtx-ssc-calcinosis.pubmed.xml")
    text = snapshot.read_text(encoding="utf-8")
    snapshot.write_text(text.replace("</ArticleTitle>", "</Title>", 1), encoding="utf-8")
    before = store_snapshot(tmp_path / "out" / "review")
    with pytest.raises(RunError) as caught:
        run_review(protocol, tmp_path / "out")
    assert str(caught.value).startswith(f"the search stage stopped on {snapshot}: ")
    assert "rtx-ssc-calcinosis.pubmed.xml, line 9" in str(caught.value)
    assert caught.value.stage == "search" and caught.value.path == snapshot
    assert store_snapshot(tmp_path / "out" / "review") == before


def test_a_screening_row_naming_an_unknown_action_is_refused_before_any_write(
    tmp_path: Path,
) -> None:
    protocol = copy_bundle(tmp_path)
    sheet = protocol.with_name("rtx-ssc-calcinosis.screening.csv")
    lines = sheet.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",decide,", ",approve,")
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RunError) as caught:
        run_review(protocol, tmp_path / "out")
    assert str(caught.value) == (
        f"the screening stage stopped on {sheet}: {sheet}, line 4: action 'approve' is not "
        "one of decide, unblind, resolve, retrieved"
    )
    assert not (tmp_path / "out" / "review").exists()


def test_every_bundled_record_file_loads() -> None:
    from review.pubmed.pubmed_xml import iter_pubmed_file
    from review.run.bundle import Bundle

    bundle = Bundle.of(PROTOCOL)
    assert bundle.pubmed is not None
    pmids = sorted(r.pmid for r in iter_pubmed_file(bundle.pubmed))  # type: ignore[union-attr]
    assert pmids == ["22221908", "26667314", "30639647", "31302187", "38420189"]
    assert [s for s, _ in bundle.sources] == ["embase", "local-series"]


def test_each_extracted_study_is_registered_with_the_report_screening_included(
    example: Path,
) -> None:
    from review.api import Review

    with Review.open(example / "review") as review:
        pmids = {
            s.label: review.cluster(s.cluster_id).pmid
            for s in review.extraction.studies()
            if s.cluster_id
        }
    assert pmids == {
        "Narváez 2019": "30639647",
        "Daoussis 2012": "22221908",
        "Poormoghim 2016": "26667314",
    }


def test_the_bundled_appraisal_is_recorded_with_the_notes_saying_what_it_rests_on(
    example: Path,
) -> None:
    text = (example / "report.md").read_text(encoding="utf-8")
    section = text[text.index("## Appraisal\n") : text.index("## Clinical response\n")]
    assert "| Narváez 2019 | yes | yes | unclear | unclear | unclear | unclear | yes | yes |" in (
        section
    )
    assert "| Poormoghim 2016 | yes | unclear | yes | unclear | unclear | yes | unclear | " in (
        section
    )
    assert (
        "- Daoussis 2012 (bundle): Judged from the abstract and citation record only, not the "
        "full text; unclear wherever it is silent." in section
    )
    for tool in ("jbi-case-series", "jbi-case-report"):
        assert (example / f"appraisal-{tool}-traffic-light.svg").is_file()


def test_a_bad_value_in_a_bundled_case_table_stops_the_run_before_any_write(
    tmp_path: Path,
) -> None:
    protocol = copy_bundle(tmp_path)
    cases = protocol.with_name("rtx-ssc-calcinosis.cases.csv")
    text = cases.read_text(encoding="utf-8")
    cases.write_text(
        text.replace("Poormoghim 2016,1,54,", "Poormoghim 2016,1,fifty-four,"), "utf-8"
    )
    with pytest.raises(RunError) as caught:
        run_review(protocol, tmp_path / "out")
    assert str(caught.value).startswith(
        f"the extraction stage stopped on {cases}: rtx-ssc-calcinosis.cases.csv, row 3, "
        "column C (age): "
    )
    assert "'fifty-four'" in str(caught.value)
    assert not (tmp_path / "out" / "review").exists()
