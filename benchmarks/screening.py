"""Screening benchmark: casepool's ranking and stopping rules against ASReview and random order,
on the seven Cohen 2006 reviews, in the same run; and the ranker's speed at 10k and 100k.

Usage (from the project root; both are long, run them with nice):

    nice -n 10 python benchmarks/screening.py                  # the table (needs ASReview's runs)
    nice -n 10 python benchmarks/screening.py --speed          # retrain + re-rank timings only
    nice -n 10 python benchmarks/screening.py --no-asreview    # casepool and random order only

Data: ``../shared/data/screening/cohen2006/<review>.csv`` (Cohen et al. 2006, JAMIA
13:206; the ASReview-prepared CSVs, MIT), each with two labels: ``label_included`` (the
final inclusions) and ``label_abstract_screening`` (included at title/abstract).

Per review and label, seeds 0 to 9 (``--seeds``), the median over seeds of:

- casepool's default model (``review.screening.ranking.DEFAULT``; ``--model`` for another:
  ``elas-u4``, casepool's replica of ASReview's default, should screen in exactly
  ASReview's order, which the check line counts), replayed by
  ``review.screening.simulation`` with one relevant and one irrelevant prior;
- ASReview 2.2's default model (elas_u4) run by ``asreview simulate`` itself with the same
  priors (``--prior-seed S``) and seeds (``--seed S``): benchmarks/asreview_runs.py, in a
  separate venv under /tmp because asreview pins pandas<3 (casepool runs on pandas 3); its
  runs are read from ``--asreview-out`` and any missing ones are run first. Its figures are
  computed by casepool's metrics from ASReview's own screening order, and checked against
  asreview-insights' figures for the same run (the largest difference is printed);
- random order, with the same priors, seeded by the same seed.

WSS@95, WSS@100 and RRF@10 are asreview-insights' definitions
(``review.screening.simulation_metrics``). The stopping rules replay casepool's order:
the statistical rule (Callaghan and Müller-Hansen 2020; recall 0.95 at 95% confidence,
switching to random sampling after 50 irrelevant in a row) with how many runs reach 95%
recall and the median work saved; the heuristics (50 irrelevant in a row; SAFE's checkable
part: that and 10% screened) with how many runs stop below 95% recall.

Speed: records made by resampling the Cohen records: each synthetic record takes the title
and abstract-screening label of a random real one, 70% of its abstract's words drawn from
that abstract and 30% from the pooled words of all abstracts (so that labels follow the text
as they do in a real search); 10,000 and 100,000 of them, a random 1%, 10% and 50% of them
labelled; the time of one ``Ranker.rank`` (train on the labels, score and order all),
median of 3, for every model: from nothing, and after one more decision (the default model
starts that fit from the last one; ``elas-u4``, what ASReview fits on every query, and
``tfidf-logreg`` fit from nothing each time, the baseline).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import asreview_runs  # noqa: E402

from review.screening.ranking import DEFAULT, MODELS, Ranker  # noqa: E402
from review.screening.simulation import (  # noqa: E402
    SimulationSummary,
    StopSettings,
    draw_priors,
    simulate_seeds,
)
from review.screening.simulation_data import LabelledData, read_labelled  # noqa: E402
from review.screening.simulation_metrics import OrderMetrics, order_metrics  # noqa: E402

DATA = asreview_runs.DATA
REVIEWS = asreview_runs.REVIEWS
LABELS = asreview_runs.LABELS
SHORT = {"label_included": "final", "label_abstract_screening": "abstract"}


def load(review: str, label: str) -> LabelledData:
    path = DATA / f"{review}.csv"
    return read_labelled(path.read_bytes(), path.name, label_column=label)


def asreview_metrics(
    out: Path, review: str, label: str, seeds: int, data: LabelledData
) -> tuple[list[OrderMetrics], float, int, list[tuple[int, ...]]]:
    """ASReview's runs as casepool's metrics, the largest difference from insights' own
    figures, how many runs drew other priors than casepool draws, and the orders."""
    found: list[OrderMetrics] = []
    orders: list[tuple[int, ...]] = []
    worst = 0.0
    other_priors = 0
    for seed in range(seeds):
        path = asreview_runs.result_path(out, review, label, seed, 1, 1)
        run = json.loads(path.read_text())
        metrics = order_metrics(run["labels"])
        found.append(metrics)
        orders.append(tuple(run["order"]))
        ref = run["insights"]
        for key in ("wss95", "wss100", "rrf10", "atd"):
            worst = max(worst, abs(getattr(metrics, key) - ref[key]))
        if tuple(run["priors"]) != draw_priors(data.labels, 1, 1, seed):
            other_priors += 1
    return found, worst, other_priors, orders


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ensure_asreview(args: argparse.Namespace) -> None:
    """Run the ASReview simulations not yet on disk (read after casepool's, so that a
    background ``asreview_runs.py`` started earlier can finish them meanwhile)."""
    missing = [
        (review, label, seed)
        for review in REVIEWS
        for label in LABELS
        for seed in range(args.seeds)
        if not asreview_runs.result_path(args.asreview_out, review, label, seed, 1, 1).exists()
    ]
    if missing:
        print(f"running {len(missing)} missing ASReview simulations", flush=True)
        venv, out = str(args.asreview_venv), str(args.asreview_out)
        asreview_runs.main(["--seeds", str(args.seeds), "--venv", venv, "--out", out])


def simulate_all(args: argparse.Namespace, settings: StopSettings) -> list[SimulationSummary]:
    started = time.perf_counter()
    summaries = []
    for review in REVIEWS:
        for label in LABELS:
            data = load(review, label)
            ranker = Ranker(data.texts, model=args.model)
            summaries.append(
                simulate_seeds(
                    ranker,
                    data.labels,
                    name=f"{review}/{label}",
                    model=args.model,
                    seeds=args.seeds,
                    stop_settings=settings,
                )
            )
            print(f"simulated {review} {label}: {time.perf_counter() - started:.0f} s", flush=True)
    return summaries


def table(args: argparse.Namespace) -> None:
    settings = StopSettings()
    header = (
        f"{'review':<22}{'label':<9}{'N':>6}{'R':>5} | {'WSS@95 cp/asr/rnd':>20} | "
        f"{'WSS@100 cp/asr/rnd':>20} | {'RRF@10 cp/asr/rnd':>20} | "
        f"{'stat: hit  recall  saved':>25} | {'run50: low  saved':>18} | {'SAFE: low  saved':>17}"
    )
    print(f"model {args.model}; {args.seeds} seeds; medians over seeds; priors 1 + 1")
    started = time.perf_counter()
    summaries = simulate_all(args, settings)
    elapsed = time.perf_counter() - started
    if not args.no_asreview:
        ensure_asreview(args)
    print(header)
    print("-" * len(header))
    rows = []
    checks = {"insights": 0.0, "other_priors": 0, "same_order": 0}
    pairs = [(review, label) for review in REVIEWS for label in LABELS]
    for (review, label), summary in zip(pairs, summaries, strict=True):
        data = load(review, label)
        asr: list[OrderMetrics] = []
        if not args.no_asreview:
            asr, worst, other, orders = asreview_metrics(
                args.asreview_out, review, label, args.seeds, data
            )
            checks["insights"] = max(checks["insights"], worst)
            checks["other_priors"] += other
            checks["same_order"] += sum(
                1 for run, theirs in zip(summary.runs, orders, strict=True) if run.order == theirs
            )
        row = {"review": review, "label": label, "n": data.n_relevant}
        cells = []
        for metric in ("wss95", "wss100", "rrf10"):
            ours = summary.median(metric)
            theirs = median([getattr(m, metric) for m in asr]) if asr else float("nan")
            rnd = summary.median(metric, random=True)
            row[metric] = (ours, theirs, rnd)
            cells.append(f"{ours:6.3f} {theirs:6.3f} {rnd:6.3f}")
        stat = summary.stop_summary("statistical")
        run = summary.stop_summary("run-length")
        safe = summary.stop_summary("safe")
        row["stops"] = {"statistical": stat, "run-length": run, "safe": safe}
        rows.append(row)
        print(
            f"{review:<22}{SHORT[label]:<9}{len(data.labels):>6}{data.n_relevant:>5} | "
            f"{cells[0]:>20} | {cells[1]:>20} | {cells[2]:>20} | "
            f"{stat['reached_target']:>4}/{stat['runs']:<3}"
            f"{stat['median_recall']:>6.3f}{stat['median_work_saved']:>7.3f} | "
            f"{run['below_target']:>8}{run['median_work_saved']:>7.3f} | "
            f"{safe['below_target']:>7}{safe['median_work_saved']:>7.3f}",
            flush=True,
        )
    print("-" * len(header))
    ours = [r["wss95"][0] for r in rows]
    theirs = [r["wss95"][1] for r in rows]
    rnd = [r["wss95"][2] for r in rows]
    print(
        f"mean WSS@95: casepool {statistics.mean(ours):.3f}, ASReview elas_u4 "
        f"{statistics.mean(theirs):.3f}, random {statistics.mean(rnd):.3f}"
    )
    if not args.no_asreview:
        gaps = [
            (o - t, r["review"], SHORT[r["label"]])
            for o, t, r in zip(ours, theirs, rows, strict=True)
        ]
        low = min(gaps)
        print(
            f"largest shortfall of casepool against ASReview: {low[0]:+.3f} ({low[1]}, {low[2]}); "
            f"reviews more than 0.02 below: {sum(1 for g in gaps if g[0] < -0.02)} of {len(gaps)}"
        )
        print(
            f"check: casepool's metrics vs asreview-insights on ASReview's runs, largest "
            f"difference {checks['insights']:.2e}; runs whose ASReview priors differ from "
            f"casepool's draw: {checks['other_priors']}; runs where casepool screened in "
            f"exactly ASReview's order: {checks['same_order']} of {len(rows) * args.seeds}"
        )
    for rule in ("statistical", "run-length", "safe"):
        stops = [run.stop(rule) for s in summaries for run in s.runs]
        reached = sum(1 for s in stops if s.recall >= settings.recall - 1e-12)
        print(
            f"{rule:<12} reaches {settings.recall:.0%} recall in {reached}/{len(stops)} runs "
            f"({reached / len(stops):.1%}); stops below it in {len(stops) - reached}; "
            f"mean work saved {statistics.mean(s.work_saved for s in stops):.3f}"
        )
    print(f"casepool simulations took {elapsed:.0f} s")


def synthetic_records(n: int, seed: int) -> tuple[list[str], list[bool]]:
    """n texts resampled from the Cohen records, with labels (see the module docstring)."""
    rng = random.Random(seed)
    sources: list[tuple[str, list[str], bool]] = []
    pool: list[str] = []
    for review in REVIEWS:
        data = load(review, "label_abstract_screening")
        for text, label in zip(data.texts, data.labels, strict=True):
            head, _, body = text.partition("\n")
            words = body.split() or head.split()
            sources.append((head, words, label))
            pool.extend(words)
    texts, labels = [], []
    for _ in range(n):
        head, words, label = sources[rng.randrange(len(sources))]
        own = rng.choices(words, k=int(len(words) * 0.7))
        other = rng.choices(pool, k=len(words) - len(own))
        texts.append(head + "\n" + " ".join(own + other))
        labels.append(label)
    return texts, labels


def speed(args: argparse.Namespace) -> None:
    print(
        "retrain + re-rank (one Ranker.rank), median of 3 [targets: 10k < 0.2 s, 100k < 2 s];\n"
        "from nothing (the first ranking), and after one more decision (the screener's refit,\n"
        "which the default model starts from the last fit; elas-u4 and tfidf-logreg, like\n"
        "ASReview, fit from nothing on every decision: the baseline)"
    )
    for n in (10_000, 100_000):
        texts, truth = synthetic_records(n, 0)
        rng = random.Random(1)
        for model in MODELS:
            start = time.perf_counter()
            ranker = Ranker(texts, model=model)  # type: ignore[arg-type]
            fitted = time.perf_counter() - start
            for share in (0.01, 0.10, 0.50):
                chosen = rng.sample(range(n), int(n * share) + 1)
                labels = {p: truth[p] for p in chosen[:-1]}
                one_more = {**labels, chosen[-1]: truth[chosen[-1]]}
                cold, warm = [], []
                for _ in range(3):
                    ranker.forget()
                    t = time.perf_counter()
                    ranker.rank(labels)
                    cold.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    ranker.rank(one_more)
                    warm.append(time.perf_counter() - t)
                role = "default" if model == DEFAULT else "alternative"
                print(
                    f"{n:>7,} records, {len(labels):>6,} labelled, {model:<13} ({role}): "
                    f"from nothing {statistics.median(cold):.3f} s, "
                    f"one more decision {statistics.median(warm):.3f} s  "
                    f"(features fitted once: {fitted:.1f} s)",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--model", default=DEFAULT)
    parser.add_argument("--speed", action="store_true", help="only the speed benchmark")
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--asreview-venv", type=Path, default=Path("/tmp/casepool-asreview-venv"))
    parser.add_argument("--asreview-out", type=Path, default=Path("/tmp/casepool-asreview-runs"))
    args = parser.parse_args()
    if args.speed:
        speed(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
