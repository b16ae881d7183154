"""PRISMA flows for tests: a small worked flow, and a hypothesis strategy of flows whose
boxes follow from each other as ``review.prisma.flow`` says."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from hypothesis import strategies as st

from review.prisma.flow import PrismaFlow, ReasonCount, SourceCount

REASONS = (
    ("not-ssc", "Not systemic sclerosis"),
    ("no-calcinosis", "No calcinosis"),
    ("no-rtx", "Not treated with rituximab"),
    ("no-calcinosis-outcome", "No calcinosis outcome reported after rituximab"),
    ("review-no-new-patients", "Review or other report without new patients"),
    ("duplicate-report", "Duplicate report of patients already included"),
    ("not-human", "Not a study in humans"),
    ("full-text-unavailable", "Full text could not be obtained"),
)


def worked_flow() -> PrismaFlow:
    """A finished review: PubMed and Embase, a local series and reference lists."""
    return PrismaFlow(
        sources=(
            SourceCount("pubmed", "database", 120),
            SourceCount("embase", "database", 80),
            SourceCount("local-series", "local", 8),
            SourceCount("reference-lists", "citation-search", 5),
        ),
        duplicates=50,
        excluded_automatic=0,
        excluded_other=0,
        records_screened=150,
        records_excluded=120,
        records_awaiting=0,
        dbr_sought=30,
        dbr_not_retrieved=2,
        dbr_awaiting_retrieval=0,
        dbr_assessed=28,
        dbr_excluded=(
            ReasonCount("not-ssc", "Not systemic sclerosis", 6),
            ReasonCount("no-rtx", "Not treated with rituximab", 4),
        ),
        dbr_awaiting=0,
        dbr_included=18,
        other_removed=3,
        other_screened_out=0,
        other_awaiting_screening=0,
        other_sought=10,
        other_not_retrieved=0,
        other_awaiting_retrieval=0,
        other_assessed=10,
        other_excluded=(ReasonCount("no-calcinosis", "No calcinosis", 1),),
        other_awaiting=0,
        other_included=9,
        new_studies=25,
        new_reports=27,
    )


@st.composite
def _split(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """``parts`` non-negative numbers and the rest, summing to ``total``."""
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts, max_size=parts)))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@st.composite
def _reasons(draw: st.DrawFn, total: int) -> tuple[ReasonCount, ...]:
    chosen = draw(st.lists(st.sampled_from(REASONS), unique=True, max_size=len(REASONS)))
    if not chosen:
        return ()
    counts = draw(_split(total, len(chosen) - 1))
    return tuple(
        ReasonCount(code, label, n) for (code, label), n in zip(chosen, counts, strict=True) if n
    )


@st.composite
def flows(draw: st.DrawFn, max_records: int = 40_000) -> PrismaFlow:
    """A flow whose every box follows from the one above (awaiting counts included)."""
    kinds = st.sampled_from(
        ["database", "database", "register", "local", "citation-search", "website"]
    )
    names = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=3, max_size=14)
    raw = draw(
        st.lists(st.tuples(names, kinds, st.integers(0, max_records)), min_size=1, max_size=6,
                 unique_by=lambda t: t[0])
    )  # fmt: skip
    sources = tuple(SourceCount(name, kind, n) for name, kind, n in raw)  # type: ignore[arg-type]
    left = sum(s.n for s in sources if s.left)
    right = sum(s.n for s in sources if not s.left)
    duplicates, screened = draw(_split(left, 1))
    excluded, awaiting, sought = draw(_split(screened, 2))
    not_retrieved, awaiting_retrieval, assessed = draw(_split(sought, 2))
    excluded_ft, awaiting_ft, included = draw(_split(assessed, 2))
    removed, screened_out, awaiting_screening, other_sought = draw(_split(right, 3))
    o_not_retrieved, o_awaiting_retrieval, o_assessed = draw(_split(other_sought, 2))
    o_excluded, o_awaiting, o_included = draw(_split(o_assessed, 2))
    reports = included + o_included
    dbr_excluded = draw(_reasons(excluded_ft))
    other_excluded = draw(_reasons(o_excluded))
    # a flow without reasons has its exclusions waiting instead
    awaiting_ft += excluded_ft - sum(r.n for r in dbr_excluded)
    o_awaiting += o_excluded - sum(r.n for r in other_excluded)
    return PrismaFlow(
        sources=sources,
        duplicates=duplicates,
        excluded_automatic=0,
        excluded_other=0,
        records_screened=screened,
        records_excluded=excluded,
        records_awaiting=awaiting,
        dbr_sought=sought,
        dbr_not_retrieved=not_retrieved,
        dbr_awaiting_retrieval=awaiting_retrieval,
        dbr_assessed=assessed,
        dbr_excluded=dbr_excluded,
        dbr_awaiting=awaiting_ft,
        dbr_included=included,
        other_removed=removed,
        other_screened_out=screened_out,
        other_awaiting_screening=awaiting_screening,
        other_sought=other_sought,
        other_not_retrieved=o_not_retrieved,
        other_awaiting_retrieval=o_awaiting_retrieval,
        other_assessed=o_assessed,
        other_excluded=other_excluded,
        other_awaiting=o_awaiting,
        other_included=o_included,
        new_studies=draw(st.integers(1, reports)) if reports else 0,
        new_reports=reports,
    )


def identities_hold(flow: PrismaFlow) -> None:
    """Assert every identity between the flow's boxes (``review.prisma.flow``)."""
    f = flow
    assert (
        f.identified - f.duplicates - f.excluded_automatic - f.excluded_other == f.records_screened
    )
    assert f.records_screened - f.records_excluded - f.records_awaiting == f.dbr_sought
    assert f.dbr_sought - f.dbr_not_retrieved - f.dbr_awaiting_retrieval == f.dbr_assessed
    assert f.dbr_assessed - sum(r.n for r in f.dbr_excluded) - f.dbr_awaiting == f.dbr_included
    assert (
        f.other_identified - f.other_removed - f.other_screened_out - f.other_awaiting_screening
        == f.other_sought
    )
    assert f.other_sought - f.other_not_retrieved - f.other_awaiting_retrieval == f.other_assessed
    assert (
        f.other_assessed - sum(r.n for r in f.other_excluded) - f.other_awaiting == f.other_included
    )
    assert f.new_reports == f.dbr_included + f.other_included
    assert f.new_studies <= f.new_reports
    assert (f.new_studies == 0) == (f.new_reports == 0)
    assert all(r.n > 0 for r in f.dbr_excluded + f.other_excluded)


