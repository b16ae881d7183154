"""``run_review``: the whole review from its protocol to its results, stage by stage, on
the library API (what ``casepool run`` and a notebook call).

Every stage says in one line what it did. A second run over an unchanged review does no
work twice: the search file and record files already loaded, the clusters already made,
the screening decisions and extraction values already recorded are left as they are.
Every bundled input is read and checked before the store is touched, so a damaged file
stops the run with the stage and the file named and the review as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from review.clock import Clock, utc_now
from review.errors import ReviewError
from review.run.bundle import Bundle

if TYPE_CHECKING:
    from meta.progress import Progress as Bars
    from review.analysis import PlanResult
    from review.api import Review
    from review.protocol.model import Protocol
    from review.report.changes import RunDelta
    from review.run.screening_file import Step

STAGES = (
    "review",
    "search",
    "sources",
    "dedup",
    "screening",
    "extraction",
    "appraisal",
    "pool",
    "report",
)
EXTRACTOR = "bundle"
"""The extractor recorded for the bundled extraction files."""


class RunError(ReviewError):
    """A stage of the run failed; the message names the stage and the file."""

    def __init__(self, stage: str, problem: str, path: Path | None = None) -> None:
        self.stage = stage
        self.path = path
        where = f" on {path}" if path is not None else ""
        super().__init__(f"the {stage} stage stopped{where}: {problem}")


@dataclass
class RunSummary:
    """What a run did: one line per stage, the files written and how long it took."""

    review_dir: Path
    out_dir: Path
    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    plans: list[PlanResult] = field(default_factory=list)
    seconds: float = 0.0


Progress = Callable[[str], None]


def run_review(
    protocol_path: Path | str,
    out_dir: Path | str,
    *,
    review_dir: Path | str | None = None,
    live: bool = False,
    email: str | None = None,
    progress: Progress | None = None,
    bars: Bars | None = None,
    clock: Clock = utc_now,
) -> RunSummary:
    """Run every stage on the protocol's bundled inputs and write the results to
    ``out_dir`` (the review itself in ``review_dir``, default ``out_dir/review``). With
    ``live`` the search is PubMed's E-utilities; without, the network is never used.
    ``progress`` hears each stage's line, ``bars`` the steps of a long stage (the live
    search, dedup, pooling, the figures); ``clock`` gives the time of every event
    recorded and the report's run date."""
    from review.report.changes import RunDelta

    started = time.monotonic()
    protocol = Path(protocol_path)
    out = Path(out_dir)
    folder = Path(review_dir) if review_dir is not None else out / "review"
    summary = RunSummary(folder, out)

    def say(stage: str, line: str) -> None:
        text = f"{stage}: {line}"
        summary.lines.append(text)
        if progress is not None:
            progress(text)

    if not protocol.is_file():
        raise RunError("review", "the protocol file does not exist", protocol)
    bundle = Bundle.of(protocol)
    steps = _check_inputs(bundle, live)
    review, created = _review_stage(bundle, folder, out, clock, say)
    try:
        before = set(review.clusters().cluster_of)
        previous = _previous_search(review)
        new = _search_stage(review, bundle, live, email, say, bars)
        new += _sources_stage(review, bundle, say)
        _dedup_stage(review, new, say, bars)
        _screening_stage(review, bundle, steps, say)
        _extraction_stage(review, bundle, say)
        _appraisal_stage(review, bundle, say)
        summary.plans = _pool_stage(review, say, bars)
        added = tuple(sorted(set(review.clusters().cluster_of) - before))
        delta = RunDelta(added, first_run=created or not before, previous=previous)
        inputs = [f for f in bundle.files()[1:] if not (live and f == bundle.pubmed)]
        summary.files += _report_stage(review, inputs, summary.lines, out, delta, say, bars)
    finally:
        review.close()
    summary.seconds = time.monotonic() - started
    return summary


# --- checking the inputs before any write ---------------------------------------------


