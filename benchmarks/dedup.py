"""Deduplication benchmark: casepool against bib-dedupe on the same data, in the same run.

Usage (from the project root):

    python benchmarks/dedup.py                 # the four bib-dedupe sets + bib-dedupe itself
    python benchmarks/dedup.py --scale 100000  # also 100,000 perturbed records (and bib-dedupe
                                               # on the first 20,000 of them: it is slow)
    python benchmarks/dedup.py --no-bib-dedupe # casepool only (published figures as baseline)

Data: ``../shared/data/dedup/<set>/records_pre_merged.csv`` and ``merged_record_ids.csv``
(CoLRev-Environment/bib-dedupe at commit c66515a, MIT).

Figures per set and tool:

- ``false_merges``: clusters holding records of two or more true groups (a record in no true
  duplicate set is a group of its own): each is an included study that could vanish. The
  target is zero.
- ``pair_recall`` and ``pair_precision``: over pairs of records, the share of true duplicate
  pairs put in one cluster, and the share of pairs put in one cluster that are true.
- the bib-dedupe authors' record-level counts (``DedupeBenchmarker.compare_dedupe_id``): every
  cluster keeps its primary and removes the other members; removed members of a true set are
  true positives, kept ones beyond one false negatives, a removed unique record a false
  positive; and ``wrong_links``, predicted same-cluster pairs not in the ground truth.
- ``queued``: the pairs casepool leaves for a person (``casepool dedup review``).

Held out (``--held-out``): the title thresholds (``review.dedup.matching.Thresholds``) are
chosen on the other Rathbone sets only (the highest mean pair recall with zero false merges
over a grid; ties to three places go to the stricter thresholds) and each set is reported with
the thresholds so chosen, so its own labels chose nothing. The rules themselves are not
chosen this way; the note of each change says which set it was written from.

The scale set repeats the three Rathbone sets as distinct papers: copy k maps every title word
and author surname through a copy-specific random permutation of the vocabulary and shifts
volume and year-independent pages, identically for all members of a true duplicate set (so
copies are different papers, and duplicates stay duplicates). Each record then gets its own
realistic noise: a typo in the title, case changes, a missing volume/pages/journal, the journal
abbreviated to initials-style prefixes, authors truncated to the first one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "dedup"
SETS = ("special_cases", "cytology_screening", "haematology", "respiratory")
PUBLISHED = {
    "cytology_screening": (0, 0.992),
    "haematology": (0, 0.889),
    "respiratory": (0, 0.936),
}

sys.path.insert(0, str(ROOT))

from review.dedup.clusters import deduplicate  # noqa: E402
from review.dedup.matching import Thresholds  # noqa: E402
from review.records import Record  # noqa: E402


@dataclass
class Scores:
    """Confusion counts as the bib-dedupe authors count them, wrong links, and the pair and
    cluster figures (false merges, pair recall and precision)."""

    tp: int
    fp: int
    fn: int
    tn: int
    wrong_links: int
    seconds: float
    false_merges: int = 0
    pair_recall: float = 1.0
    pair_precision: float = 1.0

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else 1.0


def read_set(folder: Path) -> tuple[list[Record], list[list[str]]]:
    """The set's records, read by casepool's own CSV importer, and its true duplicate sets."""
    import csv

    from review.sources.tabular import read_delimited

    path = folder / "records_pre_merged.csv"
    parsed = read_delimited(path.read_bytes(), str(path), source="benchmark")
    with (folder / "merged_record_ids.csv").open(encoding="utf-8", newline="") as handle:
        truth = [row["merged_ids"].split(";") for row in csv.DictReader(handle)]
    return list(parsed.records), truth


def score(
    ids: Sequence[str], predicted: list[list[str]], kept: set[str], truth: list[list[str]]
) -> tuple[int, int, int, int, int]:
    """(TP, FP, FN, TN, wrong links) counted as ``DedupeBenchmarker.compare_dedupe_id``."""
    in_truth = {i for s in truth for i in s}
    tp = fp = fn = tn = 0
    for rid in ids:
        if rid not in in_truth:
            if rid in kept:
                tn += 1
            else:
                fp += 1
    for true_set in truth:
        n_kept = sum(1 for i in true_set if i in kept)
        if n_kept == 0:
            fp += 1
            tp += len(true_set) - 1
        else:
            tn += 1
            fn += n_kept - 1
            tp += len(true_set) - n_kept
    true_of = {i: n for n, s in enumerate(truth) for i in s}
    wrong = 0
    for cluster in predicted:
        for x in range(len(cluster)):
            for y in range(x + 1, len(cluster)):
                a, b = true_of.get(cluster[x]), true_of.get(cluster[y])
                if a is None or a != b:
                    wrong += 1
    return tp, fp, fn, tn, wrong


def pair_scores(predicted: list[list[str]], truth: list[list[str]]) -> tuple[int, float, float]:
    """(false merges, pair recall, pair precision) of predicted clusters against the truth."""
    group = {i: n for n, s in enumerate(truth) for i in s}
    false_merges = 0
    found = predicted_pairs = 0
    for cluster in predicted:
        groups = {group.get(i, ("alone", i)) for i in cluster}
        false_merges += len(groups) > 1
        predicted_pairs += len(cluster) * (len(cluster) - 1) // 2
        sizes: dict[object, int] = {}
        for i in cluster:
            key = group.get(i, ("alone", i))
            sizes[key] = sizes.get(key, 0) + 1
        found += sum(n * (n - 1) // 2 for key, n in sizes.items() if not isinstance(key, tuple))
    true_pairs = sum(len(s) * (len(s) - 1) // 2 for s in truth)
    recall = found / true_pairs if true_pairs else 1.0
    precision = found / predicted_pairs if predicted_pairs else 1.0
    return false_merges, recall, precision


def scores(
    ids: Sequence[str],
    predicted: list[list[str]],
    kept: set[str],
    truth: list[list[str]],
    seconds: float,
) -> Scores:
    tp, fp, fn, tn, wrong = score(ids, predicted, kept, truth)
    merges, recall, precision = pair_scores(predicted, truth)
    return Scores(tp, fp, fn, tn, wrong, seconds, merges, recall, precision)


def run_casepool(
    records: list[Record], truth: list[list[str]], limits: Thresholds | None = None
) -> tuple[Scores, int]:
    start = time.perf_counter()
    result = deduplicate(list(enumerate(records)), limits=limits or Thresholds())
    seconds = time.perf_counter() - start
    sid = [r.source_id or "" for r in records]
    predicted = [[sid[m] for m in c.members] for c in result.clusters]
    removed = {sid[m] for c in result.clusters for m in c.members if m != c.primary}
    kept = set(sid) - removed
    return scores(sid, predicted, kept, truth, seconds), len(result.uncertain)


GRID = tuple(
    Thresholds(candidate, confident, near)
    for candidate in (0.80, 0.85, 0.90)
    for confident in (0.93, 0.95, 0.97)
    for near in (0.97, 0.98, 0.99)
    if candidate < confident <= near
)
RATHBONE = ("cytology_screening", "haematology", "respiratory")


def held_out(sets: dict[str, tuple[list[Record], list[list[str]]]]) -> list[dict[str, object]]:
    """Each Rathbone set with the thresholds the other two choose (see the module doc)."""
    results: dict[tuple[str, Thresholds], Scores] = {}
    for name in RATHBONE:
        for limits in GRID:
            results[(name, limits)] = run_casepool(*sets[name], limits)[0]
    rows = []
    for name in RATHBONE:
        others = [o for o in RATHBONE if o != name]

        def merit(
            limits: Thresholds, others: list[str] = others
        ) -> tuple[bool, float, float, float, float]:
            """Zero false merges first, then pair recall to three places, then the stricter
            thresholds (a false merge is the worse error, so ties go to caution)."""
            safe = all(results[(o, limits)].false_merges == 0 for o in others)
            recall = sum(results[(o, limits)].pair_recall for o in others) / len(others)
            return safe, round(recall, 3), limits.confident, limits.candidate, limits.near

        chosen = max(GRID, key=merit)
        row = _row(name, "casepool (held out)", results[(name, chosen)])
        row["thresholds"] = f"{chosen.candidate}/{chosen.confident}/{chosen.near}"
        row["chosen_on"] = "+".join(others)
        rows.append(row)
    return rows


def run_bib_dedupe(folder: Path, truth: list[list[str]]) -> Scores | str:
    """bib-dedupe 0.11 on the same CSV (its own reader); a string says why it could not run."""
    try:
        import pandas as pd
        from bib_dedupe.bib_dedupe import block, cluster, match, prep
    except ImportError as exc:
        return f"bib-dedupe is not installed ({exc}); pip install bib-dedupe==0.11.0"
    import warnings

    frame = pd.read_csv(folder / "records_pre_merged.csv")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prep(frame, verbosity_level=0)
        matched = match(block(prepared, verbosity_level=0), verbosity_level=0)
        sets = cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - start
    ids = [str(i) for i in frame["ID"]]
    predicted = [sorted(s) for s in sets]
    removed = {i for s in predicted for i in s[1:]}
    return scores(ids, predicted, set(ids) - removed, truth, seconds)


_PROTECTED = frozenset(
    {
        "erratum",
        "errata",
        "correction",
        "comment",
        "reply",
        "retraction",
        "retracted",
        "review",
        "refs",
        "article",
        "conference",
        "congress",
        "meeting",
        "proceedings",
        "abstract",
    }
)
_WORD = re.compile(r"[A-Za-z]{5,}")


def _permutation(words: list[str], seed: int) -> dict[str, str]:
    shuffled = words[:]
    random.Random(seed).shuffle(shuffled)
    return dict(zip(words, shuffled, strict=True))


def _map_title(title: str | None, mapping: dict[str, str]) -> str | None:
    if not title:
        return title

    def swap(match: re.Match[str]) -> str:
        word = match.group()
        low = word.lower()
        if low in _PROTECTED or low not in mapping:
            return word
        new = mapping[low]
        if word.isupper():
            return new.upper()
        return new.capitalize() if word[0].isupper() else new

    return _WORD.sub(swap, title)


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) > 5]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(words)


def _abbreviate(journal: str) -> str:
    stop = {"of", "the", "and", "for", "in", "&"}
    return " ".join(w[:5] if len(w) > 5 else w for w in journal.split() if w.lower() not in stop)


def _noise(record: Record, rng: random.Random) -> Record:
    """Per-record noise a database export shows: typo, case, missing fields, ISO-style journal."""
    changes: dict[str, object] = {}
    title = record.title or ""
    if title and rng.random() < 0.10:
        title = _typo(title, rng)
    if title and rng.random() < 0.10:
        title = title.upper() if rng.random() < 0.5 else title.lower()
    changes["title"] = title or None
    if rng.random() < 0.10:
        changes["pages"] = None
    if rng.random() < 0.05:
        changes["volume"] = None
    if record.journal and rng.random() < 0.10:
        changes["journal"] = _abbreviate(record.journal)
    elif rng.random() < 0.05:
        changes["journal"] = None
    if len(record.authors) > 1 and rng.random() < 0.05:
        changes["authors"] = record.authors[:1]
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def scale_set(n: int, seed: int = 2015) -> tuple[list[Record], list[list[str]]]:
    """``n`` records: the three Rathbone sets repeated as distinct papers, with noise.

    Copy k maps every title word of five letters or more and every surname through a
    copy-specific permutation of the vocabulary and adds 1000*k to the volume, identically for
    all members of a true duplicate set; copy 0 keeps the real words. Then each record gets its
    own noise (see ``_noise``). Truth: each copy's clusters.
    """
    base: list[tuple[Record, str]] = []
    truth_base: list[list[str]] = []
    for name in ("cytology_screening", "haematology", "respiratory"):
        records, truth = read_set(DATA / name)
        base += [(r, f"{name}:{r.source_id}") for r in records]
        truth_base += [[f"{name}:{i}" for i in s] for s in truth]
    words = sorted({w.lower() for r, _ in base for w in _WORD.findall(r.title or "")} - _PROTECTED)
    surnames = sorted({a.last_name for r, _ in base for a in r.authors if a.last_name})
    rng = random.Random(seed)
    out: list[Record] = []
    truth_out: list[list[str]] = []
    copy = 0
    while len(out) < n:
        words_k = _permutation(words, seed + copy) if copy else {w: w for w in words}
        names_k = _permutation(surnames, seed - copy) if copy else {s: s for s in surnames}
        for record, key in base:
            if len(out) >= n:
                break
            volume = record.volume
            if copy and volume and volume.isdigit():
                volume = str(int(volume) + 1000 * copy)
            mapped = dataclasses.replace(
                record,
                source_id=f"{key}#{copy}",
                title=_map_title(record.title, words_k),
                authors=tuple(
                    dataclasses.replace(a, last_name=names_k.get(a.last_name or "", a.last_name))
                    for a in record.authors
                ),
                volume=volume,
            )
            out.append(_noise(mapped, rng))
        kept = {r.source_id for r in out}
        truth_out += [
            ids
            for s in truth_base
            if len(ids := [f"{i}#{copy}" for i in s if f"{i}#{copy}" in kept]) > 1
        ]
        copy += 1
    return out, truth_out


def run_scale(n: int, tool: str = "casepool") -> dict[str, object]:
    """Deduplicate ``n`` perturbed records in a child process (so peak memory is its own)."""
    import subprocess

    flag = "--scale-child" if tool == "casepool" else "--scale-child-bib-dedupe"
    completed = subprocess.run(
        [sys.executable, __file__, flag, str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return {"set": f"scale {n}", "tool": tool, "error": completed.stderr.strip()[-500:]}
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def scale_child_bib_dedupe(n: int) -> dict[str, object]:
    """bib-dedupe on the same perturbed records, given as its CSV columns."""
    import resource
    import warnings

    import pandas as pd
    from bib_dedupe.bib_dedupe import block, cluster, match, prep

    records, truth = scale_set(n)
    frame = pd.DataFrame(
        [
            {
                "ID": r.source_id,
                "title": r.title,
                "year": r.year,
                "author": " and ".join(a.display for a in r.authors),
                "pages": r.pages,
                "volume": r.volume,
                "number": r.issue,
                "ENTRYTYPE": r.record_type or "article",
                "journal": r.journal,
            }
            for r in records
        ]
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prep(frame, verbosity_level=0)
        sets = cluster(match(block(prepared, verbosity_level=0), verbosity_level=0))
    seconds = time.perf_counter() - start
    ids = [str(i) for i in frame["ID"]]
    predicted = [sorted(x) for x in sets]
    removed = {i for x in predicted for i in x[1:]}
    found = scores(ids, predicted, set(ids) - removed, truth, seconds)
    row = _row(f"scale {n}", "bib-dedupe 0.11.0", found)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return row


def scale_child(n: int) -> dict[str, object]:
    """The scale run itself: generate, store, then time ``run_dedup`` (read, match, write)."""
    import resource
    import tempfile

    from review.clock import utc_now
    from review.dedup.workflow import membership as current_membership
    from review.dedup.workflow import run_dedup
    from review.store import open_store, sqlite_url
    from review.store.records import finish_load, insert_records, iter_records, start_load

    t0 = time.perf_counter()
    records, truth = scale_set(n)
    generated = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(sqlite_url(Path(tmp) / "review.db"), create=True)
        with store.transaction() as tx:
            load_id = start_load(tx, kind="file", source="benchmark", at=utc_now())
            insert_records(tx, load_id, records)
            finish_load(tx, load_id, at=utc_now(), n_read=len(records), n_new=len(records))
        start = time.perf_counter()
        counts = run_dedup(store, clock=utc_now)
        seconds = time.perf_counter() - start
        stored = current_membership(store)
        membership = {rid: (c, stored.is_primary(rid)) for rid, c in stored.cluster_of.items()}
        with store.read() as tx:
            sid = {rid: str(record.source_id) for rid, record in iter_records(tx)}
        store.close()
    clusters: dict[int, list[str]] = {}
    kept = set()
    for rid, (cluster_id, is_primary) in membership.items():
        clusters.setdefault(cluster_id, []).append(sid[rid])
        if is_primary:
            kept.add(sid[rid])
    predicted = [c for c in clusters.values() if len(c) > 1]
    found = scores(list(sid.values()), predicted, kept, truth, seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = _row(f"scale {len(records)}", "casepool (store, run_dedup)", found, counts.pairs_queued)
    row["peak_rss_mb"] = round(peak_mb)
    row["generate_seconds"] = round(generated, 1)
    return row


def _row(name: str, tool: str, s: Scores | str, queued: int | None = None) -> dict[str, object]:
    if isinstance(s, str):
        return {"set": name, "tool": tool, "error": s}
    row: dict[str, object] = {
        "set": name,
        "tool": tool,
        "false_merges": s.false_merges,
        "pair_recall": round(s.pair_recall, 4),
        "pair_precision": round(s.pair_precision, 4),
        "TP": s.tp,
        "FP": s.fp,
        "FN": s.fn,
        "TN": s.tn,
        "wrong_links": s.wrong_links,
        "sensitivity": round(s.sensitivity, 4),
        "specificity": round(s.specificity, 4),
        "seconds": round(s.seconds, 2),
    }
    if queued is not None:
        row["queued"] = queued
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--no-bib-dedupe", action="store_true")
    parser.add_argument("--scale", type=int, default=0, help="also run N perturbed records")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", choices=("fp", "fn"), help="print wrong links or misses")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="also choose the title thresholds on the other sets and report each set so",
    )
    parser.add_argument(
        "--scale-bib-dedupe",
        type=int,
        default=20000,
        help="records for bib-dedupe's scale run (0 = skip; it takes minutes at 20,000)",
    )
    parser.add_argument("--scale-child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--scale-child-bib-dedupe", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_child:
        print(json.dumps(scale_child(args.scale_child)))
        return 0
    if args.scale_child_bib_dedupe:
        print(json.dumps(scale_child_bib_dedupe(args.scale_child_bib_dedupe)))
        return 0
    rows = []
    loaded = {name: read_set(DATA / name) for name in args.sets}
    for name in args.sets:
        records, truth = loaded[name]
        ours, queued = run_casepool(records, truth)
        rows.append(_row(name, "casepool", ours, queued))
        if args.show:
            show(records, truth, args.show)
        if not args.no_bib_dedupe:
            rows.append(_row(name, "bib-dedupe 0.11.0", run_bib_dedupe(DATA / name, truth)))
        if name in PUBLISHED:
            fp, sens = PUBLISHED[name]
            rows.append(
                {"set": name, "tool": "bib-dedupe (published)", "FP": fp, "sensitivity": sens}
            )
    if args.held_out:
        rows += held_out({name: loaded.get(name) or read_set(DATA / name) for name in RATHBONE})
    if args.scale:
        rows.append(run_scale(args.scale))
        small = min(args.scale, args.scale_bib_dedupe)
        if small and not args.no_bib_dedupe:
            if small != args.scale:
                rows.append(run_scale(small))
            rows.append(run_scale(small, "bib-dedupe"))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print("  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


def show(records: list[Record], truth: list[list[str]], what: str) -> None:
    """Print the wrong links (fp) or the missed duplicates (fn) with their comparison."""
    from review.dedup.features import features
    from review.dedup.matching import compare

    result = deduplicate(list(enumerate(records)))
    sid = [r.source_id or "" for r in records]
    pos = {s: i for i, s in enumerate(sid)}
    cluster_of = {m: c.cluster_id for c in result.clusters for m in c.members}
    true_of = {i: n for n, s in enumerate(truth) for i in s}
    pairs = []
    if what == "fp":
        for c in result.clusters:
            for x in c.members:
                for y in c.members:
                    if x < y and (
                        true_of.get(sid[x]) is None or true_of.get(sid[x]) != true_of.get(sid[y])
                    ):
                        pairs.append((x, y))
    else:
        for true_set in truth:
            for one in true_set:
                for other in true_set:
                    px, py = pos[one], pos[other]
                    if px < py and cluster_of.get(px, -px - 1) != cluster_of.get(py, -py - 1):
                        pairs.append((px, py))
    for x, y in pairs:
        v = compare(features(records[x]), features(records[y]))
        print(f"--- {v.verdict} {v.score:.3f} {v.reason}")
        for r in (records[x], records[y]):
            authors = "; ".join(a.display for a in r.authors)[:50]
            print(
                f"   {r.source_id} | {(r.title or '')[:100]} | {r.year} | {authors} | "
                f"{(r.journal or '')[:35]} | v{r.volume} p{r.pages} | {r.record_type}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