COUNT = re.compile(r"\(n = ([0-9,]+)\)")


def numbers(lines: Iterable[str]) -> Counter[int]:
    """Every ``(n = ...)`` number in a diagram's lines of text."""
    return Counter(int(m.replace(",", "")) for line in lines for m in COUNT.findall(line))


def expected_numbers(flow: PrismaFlow) -> Counter[int]:
    """The numbers the diagram must show, straight from the flow's fields."""
    shown = [
        flow.database_results,
        *(s.n for s in flow.databases),
        flow.register_results,
        *(s.n for s in flow.registers),
        flow.duplicates,
        flow.excluded_automatic,
        flow.excluded_other,
        flow.records_screened,
        flow.records_excluded,
        flow.dbr_sought,
        flow.dbr_not_retrieved,
        flow.dbr_assessed,
        sum(r.n for r in flow.dbr_excluded),
        *(r.n for r in flow.dbr_excluded),
        flow.new_studies,
        flow.new_reports,
    ]
    waiting = [flow.records_awaiting, flow.dbr_awaiting_retrieval, flow.dbr_awaiting]
    if flow.has_other_methods:
        kinds = {s.kind for s in flow.other_sources}
        for kind in kinds:
            shown.append(sum(s.n for s in flow.other_sources if s.kind == kind))
        shown += [s.n for s in flow.other_sources]
        shown += [
            flow.other_sought,
            flow.other_not_retrieved,
            flow.other_assessed,
            sum(r.n for r in flow.other_excluded),
            *(r.n for r in flow.other_excluded),
        ]
        waiting += [
            flow.other_removed,
            flow.other_screened_out,
            flow.other_awaiting_screening,
            flow.other_awaiting_retrieval,
            flow.other_awaiting,
        ]
    return Counter(shown + [n for n in waiting if n])