def _check_inputs(bundle: Bundle, live: bool) -> list[Step]:
    """Read every bundled input as its stage will (no store, no network)."""
    from review.protocol.loading import load_protocol
    from review.pubmed.pubmed_xml import iter_pubmed_file
    from review.run.screening_file import read_steps
    from review.sources.importing import parse_bytes

    try:
        protocol = load_protocol(bundle.protocol)
    except ReviewError as exc:
        raise RunError("review", str(exc), bundle.protocol) from None
    if bundle.pubmed is not None and not live:
        try:
            for _ in iter_pubmed_file(bundle.pubmed):
                pass
        except (ReviewError, OSError) as exc:
            raise RunError("search", str(exc), bundle.pubmed) from None
    for source, path in bundle.sources:
        try:
            parsed = parse_bytes(path.read_bytes(), path.name, source=source)
        except (ReviewError, OSError) as exc:
            raise RunError("sources", str(exc), path) from None
        if parsed.rejects:
            raise RunError("sources", f"{len(parsed.rejects)} records cannot be read", path)
    _check_extraction(bundle, protocol)
    steps: list[Step] = []
    if bundle.screening is not None:
        try:
            steps = read_steps(bundle.screening)
        except ReviewError as exc:
            raise RunError("screening", str(exc), bundle.screening) from None
    return steps


def _check_extraction(bundle: Bundle, protocol: Protocol) -> None:
    """Read the extraction and appraisal files and check every value against the forms."""
    from review.extract.appraisal_files import read_appraisal_rows
    from review.extract.files import read_rows
    from review.extract.sheets import entered_rows
    from review.extract.workflow import forms_of, value_problems

    for path in bundle.extraction:
        try:
            _form, rows = read_rows(path, forms_of(protocol))
        except (ReviewError, OSError) as exc:
            raise RunError("extraction", str(exc), path) from None
        problems = value_problems(protocol, entered_rows(rows))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RunError("extraction", f"{problems[0]}{more}", path)
    if bundle.appraisal is not None:
        try:
            read_appraisal_rows(bundle.appraisal)
        except (ReviewError, OSError) as exc:
            raise RunError("appraisal", str(exc), bundle.appraisal) from None


# --- the stages ---------------------------------------------------------------------


def _shown(folder: Path, out: Path) -> str:
    """The review folder as the run log names it: within the output folder, relatively
    (so the same run elsewhere logs the same line)."""
    try:
        return f"the review folder {folder.relative_to(out).as_posix()}/ in the output folder"
    except ValueError:
        return f"the review folder {folder}"


def _review_stage(
    bundle: Bundle, folder: Path, out: Path, clock: Clock, say: Callable[[str, str], None]
) -> tuple[Review, bool]:
    """The review, opened (made first if missing); whether it was made now."""
    from review.api import Review

    try:
        made = Review.create(folder, bundle.protocol, clock=clock)
        review = Review.open(folder, clock=clock)
    except ReviewError as exc:
        raise RunError("review", str(exc), bundle.protocol) from None
    shown = _shown(folder, out)
    if made.created:
        line = f"created {shown} from {bundle.protocol.name}"
    elif made.amended:
        line = f"recorded {bundle.protocol.name} as amendment {made.version.number}"
    else:
        line = f"{shown} is up to date with {bundle.protocol.name}"
    say("review", line)
    return review, made.created


def _previous_search(review: Review) -> str | None:
    """The search the review holds before this run, as the report names it."""
    log = review.search_log()
    if not log:
        return None
    last = log[-1]
    what = f"the saved file {last.file_name}" if last.mode == "file" else "PubMed, searched live"
    return f"search {last.load_id} ({last.started_at}, {what})"


