"""The sentences the report words from the data: the notices at its top (worked example,
completeness, screening in progress or blind), the methods paragraph generated from the
options the protocol's analysis plan actually uses, with references, and the limitations
(selection for success, n = 1 studies, 0% and 100% studies, few studies)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from meta.summary import level_percent

if TYPE_CHECKING:
    from extraction.derive import StudyCount
    from review.api import Review
    from review.prisma.flow import PrismaFlow
    from review.report.model import OutcomeSection

REFERENCES = {
    "glmm": (
        "Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome in the "
        "framework of the generalized linear mixed model with applications in sparse data. "
        "Stat Med. 2010;29(29):3046-3067."
    ),
    "cp": (
        "Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the "
        "case of the binomial. Biometrika. 1934;26(4):404-413."
    ),
    "prisma": (
        "Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated "
        "guideline for reporting systematic reviews. BMJ. 2021;372:n71."
    ),
    "qprofile": (
        "Viechtbauer W. Confidence intervals for the amount of heterogeneity in "
        "meta-analysis. Stat Med. 2007;26(1):37-52."
    ),
    "knha": (
        "Hartung J, Knapp G. A refined method for the meta-analysis of controlled clinical "
        "trials with binary outcome. Stat Med. 2001;20(24):3875-3889."
    ),
    "dl": (
        "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials. "
        "1986;7(3):177-188."
    ),
}


def notices(
    bundled: bool,
    search: Sequence[Any],
    flow: PrismaFlow | None,
    blind: Sequence[str],
    unfinished: Sequence[str],
) -> tuple[str, ...]:
    out = []
    if bundled:
        out.append(
            "This is the bundled worked example: it shows every stage of a review on a few "
            "records and is not a complete evidence synthesis. Run with --live to complete "
            "the search in PubMed."
        )
    live = [e for e in search if e.mode == "eutils"]
    if not search:
        out.append("Completeness: no search is recorded in this review.")
    elif not live:
        out.append(
            f"Completeness: the records come from {len(search)} saved search "
            f"file{'' if len(search) == 1 else 's'}; no live PubMed search was run."
        )
    else:
        latest = max(e.finished_at or e.started_at for e in live)
        out.append(f"Completeness: the latest live PubMed search finished {latest}.")
    if flow is not None and flow.in_progress:
        out.append("Screening is still in progress: some records await a decision.")
    if blind:
        from review.screening.events import STAGE_NAMES

        names = ", ".join(STAGE_NAMES.get(b, b) for b in blind)  # type: ignore[call-overload]
        out.append(f"Screening still blind (decisions counted as awaiting): {names}.")
    if unfinished:
        out.append(f"Appraisal unfinished for: {', '.join(sorted(unfinished))}.")
    return tuple(out)


METHOD_WORDS = {
    "GLMM": (
        "a binomial-normal generalised linear mixed model (random-intercept logistic "
        "regression, fitted by maximum likelihood; Stijnen, Hamza & Özdemir 2010), whose "
        "back-transformed intercept is the median proportion"
    ),
    "EE": "a common-effect (inverse-variance) model",
    "DL": "a random-effects model with the DerSimonian-Laird estimator of τ²",
    "REML": "a random-effects model with the restricted maximum-likelihood estimator of τ²",
    "ML": "a random-effects model with the maximum-likelihood estimator of τ²",
    "PM": "a random-effects model with the Paule-Mandel estimator of τ²",
    "HS": "a random-effects model with the Hunter-Schmidt estimator of τ²",
    "SJ": "a random-effects model with the Sidik-Jonkman estimator of τ²",
    "EB": "a random-effects model with the empirical Bayes estimator of τ²",
    "HE": "a random-effects model with the Hedges estimator of τ²",
}
MEASURE_WORDS = {
    "PLO": "logit-transformed proportions",
    "PFT": "Freeman-Tukey double-arcsine-transformed proportions",
    "PAS": "arcsine-square-root-transformed proportions",
    "PR": "raw proportions",
    "PLN": "log-transformed proportions",
}
STUDY_CI_WORDS = {
    "CP": "Clopper-Pearson exact intervals (Clopper & Pearson 1934)",
    "WS": "Wilson score intervals",
    "AC": "Agresti-Coull intervals",
    "SA": "Wald (simple asymptotic) intervals",
}


def methods(review: Review, versions: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    plan = review.protocol.analysis
    spec = plan.primary
    level = level_percent(spec.level)
    model = METHOD_WORDS.get(spec.method, spec.method)
    if spec.method != "GLMM":
        model += f" on {MEASURE_WORDS.get(spec.measure, spec.measure)}"
    test = (
        "Hartung-Knapp adjusted intervals (t distribution)"
        if spec.test == "knha"
        else "Wald-type intervals (normal distribution)"
    )
    if spec.method == "GLMM":
        cc = "The GLMM models the counts directly, so no continuity correction is applied."
    elif spec.cc_mode == "none" or spec.cc == 0:
        cc = "No continuity correction was applied."
    else:
        which = {
            "only0": "to studies with 0 or all events",
            "all": "to every study",
            "if0all": "to every study when any has 0 or all events",
        }[spec.cc_mode]
        cc = f"A continuity correction of {spec.cc:g} was added {which}."
    heterogeneity = (
        "Heterogeneity is reported as τ² with its Q-profile confidence interval (Viechtbauer "
        "2007), I² and Cochran's Q"
    )
    if spec.method == "GLMM":
        heterogeneity += " (for the GLMM: the Wald-type Q and the likelihood-ratio test)"
    heterogeneity += "."
    paragraphs = [
        f"Per-study proportions are shown with {level} "
        f"{STUDY_CI_WORDS.get(spec.study_ci, spec.study_ci)}. Proportions were pooled with "
        f"{model}, with {level} {test}. {cc} {heterogeneity}",
    ]
    if plan.subgroups:
        paragraphs.append(
            "Subgroups by " + ", ".join(plan.subgroups) + " were compared with the test for "
            "subgroup differences (Q-between)."
        )
    if plan.sensitivity:
        paragraphs.append(
            "Sensitivity analyses, as the protocol plans them: "
            + "; ".join(s.label for s in plan.sensitivity)
            + "."
        )
    for stage in ("ta", "ft"):
        stopping = review.screening.recorded_stopping(stage)
        if stopping is not None:
            where = "title/abstract" if stage == "ta" else "full-text"
            paragraphs.append(f"At {where} screening: {stopping.methods}")
    software = ", ".join(f"{n} {v}" for n, v in versions if v != "not installed")
    paragraphs.append(
        f"The flow of records follows PRISMA 2020 (Page et al. 2021). Software: {software}."
    )
    return tuple(paragraphs)


def limitations(review: Review, outcomes: Sequence[OutcomeSection]) -> tuple[str, ...]:
    out = [
        "Case reports and small series are selected for success: authors publish, and "
        "journals accept, striking responses more often than failures, so pooled "
        "proportions from them are likely to overstate how often the treatment works."
    ]
    counts: dict[str, StudyCount] = {}
    for o in outcomes:
        for c in review.extraction.counts(o.name):
            counts.setdefault(c.study, c)
    studies = review.extraction.studies()
    sizes = {c.study: c.assessed + c.unknown + c.not_assessed for c in counts.values()}
    single = sorted(s.label for s in studies if sizes.get(s.label) == 1)
    if studies:
        out.append(
            f"{len(single)} of {len(studies)} {studies_word(len(studies))} "
            f"{'is a single case' if len(single) == 1 else 'are single cases'} (n = 1)"
            + (f": {', '.join(single)}." if single else ".")
        )
    for o in outcomes:
        if o.plan is None:
            continue
        zero = [s.study for s in o.plan.primary.studies if s.events == 0]
        full = [s.study for s in o.plan.primary.studies if s.events == s.total]
        if zero or full:
            parts = []
            if zero:
                parts.append(f"0% in {', '.join(zero)}")
            if full:
                parts.append(f"100% in {', '.join(full)}")
            out.append(
                f"{o.label}: {' and '.join(parts)}; such proportions sit at the edge of the "
                "scale, where two-stage models need a continuity correction and intervals are "
                "wide."
            )
        r = o.plan.primary
        if r.k < 5:
            out.append(
                f"{o.label}: only {r.k} {studies_word(r.k)} pooled, so τ² is estimated imprecisely."
            )
    return tuple(out)


def studies_word(n: int) -> str:
    return "study" if n == 1 else "studies"