def screen_at_random(review_dir: Path, seed: int, n: int) -> None:
    """Fill a new review with ``n`` PubMed papers, some of them found again in Embase, the
    local series and the reference lists (and up to three found only there), then screen them as a
    team would, at random: two reviewers decide (or not yet) at title/abstract, the lead
    unblinds and resolves some conflicts; full texts are found, not found or not yet
    looked for; full-text decisions with the protocol's reasons; some reports linked to
    others as one study."""
    import random

    from screening import paper
    from stores import add_records

    from review.api import Review

    rng = random.Random(seed)
    add_records(review_dir, "pubmed", [paper(i) for i in range(1, n + 1)])
    embase = [paper(i, source="embase") for i in range(1, n + 1) if rng.random() < 0.25]
    add_records(review_dir, "embase", embase, file_name="embase.ris")
    local = [paper(i, source="local-series") for i in range(1, n + 1) if rng.random() < 0.2]
    local.append(paper(n + 1, source="local-series"))
    add_records(review_dir, "local-series", local, file_name="local.csv")
    cited = [paper(i, source="reference-lists") for i in range(1, n + 3) if rng.random() < 0.15]
    add_records(review_dir, "reference-lists", cited, file_name="cited.ris")
    codes = [code for code, _ in REASONS]
    with Review.open(review_dir) as review:
        review.dedup()
        clusters = sorted(set(review.clusters().cluster_of.values()))
        screening = review.screening
        for stage in ("ta", "ft"):
            if stage == "ft":
                candidates = [
                    c for c in clusters if screening.state(c, stage="ta").outcome() == "advanced"
                ]
                missing = set()
                for cluster in candidates:
                    found = rng.random()
                    if found < 0.15:
                        screening.not_retrieved(cluster, why="not in any library")
                        missing.add(cluster)
                    elif found < 0.85:
                        screening.retrieved(cluster)
                candidates = [c for c in candidates if c not in missing]
            else:
                candidates = clusters
            for cluster in candidates:
                truth = rng.choice(["include", "exclude"])
                for reviewer in ("ana", "ben"):
                    if rng.random() < 0.85:
                        agrees = rng.random() < 0.75
                        decision = truth if agrees else rng.choice(["include", "exclude", "maybe"])
                        reason = rng.choice(codes[:-1]) if decision == "exclude" else None
                        screening.decide(
                            cluster,
                            stage=stage,  # type: ignore[arg-type]
                            reviewer=reviewer,
                            decision=decision,  # type: ignore[arg-type]
                            reason=reason if stage == "ft" else None,
                        )
            screening.unblind(stage, by="lead")  # type: ignore[arg-type]
            for state in screening.conflicts(stage):  # type: ignore[arg-type]
                if rng.random() < 0.7:
                    decision = rng.choice(["include", "exclude"])
                    screening.resolve(
                        state.cluster_id,
                        stage=stage,  # type: ignore[arg-type]
                        decision=decision,  # type: ignore[arg-type]
                        by="lead",
                        reason=rng.choice(codes[:-1])
                        if stage == "ft" and decision == "exclude"
                        else None,
                    )
        included = [c for c in clusters if screening.state(c, stage="ft").outcome() == "included"]
        for cluster in included[1:]:
            if rng.random() < 0.3:
                screening.link(cluster, study=included[0])