def _search_stage(
    review: Review,
    bundle: Bundle,
    live: bool,
    email: str | None,
    say: Callable[[str, str], None],
    bars: Bars | None,
) -> int:
    """Load the snapshot (once) or run the live search; the records it added."""
    from review.wording import count

    if live:
        try:
            done = review.search(email=email, progress=bars)
        except ReviewError as exc:
            raise RunError("search", str(exc)) from None
        log = done.log
        say("search", f"PubMed: {log.identified} found, {count(log.records_new, 'new record')}")
        return log.records_new
    if bundle.pubmed is None:
        say("search", "no bundled PubMed snapshot; nothing to load (--live runs the search)")
        return 0
    import hashlib

    digest = hashlib.sha256(bundle.pubmed.read_bytes()).hexdigest()
    for entry in review.search_log():
        if entry.mode == "file" and entry.sha256 == digest and entry.status == "complete":
            say(
                "search",
                f"{bundle.pubmed.name} already loaded ({count(entry.records_read, 'record')})",
            )
            return 0
    try:
        done = review.load_search_file(bundle.pubmed)
    except ReviewError as exc:
        raise RunError("search", str(exc), bundle.pubmed) from None
    log = done.log
    say(
        "search",
        f"loaded {bundle.pubmed.name} as the PubMed search: "
        f"{count(log.records_read, 'record')}, {log.records_new} new",
    )
    return log.records_new


def _sources_stage(review: Review, bundle: Bundle, say: Callable[[str, str], None]) -> int:
    from review.wording import count

    new = 0
    parts = []
    for source, path in bundle.sources:
        try:
            done = review.import_file(path, source=source)
        except ReviewError as exc:
            raise RunError("sources", str(exc), path) from None
        new += 0 if done.already_imported else done.n_new
        state = "already imported" if done.already_imported else f"{done.n_new} new"
        parts.append(f"{source} {count(done.n_read, 'record')} ({state})")
    say("sources", "; ".join(parts) if parts else "no other sources bundled")
    return new


def _dedup_stage(
    review: Review, new: int, say: Callable[[str, str], None], bars: Bars | None
) -> None:
    counts = review.dedup_counts()
    if new == 0 and counts.records_after_dedup > 0:
        say("dedup", f"no new records; {_dedup_text(counts)} as before")
        return
    try:
        counts = review.dedup(progress=bars)
    except ReviewError as exc:
        raise RunError("dedup", str(exc)) from None
    say("dedup", _dedup_text(counts))


def _dedup_text(counts: object) -> str:
    from review.prisma.counts import DedupCounts

    assert isinstance(counts, DedupCounts)
    return (
        f"{counts.records_identified} records, {counts.duplicates_removed} duplicates linked, "
        f"{counts.records_after_dedup} to screen, {counts.pairs_queued} pairs for a person"
    )


def _screening_stage(
    review: Review, bundle: Bundle, steps: list[Step], say: Callable[[str, str], None]
) -> None:
    from review.run.screening_file import apply_steps

    if bundle.screening is None:
        say("screening", "no bundled screening decisions")
        return
    try:
        applied = apply_steps(review, steps, bundle.screening)
    except ReviewError as exc:
        raise RunError("screening", str(exc), bundle.screening) from None
    flow, blind = review.screening.flow()
    conflicts = ", ".join(f"{n} at {s}" for s, n in sorted(applied.conflicts.items()))
    line = (
        f"{applied.recorded} steps recorded, {applied.already} already in the review"
        + (f" (conflicts resolved: {conflicts})" if conflicts else "")
        + f"; {flow.new_studies} studies ({flow.new_reports} reports) included"
    )
    if blind:
        line += f"; still blind: {', '.join(blind)}"
    say("screening", line)


def _extraction_stage(review: Review, bundle: Bundle, say: Callable[[str, str], None]) -> None:
    from review.wording import count

    parts = []
    studies = next((p for p in bundle.extraction if p.name.endswith(".studies.csv")), None)
    if studies is not None:
        try:
            linked = _register_studies(review, studies)
        except ReviewError as exc:
            raise RunError("extraction", str(exc), studies) from None
        if linked:
            parts.append(f"{count(linked, 'study', 'studies')} registered with their reports")
    for path in bundle.extraction:
        try:
            _form, done = review.extraction.import_file(
                path, extractor=EXTRACTOR, add_studies=path.name.endswith(".studies.csv")
            )
        except ReviewError as exc:
            raise RunError("extraction", str(exc), path) from None
        parts.append(f"{path.name} {done.written} values new, {done.unchanged} unchanged")
    say("extraction", "; ".join(parts) if parts else "no bundled extraction")


