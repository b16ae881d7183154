"""The stopping rule on a real review (``casepool screen stop-check``): draw the random
sample of the records still unscreened, record it, and evaluate the test once its records
are screened (``review.screening.stopping`` holds the statistics).

The first check at a stage (for a reviewer, or for the review as a whole) shuffles every
unscreened record with a seeded generator and stores that whole order (the urn) with what
had been screened by then; it releases as many of the first records as the test needs
should they all prove irrelevant (or ``sample`` of them). Later checks read the released
records in their order up to the first one not yet screened: that prefix is a uniform
random sample of the urn, however the reviewer got to each of its records. When all
released records are screened and the target is not met, the check releases the next ones
(recorded too). Each draw is one transaction; the order can be rebuilt from the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from review.errors import StoppingError
from review.screening.events import STAGE_NAMES, Paper, Stage, check_name
from review.screening.labels import Screened, screened
from review.screening.state import locate
from review.screening.stopping import (
    RUN_LENGTH,
    StopCheck,
    check_parameters,
    methods_text,
    run_length,
    safe_check,
    stop_check,
)
from review.screening.workflow import Settings, Snapshot, blind_error, read_snapshot
from review.store import Store, Tx
from review.store import stopping as sql
from review.wording import count

SEED = 1


@dataclass(frozen=True)
class StopReport:
    """A stopping check on a review: the test and heuristics (``check``), the sample it
    rests on, and what to screen next (``next_clusters``, the released random records not
    yet screened, in their order)."""

    stage: Stage
    reviewer: str | None
    check: StopCheck
    sample_id: int | None
    seed: int | None
    released: int
    urn_size: int
    drew: int
    next_clusters: tuple[int, ...]
    notes: tuple[str, ...]

    @property
    def methods(self) -> str:
        """The methods sentence naming the rule and its parameters."""
        return methods_text(self.check)

    @property
    def lines(self) -> tuple[str, ...]:
        """What the terminal shows, one line each."""
        c = self.check
        who = f" for {self.reviewer}" if self.reviewer else ""
        out = [
            f"Stopping rule (Callaghan & Müller-Hansen 2020) at {STAGE_NAMES[self.stage]}{who}: "
            f"recall target {c.recall:.0%} at {c.confidence:.0%} confidence.",
        ]
        if self.sample_id is None:
            out.append(f"Screened {c.n_screened:,} of {count(c.n_total, 'record')}.")
        else:
            out.append(
                f"Before the random sample: {c.n_ranked:,} of {count(c.n_total, 'record')} "
                f"screened ({c.relevant_ranked:,} relevant); random sample: {c.n_sample:,} "
                f"of the {c.n_urn:,} left screened in order ({c.relevant_sample:,} relevant)."
            )
        if c.target_met:
            out.append(
                f"Recall target met at {c.confidence:.0%} confidence: p = {_p(c.p_value)}"
                + (f" ({c.reason})." if c.reason and c.n_screened == c.n_total else ".")
            )
        else:
            out.append(
                f"Recall target not met yet: p = {_p(c.p_value)} (it must fall below "
                f"{c.alpha:.2g})."
            )
            if self.next_clusters:
                ids = ", ".join(str(i) for i in self.next_clusters)
                out.append(
                    f"Screen these {len(self.next_clusters):,} random records next, in this "
                    f"order (cluster ids): {ids}"
                )
            if c.more_to_screen:
                out.append(
                    f"If none of them is relevant, {count(c.more_to_screen, 'more random record')}"
                    " will meet the target; each relevant one found raises the count."
                )
        if self.sample_id is not None:
            drawn = f" ({count(self.drew, 'record')} drawn now)" if self.drew else ""
            out.append(
                f"Random sample {self.sample_id} (seed {self.seed}): {self.released:,} of the "
                f"{self.urn_size:,} records in its recorded order released{drawn}."
            )
        run = c.run_length
        out.append(
            f"Heuristic, {run.n} irrelevant in a row: "
            + (f"reached (the last {run.run:,})." if run.fired else f"not reached ({run.run:,}).")
        )
        s = c.safe
        estimate = (
            "not known (no initial random set was screened)"
            if s.estimated_relevant is None
            else ("yes" if s.screened_enough_for_estimate else "no")
        )
        out.append(
            f"SAFE, the countable part: {s.min_fraction:.0%} of records screened: "
            f"{'yes' if s.fraction_met else 'no'} ({s.screened_fraction:.1%}); twice the "
            f"estimated number of relevant records screened: {estimate}; {run.n} irrelevant "
            f"in a row: {'yes' if s.run_length_met else 'no'}. Left to people: "
            + "; ".join(s.human_steps)
            + "."
        )
        out.extend(self.notes)
        return tuple(out)

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        c = self.check
        return {
            "stage": self.stage,
            "reviewer": self.reviewer,
            "rule": "Callaghan & Müller-Hansen 2020 hypergeometric test",
            "recall": c.recall,
            "confidence": c.confidence,
            "pool": c.n_total,
            "screened": c.n_screened,
            "relevant_found": c.relevant_found,
            "ranked": c.n_ranked,
            "ranked_relevant": c.relevant_ranked,
            "urn": c.n_urn,
            "sample_screened": c.n_sample,
            "sample_relevant": c.relevant_sample,
            "k_target": c.k_target,
            "p_value": c.p_value,
            "target_met": c.target_met,
            "more_to_screen": c.more_to_screen,
            "reason": c.reason,
            "sample": {
                "id": self.sample_id,
                "seed": self.seed,
                "released": self.released,
                "urn": self.urn_size,
                "drawn_now": self.drew,
            },
            "next": list(self.next_clusters),
            "run_length": {
                "n": c.run_length.n,
                "run": c.run_length.run,
                "reached": c.run_length.fired,
            },
            "safe": {
                "min_fraction": c.safe.min_fraction,
                "screened_fraction": c.safe.screened_fraction,
                "fraction_met": c.safe.fraction_met,
                "estimated_relevant": c.safe.estimated_relevant,
                "screened_enough_for_estimate": c.safe.screened_enough_for_estimate,
                "run_length_met": c.safe.run_length_met,
                "checkable_met": c.safe.checkable_met,
                "human_steps": list(c.safe.human_steps),
            },
            "methods": self.methods,
            "notes": list(self.notes),
        }


def _p(value: float) -> str:
    return "< 0.001" if 0 < value < 0.001 else f"{value:.3g}"


def _pool(view: Snapshot, stage: Stage, reviewer: str | None) -> list[int]:
    """The clusters screened at ``stage`` by this reviewer (those assigned to them when the
    stage has assignments), without full texts marked not retrieved."""
    pool = view.eligible(stage)
    assigned = view.assigned[stage]
    if reviewer is not None and assigned:
        pool = [c for c in pool if reviewer in assigned.get(c, ())]
    if stage == "ft":
        pool = [
            c
            for c in pool
            if (got := view.retrieval.get(c)) is None or got.state != "not_retrieved"
        ]
    return pool


def check_stopping(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    reviewer: str | None,
    recall: float,
    confidence: float,
    sample: int | None,
    seed: int | None,
    new_sample: bool,
    run_length_n: int,
    at: str,
    by: str | None,
) -> StopReport:
    """Evaluate the stopping rule at ``stage``, drawing (and recording) random records to
    screen when the test needs them; all of it in one transaction."""
    settings.check_stage(stage)
    check_parameters(recall=recall, confidence=confidence, run_length_n=run_length_n)
    if sample is not None and (not isinstance(sample, int) or sample < 1):
        raise StoppingError(f"the sample size must be a whole number of at least 1, got {sample}")
    who = None if reviewer is None else check_name(reviewer)
    with store.transaction() as tx:
        view = read_snapshot(tx, settings)
        if who is None and view.blind[stage]:
            raise blind_error(stage, "decisions")
        pool = _pool(view, stage, who)
        members = set(pool)
        states = view.visible(stage, who)
        done = {c: s for c, s in screened(states, reviewer=who).items() if c in members}
        in_order = [s.relevant for s in sorted(done.values(), key=lambda s: s.first_event)]
        row = None if new_sample else sql.latest_sample(tx, stage, who)
        if row is not None and seed is not None and seed != row.seed:
            raise StoppingError(
                f"the random sample at {STAGE_NAMES[stage]} was drawn with seed {row.seed}; "
                "--seed only applies to a new sample (add --new-sample to draw one)"
            )
        drew = 0
        if row is None:
            base = stop_check(
                in_order,
                len(pool),
                recall=recall,
                confidence=confidence,
                run_length_n=run_length_n,
            )
            left = sorted(c for c in pool if c not in done)
            if not left:
                return _report(stage, who, base, None, view, pool, in_order, run_length_n)
            chosen = SEED if seed is None else seed
            random.Random(chosen).shuffle(left)
            size = min(len(left), sample or max(1, base.more_to_screen))
            primary = view.membership.primary_of
            sql.add_sample(
                tx,
                stage=stage,
                reviewer=who,
                seed=chosen,
                pool=len(pool),
                ranked=len(in_order),
                ranked_relevant=sum(in_order),
                drawn=size,
                urn=[Paper(c, primary[c], ()) for c in left],
                at=at,
                by=by,
            )
            drew = size
            row = sql.latest_sample(tx, stage, who)
            assert row is not None
        urn = sql.urn(tx, row.id)
        if sample is not None and drew == 0:
            drew = _release(tx, row, len(urn), row.drawn + sample, at, by)
            row = replace(row, drawn=min(len(urn), row.drawn + sample))
        check, upcoming = _evaluate(row, urn, view, done, recall, confidence, run_length_n)
        if not check.target_met and not upcoming and row.drawn < len(urn):
            wanted = row.drawn + max(1, check.more_to_screen)
            drew += _release(tx, row, len(urn), wanted, at, by)
            row = replace(row, drawn=min(len(urn), wanted))
            check, upcoming = _evaluate(row, urn, view, done, recall, confidence, run_length_n)
        report = _report(stage, who, check, row, view, pool, in_order, run_length_n)
        covered = {locate(p, view.membership) for p in urn}
        late = [c for c in pool if c not in done and c not in covered]
        notes = list(report.notes)
        if late:
            verb = "is" if len(late) == 1 else "are"
            notes.append(
                f"{count(len(late), 'record')} came in after the sample was drawn and {verb} "
                "not covered by it: screen them, or draw a new sample with --new-sample"
            )
        return replace(
            report,
            urn_size=len(urn),
            drew=drew,
            next_clusters=tuple(upcoming),
            notes=tuple(notes),
        )


def recorded_stopping(
    store: Store,
    settings: Settings,
    *,
    stage: Stage,
    recall: float = 0.95,
    confidence: float = 0.95,
    run_length_n: int = 50,
) -> StopReport | None:
    """The stopping rule on the review's recorded sample at ``stage``, read only (nothing
    drawn or released): None when no sample was drawn for the review as a whole, or while
    the stage is blind. What a report says of the rule."""
    settings.check_stage(stage)
    check_parameters(recall=recall, confidence=confidence, run_length_n=run_length_n)
    with store.read() as tx:
        view = read_snapshot(tx, settings)
        row = sql.latest_sample(tx, stage, None)
        if row is None or view.blind[stage]:
            return None
        pool = _pool(view, stage, None)
        members = set(pool)
        states = view.visible(stage, None)
        done = {c: s for c, s in screened(states, reviewer=None).items() if c in members}
        in_order = [s.relevant for s in sorted(done.values(), key=lambda s: s.first_event)]
        urn = sql.urn(tx, row.id)
    check, upcoming = _evaluate(row, urn, view, done, recall, confidence, run_length_n)
    report = _report(stage, None, check, row, view, pool, in_order, run_length_n)
    return replace(report, urn_size=len(urn), next_clusters=tuple(upcoming))


def _release(
    tx: Tx, row: sql.SampleRow, urn_size: int, wanted: int, at: str, by: str | None
) -> int:
    drawn = min(urn_size, wanted)
    if drawn <= row.drawn:
        return 0
    sql.extend_sample(tx, row, drawn=drawn, at=at, by=by)
    return drawn - row.drawn


def _evaluate(
    row: sql.SampleRow,
    urn: list[Paper],
    view: Snapshot,
    done: dict[int, Screened],
    recall: float,
    confidence: float,
    run_length_n: int,
) -> tuple[StopCheck, list[int]]:
    """The test on the released prefix screened so far, and the released ones still to do."""
    labels: list[bool] = []
    upcoming: list[int] = []
    for paper in urn[: row.drawn]:
        cluster = locate(paper, view.membership)
        if cluster is None:
            continue
        got = done.get(cluster)
        if got is None:
            upcoming.append(cluster)
        elif not upcoming:
            labels.append(got.relevant)
    ranked = [True] * row.ranked_relevant + [False] * (row.ranked - row.ranked_relevant)
    check = stop_check(
        ranked + labels,
        row.pool,
        recall=recall,
        confidence=confidence,
        random_sample_start=row.ranked,
        run_length_n=run_length_n,
    )
    return check, upcoming


def _report(
    stage: Stage,
    reviewer: str | None,
    check: StopCheck,
    row: sql.SampleRow | None,
    view: Snapshot,
    pool: list[int],
    in_order: list[bool],
    run_length_n: int,
) -> StopReport:
    """The report, with the heuristics computed on the real screening order."""
    check = replace(
        check,
        run_length=run_length(in_order, run_length_n),
        safe=safe_check(in_order, len(pool), run_length_n=run_length_n),
    )
    return StopReport(
        stage=stage,
        reviewer=reviewer,
        check=check,
        sample_id=None if row is None else row.id,
        seed=None if row is None else row.seed,
        released=0 if row is None else row.drawn,
        urn_size=0,
        drew=0,
        next_clusters=(),
        notes=(),
    )


__all__ = ["RUN_LENGTH", "StopReport", "check_stopping"]