def _register_studies(review: Review, path: Path) -> int:
    """Register each study of the studies file whose DOI is a record of the review, with
    that record's cluster (so the study is the report screening included); the others the
    import registers without one. Studies already registered are left alone."""
    import csv

    from review.run.screening_file import clusters_by_doi

    clusters = clusters_by_doi(review)
    known = {s.label.casefold() for s in review.extraction.studies()}
    added = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            label = (row.get("study") or "").strip()
            cluster = clusters.get((row.get("doi") or "").strip().lower())
            if label and cluster is not None and label.casefold() not in known:
                review.extraction.add_study(label, cluster=cluster)
                known.add(label.casefold())
                added += 1
    return added


def _appraisal_stage(review: Review, bundle: Bundle, say: Callable[[str, str], None]) -> None:
    """The bundled appraisal answers, recorded once (a second run finds them unchanged)."""
    from review.wording import count

    if bundle.appraisal is None:
        say("appraisal", "no bundled appraisal; appraise with casepool appraise")
        return
    try:
        done = review.appraisal.import_file(bundle.appraisal, appraiser=EXTRACTOR)
    except ReviewError as exc:
        raise RunError("appraisal", str(exc), bundle.appraisal) from None
    say(
        "appraisal",
        f"{bundle.appraisal.name} {count(done.studies, 'study', 'studies')}: "
        f"{done.written} answers new, {done.unchanged} unchanged",
    )


def _pool_stage(
    review: Review, say: Callable[[str, str], None], bars: Bars | None
) -> list[PlanResult]:
    from meta.errors import MetaError
    from meta.progress import silent
    from review.wording import count

    plans = []
    outcomes = review.protocol.analysis.outcomes
    tell = bars or silent
    for done, outcome in enumerate(outcomes):
        tell("pooling the analysis plan", done, len(outcomes), "outcomes")
        try:
            counts = review.extraction.study_counts(outcome)
            plan = review.pool_plan(
                counts, outcome=outcome, study_fields=_study_fields(review, counts.studies)
            )
        except (ReviewError, MetaError) as exc:
            raise RunError("pool", f"{outcome}: {exc}") from None
        p = plan.primary
        say(
            "pool",
            f"{outcome}: {p.events}/{p.total} in {count(p.k, 'study', 'studies')}, "
            f"{p.method} {p.estimate:.1%} "
            f"({p.ci_lower:.1%} to {p.ci_upper:.1%}); "
            f"{len(plan.sensitivity.rows)} sensitivity rows",
        )
        plans.append(plan)
    tell("pooling the analysis plan", len(outcomes), len(outcomes), "outcomes")
    return plans


def _study_fields(review: Review, studies: tuple[str, ...]) -> dict[str, list[str | None]]:
    """Each subgroup variable's study-form value for each study, in the order given."""
    by_label = {s.label: s for s in review.extraction.studies()}
    fields: dict[str, list[str | None]] = {}
    for variable in review.protocol.analysis.subgroups:
        values: list[str | None] = []
        for label in studies:
            study = by_label.get(label)
            entered = (
                review.extraction.row_values(study, form="study", row="", extractor=EXTRACTOR)
                if study is not None
                else {}
            )
            event = entered.get(variable)
            values.append(None if event is None else event.value)
        fields[variable] = values
    return fields


def _report_stage(
    review: Review,
    inputs: list[Path],
    lines: list[str],
    out: Path,
    delta: RunDelta,
    say: Callable[[str, str], None],
    bars: Bars | None,
) -> list[Path]:
    """The report (``review.report``): report.html, .md, .docx, results.json (every outcome
    as ``casepool pool --json`` gives it), its CSV tables and its pictures (forest plots,
    sensitivity forests, the PRISMA diagram); the run's lines so far are its run log."""
    from review.report import write_report

    try:
        written = write_report(
            review,
            out,
            run_log=list(lines),
            inputs=inputs,
            delta=delta,
            progress=bars,
        )
    except ReviewError as exc:
        raise RunError("report", str(exc)) from None
    say(
        "report",
        f"report.html, report.md, report.docx, results.json and "
        f"{len(written) - 4} tables and pictures",
    )
    return written
